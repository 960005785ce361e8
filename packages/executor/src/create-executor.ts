import type { Executor } from '@alter0/core';
import { ConfigError } from '@alter0/core';
import { createClaudeExecutor } from './claude-executor.js';
import { createCodexExecutor } from './codex-executor.js';
import { createCommandExecutor } from './command-executor.js';
import type { ExecutorConfig, ExecutorDeps } from './config.js';
import { adapterRuntime } from './runtime.js';

/** Build the executor a config names. Throws ConfigError for configs no run could succeed with. */
export function createExecutor(config: ExecutorConfig, deps: ExecutorDeps = {}): Executor {
  checkCommon(config);
  const rt = adapterRuntime(config, deps);
  switch (config.kind) {
    case 'claude':
      return createClaudeExecutor(config, rt);
    case 'codex':
      return createCodexExecutor(config, rt);
    case 'command':
      if (config.argv.length === 0 || config.argv[0] === '') {
        throw new ConfigError('executor "command" needs argv with at least the program, e.g. ["my-agent", "--flag"]');
      }
      return createCommandExecutor(config, rt);
  }
}

function checkCommon(config: ExecutorConfig): void {
  const positive = (name: string, value: number | undefined): void => {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new ConfigError(`executor "${config.kind}": ${name} must be a positive number, got ${value}`);
    }
  };
  positive('killGraceMs', config.killGraceMs);
  positive('maxStdoutBytes', config.maxStdoutBytes);
  if (config.kind !== 'command' && config.bin === '') {
    throw new ConfigError(`executor "${config.kind}": bin is empty; omit it to use "${config.kind}" from PATH`);
  }
}
