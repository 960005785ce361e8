import type { CommandModule } from 'yargs';
import { withLocalFlags } from '../local-flags.js';
import type { LocalArgs } from '../local-flags.js';

export type ServeArgs = LocalArgs & { 'print-config'?: boolean };

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'run the alter0 service in this process (HTTP API, console, workers)',
  builder: (y) =>
    withLocalFlags(y).option('print-config', {
      type: 'boolean',
      describe: 'print every setting with where it came from, then exit',
    }),
  handler: async (args) => (await import('../commands/serve.js')).serve(args),
};
