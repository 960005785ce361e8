import * as v from 'valibot';
import type { RouteDecisionKind } from '@alter0/core';
import { ROUTE_DECISIONS } from '@alter0/core';
import { clip, pickAnswerObject, summarizeIssues } from '@alter0/model-call';

const quote = (s: string): string => JSON.stringify(clip(s, 80));

export const ROUTE_REJECT_CODES = [
  'no_json',
  'multiple_conflicting_objects',
  'schema',
  'unknown_decision',
  'task_not_candidate',
  'missing_task_id',
  'confidence_out_of_range',
  'empty_reason',
] as const;
export type RouteRejectCode = (typeof ROUTE_REJECT_CODES)[number];

export interface RouteAnswer {
  decision: RouteDecisionKind;
  /** Set for `existing`; always null for `new` (a task id next to `new` means nothing). */
  taskId: string | null;
  confidence: number;
  reason: string;
}

export type RouteParse = { ok: true; value: RouteAnswer } | { ok: false; code: RouteRejectCode; detail: string };

const ROUTE_KEYS = ['decision', 'task_id', 'confidence', 'reason'] as const;

/** Types only; the value checks below give each failure its own reject code. */
const RouteShape = v.object({
  decision: v.string(),
  task_id: v.optional(v.nullable(v.string())),
  confidence: v.number(),
  reason: v.string(),
});

/**
 * Validates a router reply. Never throws and never guesses: anything but one well-formed answer
 * naming an offered candidate is rejected with a code.
 */
export function parseRouteOutput(raw: string, candidateIds: ReadonlySet<string>): RouteParse {
  const picked = pickAnswerObject(raw, ROUTE_KEYS);
  if (!picked.ok) return picked;
  const shape = v.safeParse(RouteShape, picked.object);
  if (!shape.success) return { ok: false, code: 'schema', detail: summarizeIssues(shape.issues) };
  const { decision, task_id: taskId, confidence, reason } = shape.output;
  if (!(ROUTE_DECISIONS as readonly string[]).includes(decision)) {
    return { ok: false, code: 'unknown_decision', detail: `decision ${quote(decision)} is not "existing" or "new"` };
  }
  if (!(confidence >= 0 && confidence <= 1)) {
    return { ok: false, code: 'confidence_out_of_range', detail: `confidence ${confidence} is outside 0..1` };
  }
  if (reason.trim() === '') return { ok: false, code: 'empty_reason', detail: 'reason is empty' };
  if (decision === 'new')
    return { ok: true, value: { decision: 'new', taskId: null, confidence, reason: reason.trim() } };
  if (taskId === undefined || taskId === null || taskId.trim() === '') {
    return { ok: false, code: 'missing_task_id', detail: 'decision "existing" without a task_id' };
  }
  if (!candidateIds.has(taskId)) {
    return {
      ok: false,
      code: 'task_not_candidate',
      detail: `task_id ${quote(taskId)} was not among the offered candidates`,
    };
  }
  return { ok: true, value: { decision: 'existing', taskId, confidence, reason: reason.trim() } };
}
