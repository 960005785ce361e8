import type { ExecutorKind } from '@alter0/core';
import type { Config } from '@alter0/config';
import type { ExecutorConfig } from './config.js';

/*
 * The mapping from the config file's `executor` table to the adapters' settings lives here, with the settings'
 * shape (ExecutorConfig): a new adapter option is added to both in one package.
 */

/** The configuration's settings for one executor kind, in the shape `createExecutor` takes (daemon, doctor, eval). */
export function executorConfigFor(config: Config, kind: ExecutorKind): ExecutorConfig {
  const shared = {
    killGraceMs: config.executor.kill_grace_ms,
    maxStdoutBytes: config.executor.max_output_bytes,
    env: config.executor.env,
    envDrop: config.executor.env_drop,
  };
  switch (kind) {
    case 'claude':
      return {
        kind,
        bin: config.executor.claude.bin,
        args: config.executor.claude.args,
        model: config.executor.claude.model,
        ...shared,
      };
    case 'codex':
      return {
        kind,
        bin: config.executor.codex.bin,
        args: config.executor.codex.args,
        model: config.executor.codex.model,
        approvals: config.approvals.mode,
        ...shared,
      };
    case 'command':
      return { kind, argv: config.executor.command.argv, ...shared };
  }
}

/**
 * The settings of the router's or closer's calls: the executor of that stage with the stage's own `model` and
 * `args` when set (`router.model`, `router.args` …), else the executor's.
 */
export function judgeConfigFor(config: Config, stage: 'route' | 'close'): ExecutorConfig {
  const judge = stage === 'route' ? config.router : config.closer;
  const base = executorConfigFor(config, judge.executor);
  if (base.kind === 'command') return base;
  return {
    ...base,
    ...(judge.model === '' ? {} : { model: judge.model }),
    ...(judge.args === undefined ? {} : { args: judge.args }),
  };
}

/** The executors a configuration uses: the default one, the router's and (when enabled) the closer's. */
export function configuredExecutors(config: Config): ExecutorKind[] {
  const kinds = new Set<ExecutorKind>([config.executor.default, config.router.executor]);
  if (config.closer.enabled) kinds.add(config.closer.executor);
  return [...kinds];
}
