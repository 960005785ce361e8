import type { CommandModule } from 'yargs';
import type { ClientArgs } from './client.js';
import { withClientFlags } from './client.js';

export type ScheduleArgs = ClientArgs & {
  action: string;
  rest: string[];
  cron?: string;
  every?: string;
  at?: string;
  tz?: string;
  task?: string;
  lane?: 'interactive' | 'background';
};

const ACTIONS = ['add', 'list', 'show', 'rm', 'pause', 'resume', 'run-now'];

/**
 * `alter0 schedule add (--cron EXPR [--tz ZONE] | --every DURATION | --at TIME) [--task ID] [--lane L] TEXT |
 * list | show ID | rm ID | pause ID | resume ID | run-now ID`: work that starts by itself.
 */
const schedule: CommandModule<object, ScheduleArgs> = {
  command: 'schedule <action> [rest..]',
  describe:
    'work that starts by itself: schedule add (--cron EXPR [--tz ZONE] | --every DURATION | --at TIME) ' +
    '[--task ID] [--lane L] TEXT | list | show ID | rm ID | pause ID | resume ID | run-now ID',
  builder: (y) =>
    withClientFlags(y)
      .positional('action', { type: 'string', choices: ACTIONS, demandOption: true })
      .positional('rest', { type: 'string', array: true, default: [] })
      .option('cron', {
        type: 'string',
        describe: 'add: a cron pattern, "minute hour day month weekday" (e.g. "0 9 * * 1-5")',
      })
      .option('tz', {
        type: 'string',
        describe: "add: the IANA zone of --cron or of a zone-less --at (default: the service's)",
      })
      .option('every', { type: 'string', describe: 'add: a period, 10s or more (e.g. "30m", "24h")' })
      .option('at', {
        type: 'string',
        describe: 'add: once, at an ISO time ("2026-12-24T09:00"), the next "HH:MM", or "+DURATION" from now',
      })
      .option('task', {
        type: 'string',
        describe: 'add: every firing goes to this task (default: routed like any message)',
      })
      .option('lane', {
        type: 'string',
        choices: ['interactive', 'background'] as const,
        describe: 'add: the queue lane of its jobs (default background)',
      })
      .conflicts('cron', ['every', 'at'])
      .conflicts('every', 'at'),
  handler: async (a) => (await import('../commands/schedule.js')).schedule(a),
};

export const scheduleCommands = [schedule] as CommandModule[];
