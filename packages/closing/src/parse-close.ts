import * as v from 'valibot';
import { pickAnswerObject, summarizeIssues } from '@alter0/model-call';

export const CLOSE_REJECT_CODES = [
  'no_json',
  'multiple_conflicting_objects',
  'schema',
  'confidence_out_of_range',
  'empty_reason',
] as const;
export type CloseRejectCode = (typeof CLOSE_REJECT_CODES)[number];

export interface CloseAnswer {
  close: boolean;
  confidence: number;
  reason: string;
}

export type CloseParse = { ok: true; value: CloseAnswer } | { ok: false; code: CloseRejectCode; detail: string };

const CLOSE_KEYS = ['close', 'confidence', 'reason'] as const;

/** Types only; value checks below give each failure its own reject code. `"true"` is not a boolean. */
const CloseShape = v.object({ close: v.boolean(), confidence: v.number(), reason: v.string() });

/** Validates a closer reply. Never throws and never guesses. */
export function parseCloseOutput(raw: string): CloseParse {
  const picked = pickAnswerObject(raw, CLOSE_KEYS);
  if (!picked.ok) return picked;
  const shape = v.safeParse(CloseShape, picked.object);
  if (!shape.success) return { ok: false, code: 'schema', detail: summarizeIssues(shape.issues) };
  const { close, confidence, reason } = shape.output;
  if (!(confidence >= 0 && confidence <= 1)) {
    return { ok: false, code: 'confidence_out_of_range', detail: `confidence ${confidence} is outside 0..1` };
  }
  if (reason.trim() === '') return { ok: false, code: 'empty_reason', detail: 'reason is empty' };
  return { ok: true, value: { close, confidence, reason: reason.trim() } };
}
