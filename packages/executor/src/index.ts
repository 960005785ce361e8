export { createExecutor } from './create-executor.js';
export { executorConfigFor, configuredExecutors, judgeConfigFor } from './executor-config.js';
export { WARM_NICE, WarmJudge, warmArgv } from './warm-judge.js';
export type { WarmJudgeOptions, WarmJudgeStats } from './warm-judge.js';
export type {
  ExecutorConfig,
  ExecutorCommonOptions,
  ClaudeExecutorConfig,
  CodexExecutorConfig,
  CommandExecutorConfig,
  ExecutorDeps,
} from './config.js';
export { ProcessGroups, RunGroups, jobProcesses, killJobProcesses, startTime, treeGroups } from './process-group.js';
export { JOB_ID_ENV, ALWAYS_DROPPED, EnvFilter } from './child-env.js';
export { redacting } from './redacting.js';
export { SessionNotFoundError } from './session-lost.js';
export { classifyFailure, classifyStatus, failureMessage } from './classify.js';
export type { ErrorPayload, FailureEvidence } from './classify.js';
export { runProcess, terminateGroup, spawnInProcess, DEFAULT_RUNNER_OPTIONS } from './run-process.js';
export type { RunSpec, RunnerOptions, RunOutcome, SpawnFn, SpawnedChild, SpawnRequest } from './run-process.js';
export { claudeArgv } from './claude-executor.js';
export { codexArgv } from './codex-executor.js';
export { Spawner } from './spawner.js';
export type { SpawnerOptions } from './spawner.js';
