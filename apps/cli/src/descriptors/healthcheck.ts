import type { CommandModule } from 'yargs';

export interface HealthcheckArgs {
  addr?: string;
  timeout?: number;
  config?: string;
  data?: string;
}

export const healthcheckCommand: CommandModule<object, HealthcheckArgs> = {
  command: 'healthcheck',
  describe: 'exit 0 when the running service is alive and ready, 1 otherwise (for Docker HEALTHCHECK and scripts)',
  builder: (y) =>
    y
      .option('addr', {
        type: 'string',
        describe: 'URL of the service (default: $ALTER0_URL, else the configured listen address)',
      })
      .option('timeout', { type: 'number', default: 3, describe: 'seconds to wait for each answer' })
      .option('config', { type: 'string', describe: 'config file to read the listen address from' })
      .option('data', { type: 'string', alias: 'data-dir', describe: 'data directory whose config to read' }),
  handler: async (args) => (await import('../commands/healthcheck.js')).runHealthcheck(args),
};
