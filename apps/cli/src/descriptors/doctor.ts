import type { CommandModule } from 'yargs';
import { withLocalFlags } from '../local-flags.js';
import type { LocalArgs } from '../local-flags.js';

export type DoctorArgs = LocalArgs & { json?: boolean; executors?: boolean };

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'check the config, data directory, database, disk space, lock and executors, and say what to fix',
  builder: (y) =>
    withLocalFlags(y).option('json', { type: 'boolean', describe: 'print the checks as JSON' }).option('executors', {
      type: 'boolean',
      default: true,
      describe: 'probe the executor CLIs (--no-executors skips them)',
    }),
  handler: async (args) => (await import('../commands/doctor.js')).doctor(args),
};
