export { startDaemon, apiToken } from './daemon.js';
export type { Daemon, DaemonOptions } from './daemon.js';
export { buildInfo } from './version.js';
export type { BuildInfo } from './version.js';
export { createApi } from './api.js';
export type { ApiDeps } from './api.js';
export { ExecutorRegistry } from './executors.js';
export { sweepStale } from './stale-sweep.js';
export { Bus } from './bus.js';
