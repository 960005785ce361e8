import type { CommandModule } from 'yargs';
import type { ClientArgs } from './client.js';
import { withClientFlags } from './client.js';

export type UsageArgs = ClientArgs & { since: string; by: 'day' | 'task'; limit?: number };

/** `alter0 usage [--since 7d|ISO] [--by day|task] [--json]`: tokens and cost of the jobs that ended since. */
const usage: CommandModule<object, UsageArgs> = {
  command: 'usage',
  describe: 'tokens and cost (as the agents reported them) of the jobs that ended since --since, by day or by task',
  builder: (y) =>
    withClientFlags(y)
      .option('since', {
        type: 'string',
        default: '7d',
        describe: 'a duration back from now (7d, 24h) or an ISO date or time (2026-11-01, 2026-11-01T09:00:00Z)',
      })
      .option('by', { type: 'string', choices: ['day', 'task'] as const, default: 'day' as const })
      .option('limit', {
        type: 'number',
        describe: '--by task: at most this many tasks, most cost first (default 100)',
      }),
  handler: async (a) => (await import('../commands/usage.js')).usage(a),
};

export const usageCommands = [usage] as CommandModule[];
