import type { JobRow, RetryResult, Store } from '@alter0/store';
import type { Lane } from '@alter0/core';
import type { Bus } from './bus.js';

export interface JobActionDeps {
  store: Store;
  bus: Bus;
  now(): number;
  wake(lane: Lane): void;
  /** Aborts a running job in this process (after the cancel was recorded). */
  cancelRunning(jobId: string): void;
}

/** The owner's cancel (API, CLI, Telegram): a queued job ends now, a running one is aborted by its worker. */
export function cancelJob(d: JobActionDeps, id: string): JobRow {
  const r = d.store.jobs.requestCancel(id, d.now());
  if (!r.immediate) d.cancelRunning(id);
  d.bus.job(id);
  return d.store.jobs.mustGet(id);
}

/** The owner's retry of a failed or canceled job: idempotent (a second request finds the first retry). */
export function retryJob(d: JobActionDeps, id: string): RetryResult {
  const r = d.store.jobs.retry(id, d.now());
  if (r.created) {
    d.wake(r.job.lane);
    d.bus.job(r.job.id);
  }
  return r;
}
