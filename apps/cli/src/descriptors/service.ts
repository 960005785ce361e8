import type { CommandModule } from 'yargs';

/** The system unit keeps its data where StateDirectory=alter0 puts it. */
export const SYSTEM_DATA_DIR = '/var/lib/alter0';

export interface ServiceInstallArgs {
  user?: boolean;
  config?: string;
  data?: string;
  'dry-run'?: boolean;
}

export const serviceCommand: CommandModule<object, object> = {
  command: 'service',
  describe: 'run alter0 under systemd',
  builder: (y) =>
    y
      .command<ServiceInstallArgs>({
        command: 'install',
        describe: 'write a systemd unit for this checkout (system service by default, --user for your own)',
        builder: (b) =>
          b
            .option('user', {
              type: 'boolean',
              describe: 'a user service (~/.config/systemd/user), running as you with your agent logins',
            })
            .option('config', { type: 'string', describe: 'config file the service reads' })
            .option('data', {
              type: 'string',
              alias: 'data-dir',
              describe: `data directory (system default: ${SYSTEM_DATA_DIR}; user default: the config's)`,
            })
            .option('dry-run', { type: 'boolean', describe: 'print the unit to stdout instead of writing it' }),
        handler: async (a) => (await import('../commands/service.js')).install(a),
      })
      .demandCommand(1, 'name a service command: install'),
  handler: () => {},
};
