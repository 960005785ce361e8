export { until, untilText, UntilTimeoutError, DEFAULT_UNTIL_MS } from './until.js';
export type { UntilOptions, Wake } from './until.js';
export {
  ALTER0_BIN,
  START_TIMEOUT_MS,
  DaemonStartError,
  exitOf,
  inheritedEnv,
  startDaemon,
  tempDir,
} from './daemon.js';
export type { Daemon, DaemonOptions, Exit } from './daemon.js';
export {
  alive,
  groupGone,
  killGroups,
  liveGroupMembers,
  liveInGroups,
  liveProcess,
  liveProcesses,
  liveProcessesIn,
  processesUnder,
} from './procs.js';
export type { ProcInfo, ProcessUnder } from './procs.js';
export { longTests } from './long.js';
export { deaf, failing, replying, slow, throwingPlain } from './fake-executors.js';
export type { FakeExecutor } from './fake-executors.js';
