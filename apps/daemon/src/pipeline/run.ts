import type { ErrorClass } from '@alter0/core';
import type { Fence, JobRow, MessageRow, Store, TaskRow, TimingField } from '@alter0/store';
import type { RunOutcome } from '@alter0/queue';
import type { RouteOutcome, Router } from '@alter0/routing';
import type { CloseOutcome, Closer } from '@alter0/closing';
import type { Logger, Metrics } from '@alter0/obs';
import type { CandidateSource } from '../candidates.js';
import type { Bus } from '../bus.js';
import type { ExecutorRegistry } from '../executors.js';
import type { RunApprovals } from '../approvals/service.js';
import type { withMemory } from '@alter0/memory';
import { storageRefusal } from '../errors.js';

export interface PipelineDeps {
  store: Store;
  executors: ExecutorRegistry;
  defaultExecutor: TaskRow['executor'];
  router: Router;
  candidates: CandidateSource;
  routerExecutor: TaskRow['executor'];
  closer: Closer | null;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  workspaceRoot: string;
  /** Where router and closer calls run: outside every task's workspace. */
  systemCwd: string;
  now: () => number;
  /** The owner's memory for new agent sessions: the preamble template and its cap (absent: none). */
  memory?: { template: Parameters<typeof withMemory>[0]; maxChars: number };
  /** Gives each agent run a token to ask the owner before it uses a tool (absent: runs cannot ask). */
  approvals?: RunApprovals;
  /** Waits before each further try of a reply write the database refused (default 1 s, 3 s, 10 s). */
  writeRetryDelaysMs?: readonly number[];
}

/** One attempt of a job, as every stage sees it. */
export interface JobRun {
  job: JobRow;
  fence: Fence;
  signal: AbortSignal;
  /** This attempt's deadline on `performance.now()`'s clock (the queue's timer, started at the claim, is the same). */
  deadline: number;
  message: MessageRow;
}

/** A stage either hands its result to the next one or ends the run with an outcome for the queue to record. */
export type Step<T> = { next: T } | { done: RunOutcome };

export function fail(errorClass: ErrorClass, message: string, stderrTail: string | null = null): RunOutcome {
  return { kind: 'failed', errorClass, message, stderrTail };
}

export function failed(
  errorClass: ErrorClass,
  message: string,
  stderrTail: string | null = null,
): { done: RunOutcome } {
  return { done: fail(errorClass, message, stderrTail) };
}

/** What every decision record (route or close) keeps of the model call behind it. */
export function modelCallRecord<O extends RouteOutcome | CloseOutcome>(o: O) {
  return {
    confidence: o.confidence,
    reason: o.reason,
    fallback: o.fallback,
    rejectCode: o.rejectCode,
    templateId: o.templateId,
    templateVersion: o.templateVersion,
    templateHash: o.templateHash,
    promptChars: o.promptChars,
    modelCalled: o.modelCalled,
    latencyMs: o.latencyMs,
    rawOutput: o.rawOutput,
    errorClass: o.errorClass,
  };
}

/**
 * A stage's duration is a note on the job, not part of its work: a write the database refuses (another program
 * holds it, the disk is full) loses the figure, never the job or the agent's answer.
 */
export function noteTiming(deps: PipelineDeps, fence: Fence, field: TimingField, ms: number, log: Logger): void {
  try {
    deps.store.jobs.recordTiming(fence, field, ms, deps.now());
  } catch (err) {
    if (storageRefusal(err) === null) throw err;
    log.warn('the database refused the stage timing; the job goes on without it', { err, field });
  }
}
