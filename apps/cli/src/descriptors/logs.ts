import type { CommandModule } from 'yargs';
import { withLocalFlags } from '../local-flags.js';
import type { LocalArgs } from '../local-flags.js';

export type LogsArgs = LocalArgs & {
  task?: string;
  job?: string;
  since?: string;
  level?: string;
  follow?: boolean;
  grep?: string;
  json?: boolean;
};

export const logsCommand: CommandModule<object, LogsArgs> = {
  command: 'logs',
  describe: "filter the service's structured log (the files under <data>/logs)",
  builder: (y) =>
    withLocalFlags(y)
      .option('task', { type: 'string', describe: 'only records of this task' })
      .option('job', { type: 'string', describe: 'only records of this job' })
      .option('since', { type: 'string', describe: 'only the last DURATION, e.g. 15m, 2h, 1d' })
      .option('level', { type: 'string', choices: ['debug', 'info', 'warn', 'error'], describe: 'minimum level' })
      .option('grep', { type: 'string', describe: 'a regular expression the raw line must match' })
      .option('follow', { type: 'boolean', alias: 'f', describe: 'keep printing new records' })
      .option('json', { type: 'boolean', describe: 'print the raw JSON records' }),
  handler: async (a) => (await import('../commands/logs.js')).logs(a),
};
