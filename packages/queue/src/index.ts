export { WorkerPool } from './pool.js';
export type { JobHandler, PoolHooks, PoolOptions, RunContext, RunOutcome } from './pool.js';
export { JobAbort, abortCauseOf } from './abort.js';
export type { AbortCause } from './abort.js';
