export { WorkerPool } from './pool.js';
export type { JobHandler, PoolHooks, PoolOptions, RunContext, RunOutcome } from './pool.js';
export { backoffDelayMs } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { JobAbort, abortCauseOf } from './abort.js';
export type { AbortCause } from './abort.js';
