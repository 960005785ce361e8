import { isAbsolute, resolve } from 'node:path';
import type { Executor } from '@alter0/core';
import { ConfigError } from '@alter0/core';
import { createClaudeExecutor } from './claude-executor.js';
import { createCodexExecutor } from './codex-executor.js';
import { createCommandExecutor } from './command-executor.js';
import type { ExecutorConfig, ExecutorDeps } from './config.js';
import { adapterRuntime } from './runtime.js';
import { redacting } from './redacting.js';

/** Build the executor a config names. Throws ConfigError for configs no run could succeed with. */
export function createExecutor(config: ExecutorConfig, deps: ExecutorDeps = {}): Executor {
  const executor = createAdapter(config, deps);
  return deps.redact === undefined ? executor : redacting(executor, deps.redact);
}

function createAdapter(config: ExecutorConfig, deps: ExecutorDeps): Executor {
  checkCommon(config);
  const rt = adapterRuntime(config, deps);
  switch (config.kind) {
    case 'claude':
      return createClaudeExecutor(
        { ...config, ...(config.bin === undefined ? {} : { bin: anchorProgram(config.bin) }) },
        rt,
      );
    case 'codex':
      return createCodexExecutor(
        { ...config, ...(config.bin === undefined ? {} : { bin: anchorProgram(config.bin) }) },
        rt,
      );
    case 'command': {
      const [program, ...args] = config.argv;
      if (program === undefined || program === '') {
        throw new ConfigError('executor "command" needs argv with at least the program, e.g. ["my-agent", "--flag"]');
      }
      return createCommandExecutor({ ...config, argv: [anchorProgram(program), ...args] }, rt);
    }
  }
}

/**
 * A relative program path ("./bin/agent") means relative to where alter0 was started, not to
 * each task's workspace (the child's cwd), so probe and every run find the same file.
 */
export function anchorProgram(program: string): string {
  return program.includes('/') && !isAbsolute(program) ? resolve(program) : program;
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
