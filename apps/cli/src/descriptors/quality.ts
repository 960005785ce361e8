import type { CommandModule } from 'yargs';
import { withLocalFlags } from '../local-flags.js';
import type { LocalArgs } from '../local-flags.js';

export interface PromptsArgs {
  action: 'list' | 'show';
  ref?: string;
  json?: boolean;
}

export interface DecisionsArgs {
  task?: string;
  kind?: 'route' | 'close';
  limit?: number;
  json?: boolean;
  addr?: string;
}

export type EvalArgs = LocalArgs & {
  kind: 'routing' | 'closing';
  cases: string;
  'eval-executor'?: string;
  'min-pass'?: number;
  json?: boolean;
  template?: string;
};

const prompts: CommandModule = {
  command: 'prompts <action> [ref]',
  describe: 'list the router/closer prompt templates, or show one (prompts show router@v1)',
  builder: (y) =>
    y
      .positional('action', { choices: ['list', 'show'] as const, demandOption: true })
      .positional('ref', { type: 'string', describe: 'ID@VERSION' })
      .option('json', { type: 'boolean' }),
  handler: async (a) => (await import('../commands/quality.js')).prompts(a as unknown as PromptsArgs),
};

const decisions: CommandModule<object, DecisionsArgs> = {
  command: 'decisions',
  describe: 'list routing and close decisions (newest first)',
  builder: (y) =>
    y
      .option('task', { type: 'string' })
      .option('kind', { choices: ['route', 'close'] as const })
      .option('limit', { type: 'number', default: 30 })
      .option('addr', { type: 'string' })
      .option('json', { type: 'boolean' }),
  handler: async (a) => (await import('../commands/quality.js')).decisions(a),
};

const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval <kind>',
  describe: 'score the router or closer on a regression set (replay: recorded model outputs; or a real executor)',
  builder: (y) =>
    withLocalFlags(y)
      .positional('kind', { choices: ['routing', 'closing'] as const, demandOption: true })
      .option('cases', { type: 'string', demandOption: true, describe: 'a .jsonl file or a directory of them' })
      .option('eval-executor', {
        type: 'string',
        alias: 'with',
        choices: ['replay', 'claude', 'codex', 'command'],
        default: 'replay',
        describe: "who answers: the case's recorded model_output (replay) or a real executor from the config",
      })
      .option('template', { type: 'string', describe: 'template version (default: the configured one)' })
      .option('min-pass', { type: 'number', describe: 'exit non-zero when the overall pass rate is below this (0..1)' })
      .option('json', { type: 'boolean' }),
  handler: async (a) => (await import('../commands/quality.js')).evaluate(a),
};

export const qualityCommands = [
  prompts,
  decisions as unknown as CommandModule,
  evalCommand as unknown as CommandModule,
];
