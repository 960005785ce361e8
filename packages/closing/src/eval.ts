import * as v from 'valibot';
import type { Executor } from '@alter0/core';
import { MESSAGE_ROLES } from '@alter0/core';
import type { PromptTemplate, RateCount } from '@alter0/model-call';
import { loadJsonLines, rate, rateByCategory } from '@alter0/model-call';
import type { CloseOutcome } from './closer.js';
import { Closer } from './closer.js';
import { CLOSE_REJECT_CODES } from './parse-close.js';

const Line = v.object({ role: v.picklist(MESSAGE_ROLES), content: v.string() });

const CloseCaseSchema = v.object({
  id: v.pipe(v.string(), v.minLength(1)),
  category: v.pipe(v.string(), v.minLength(1)),
  task: v.object({ id: v.string(), title: v.string(), summary: v.optional(v.string(), ''), recent: v.array(Line) }),
  last_user: v.string(),
  last_assistant: v.string(),
  expect: v.object({
    close: v.boolean(),
    /** Optional stricter expectations, checked only when present. */
    fallback: v.optional(v.nullable(v.picklist(['low_confidence', 'invalid_output', 'executor_error', 'timeout']))),
    reject_code: v.optional(v.nullable(v.picklist(CLOSE_REJECT_CODES))),
  }),
  model_output: v.optional(v.string()),
});

export type CloseCase = v.InferOutput<typeof CloseCaseSchema> & { source: string };

/** Reads closing cases from a `.jsonl` file or every `*.jsonl` in a directory; throws CaseFileError listing bad lines. */
export function loadCloseCases(pathOrDir: string): CloseCase[] {
  return loadJsonLines(pathOrDir, CloseCaseSchema);
}

export interface CloseCaseResult {
  id: string;
  category: string;
  source: string;
  passed: boolean;
  /** Closed a task that should have stayed open (the costly mistake). */
  falseClose: boolean;
  expected: { close: boolean; fallback?: string | null; rejectCode?: string | null };
  got: Pick<CloseOutcome, 'close' | 'confidence' | 'fallback' | 'rejectCode' | 'reason'>;
}

export interface CloseEvalReport extends RateCount {
  byCategory: Record<string, RateCount>;
  /** false closes / cases that expect the task to stay open; 0 when there are none. */
  falseCloseRate: number;
  /** missed closes / cases that expect a close; 0 when there are none. */
  missedCloseRate: number;
  results: CloseCaseResult[];
}

export interface EvaluateClosingOptions {
  executorFor(c: CloseCase): Executor;
  threshold: number;
  template: PromptTemplate;
  timeoutMs?: number;
  cwd?: string;
  signal?: AbortSignal;
}

/** Runs every case through a real Closer (replay or live executor) and scores the outcomes. */
export async function evaluateClosing(
  cases: readonly CloseCase[],
  opts: EvaluateClosingOptions,
): Promise<CloseEvalReport> {
  const signal = opts.signal ?? new AbortController().signal;
  const results: CloseCaseResult[] = [];
  for (const c of cases) {
    const closer = new Closer({
      executor: opts.executorFor(c),
      template: opts.template,
      threshold: opts.threshold,
      timeoutMs: opts.timeoutMs ?? 120_000,
    });
    const out = await closer.judge({
      task: c.task,
      lastUser: c.last_user,
      lastAssistant: c.last_assistant,
      cwd: opts.cwd ?? process.cwd(),
      jobId: null,
      signal,
    });
    let passed = out.close === c.expect.close;
    if (c.expect.fallback !== undefined && out.fallback !== c.expect.fallback) passed = false;
    if (c.expect.reject_code !== undefined && out.rejectCode !== c.expect.reject_code) passed = false;
    results.push({
      id: c.id,
      category: c.category,
      source: c.source,
      passed,
      falseClose: out.close && !c.expect.close,
      expected: {
        close: c.expect.close,
        ...(c.expect.fallback !== undefined ? { fallback: c.expect.fallback } : {}),
        ...(c.expect.reject_code !== undefined ? { rejectCode: c.expect.reject_code } : {}),
      },
      got: {
        close: out.close,
        confidence: out.confidence,
        fallback: out.fallback,
        rejectCode: out.rejectCode,
        reason: out.reason,
      },
    });
  }
  const byCategory = rateByCategory(results);
  const passed = results.filter((r) => r.passed).length;
  const shouldStayOpen = results.filter((r) => !r.expected.close);
  const shouldClose = results.filter((r) => r.expected.close);
  return {
    total: results.length,
    passed,
    passRate: rate(passed, results.length),
    byCategory,
    falseCloseRate: rate(shouldStayOpen.filter((r) => r.falseClose).length, shouldStayOpen.length),
    missedCloseRate: rate(shouldClose.filter((r) => !r.got.close).length, shouldClose.length),
    results,
  };
}
