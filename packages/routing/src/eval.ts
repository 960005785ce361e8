import * as v from 'valibot';
import type { Executor } from '@alter0/core';
import { MESSAGE_ROLES, ROUTE_DECISIONS, ROUTE_FALLBACKS } from '@alter0/core';
import type { PromptTemplate, RateCount } from '@alter0/model-call';
import { loadJsonLines, rate, rateByCategory } from '@alter0/model-call';
import { ROUTE_REJECT_CODES } from './parse-route.js';
import type { CandidateTask } from './rank.js';
import { rankCandidates } from './rank.js';
import { offersClosedTasks } from './render-route.js';
import type { RouteOutcome } from './router.js';
import { Router } from './router.js';

const Timestamp = v.pipe(
  v.string(),
  v.check((s) => !Number.isNaN(Date.parse(s)), 'expected an RFC 3339 timestamp'),
);
const Line = v.object({ role: v.picklist(MESSAGE_ROLES), content: v.string() });

const RoutingCaseSchema = v.object({
  id: v.pipe(v.string(), v.minLength(1)),
  category: v.pipe(v.string(), v.minLength(1)),
  open_tasks: v.array(
    v.object({
      id: v.string(),
      title: v.string(),
      summary: v.optional(v.string(), ''),
      recent: v.array(Line),
      updated_at: Timestamp,
      /** A recently closed task (a candidate marked closed; choosing it reopens it): needs `closed_at`. */
      state: v.optional(v.picklist(['open', 'closed']), 'open'),
      closed_at: v.optional(Timestamp),
      close_reason: v.optional(v.string(), ''),
    }),
  ),
  message: v.object({
    content: v.string(),
    channel_id: v.optional(v.string()),
    user_id: v.optional(v.string()),
    task_id: v.optional(v.nullable(v.string())),
  }),
  expect: v.object({
    decision: v.picklist(ROUTE_DECISIONS),
    task_id: v.optional(v.nullable(v.string())),
    /** Optional stricter expectations, checked only when present. */
    fallback: v.optional(v.nullable(v.picklist(ROUTE_FALLBACKS))),
    reject_code: v.optional(v.nullable(v.picklist(ROUTE_REJECT_CODES))),
  }),
  model_output: v.optional(v.string()),
  /** The clock for ranking; default: one minute after the newest task update, so replays are deterministic. */
  now: v.optional(Timestamp),
});

export type RoutingCase = v.InferOutput<typeof RoutingCaseSchema> & { source: string };

/** Reads routing cases from a `.jsonl` file or every `*.jsonl` in a directory; throws CaseFileError listing bad lines. */
export function loadCases(pathOrDir: string): RoutingCase[] {
  return loadJsonLines(pathOrDir, RoutingCaseSchema, (c) => {
    if (c.expect.decision === 'existing' && (c.expect.task_id ?? null) === null)
      return 'expect.decision "existing" needs expect.task_id';
    const undated = c.open_tasks.find((t) => (t.state === 'closed') !== (t.closed_at !== undefined));
    if (undated !== undefined)
      return `open_tasks ${undated.id}: "closed_at" goes with "state": "closed", and only there`;
    return null;
  });
}

export interface RoutingCaseResult {
  id: string;
  category: string;
  source: string;
  passed: boolean;
  /** Attached to an existing task other than the expected one (the costly mistake). */
  wrongAttach: boolean;
  /** Whether the expected task was in the local top-K; null when not applicable. */
  recalled: boolean | null;
  expected: { decision: string; taskId: string | null; fallback?: string | null; rejectCode?: string | null };
  got: Pick<RouteOutcome, 'decision' | 'taskId' | 'confidence' | 'fallback' | 'rejectCode' | 'reason' | 'modelCalled'>;
}

export interface EvalReport extends RateCount {
  byCategory: Record<string, RateCount>;
  /** wrong attaches / all cases. */
  wrongAttachRate: number;
  /** Over cases that expect an existing task without an explicit reference; null if there are none. */
  recallAtK: number | null;
  k: number;
  results: RoutingCaseResult[];
}

export interface EvaluateRoutingOptions {
  executorFor(c: RoutingCase): Executor;
  threshold: number;
  maxCandidates: number;
  template: PromptTemplate;
  timeoutMs?: number;
  cwd?: string;
  signal?: AbortSignal;
}

function caseTasks(c: RoutingCase): CandidateTask[] {
  return c.open_tasks.map((t) => ({
    id: t.id,
    title: t.title,
    summary: t.summary,
    updatedAt: new Date(t.updated_at),
    recent: t.recent,
    ...(t.state === 'closed' ? { closed: { at: new Date(t.closed_at ?? t.updated_at), reason: t.close_reason } } : {}),
  }));
}

function caseNow(c: RoutingCase, tasks: readonly CandidateTask[]): Date {
  if (c.now !== undefined) return new Date(c.now);
  const newest = Math.max(0, ...tasks.map((t) => t.updatedAt.getTime()));
  return new Date(newest + 60_000);
}

/** Runs every case through a real Router (replay or live executor) and scores the outcomes. */
export async function evaluateRouting(
  cases: readonly RoutingCase[],
  opts: EvaluateRoutingOptions,
): Promise<EvalReport> {
  const signal = opts.signal ?? new AbortController().signal;
  const results: RoutingCaseResult[] = [];
  for (const c of cases) {
    const tasks = caseTasks(c);
    const now = caseNow(c, tasks);
    const router = new Router({
      executor: opts.executorFor(c),
      template: opts.template,
      threshold: opts.threshold,
      maxCandidates: opts.maxCandidates,
      timeoutMs: opts.timeoutMs ?? 120_000,
      now: () => now,
    });
    const explicitTaskId = c.message.task_id ?? null;
    const out = await router.route({
      message: c.message.content,
      explicitTaskId,
      openTasks: tasks,
      cwd: opts.cwd ?? process.cwd(),
      jobId: null,
      signal,
    });
    const expectedTask = c.expect.decision === 'existing' ? (c.expect.task_id ?? null) : null;
    let passed = out.decision === c.expect.decision && out.taskId === expectedTask;
    if (c.expect.fallback !== undefined && out.fallback !== c.expect.fallback) passed = false;
    if (c.expect.reject_code !== undefined && out.rejectCode !== c.expect.reject_code) passed = false;
    const needsRanking = expectedTask !== null && explicitTaskId === null && out.fallback !== 'explicit';
    // Recall over what the router offers: a template that does not know closed tasks never sees them.
    const offered = offersClosedTasks(opts.template) ? tasks : tasks.filter((t) => t.closed === undefined);
    const recalled = needsRanking
      ? rankCandidates(c.message.content, offered, { now, limit: opts.maxCandidates }).some(
          (r) => r.id === expectedTask,
        )
      : null;
    results.push({
      id: c.id,
      category: c.category,
      source: c.source,
      passed,
      wrongAttach: out.taskId !== null && out.fallback !== 'explicit' && out.taskId !== expectedTask,
      recalled,
      expected: {
        decision: c.expect.decision,
        taskId: expectedTask,
        ...(c.expect.fallback !== undefined ? { fallback: c.expect.fallback } : {}),
        ...(c.expect.reject_code !== undefined ? { rejectCode: c.expect.reject_code } : {}),
      },
      got: {
        decision: out.decision,
        taskId: out.taskId,
        confidence: out.confidence,
        fallback: out.fallback,
        rejectCode: out.rejectCode,
        reason: out.reason,
        modelCalled: out.modelCalled,
      },
    });
  }
  const byCategory = rateByCategory(results);
  const passed = results.filter((r) => r.passed).length;
  const recallable = results.filter((r) => r.recalled !== null);
  return {
    total: results.length,
    passed,
    passRate: rate(passed, results.length),
    byCategory,
    wrongAttachRate: rate(results.filter((r) => r.wrongAttach).length, results.length),
    recallAtK: recallable.length === 0 ? null : rate(recallable.filter((r) => r.recalled).length, recallable.length),
    k: opts.maxCandidates,
    results,
  };
}
