import type { CommandModule } from 'yargs';
import { withLocalFlags } from '../local-flags.js';
import type { LocalArgs } from '../local-flags.js';

export type InitArgs = LocalArgs & { file?: string; force?: boolean; 'print-only'?: boolean };

const init: CommandModule<object, InitArgs> = {
  command: 'init',
  describe:
    'create a random API token in a 0600 file (default <data_dir>/token) and set token_file, so every client must present it',
  builder: (y) =>
    withLocalFlags(y)
      .option('file', {
        type: 'string',
        describe: 'where to write the token (default: token_file if set, else <data_dir>/token)',
      })
      .option('force', {
        type: 'boolean',
        describe: 'replace an existing token file (clients holding the old token get 401)',
      })
      .option('print-only', { type: 'boolean', describe: 'do not change the config file; print the line to add' }),
  handler: async (a) => (await import('../commands/token.js')).initToken(a),
};

export const tokenCommand: CommandModule = {
  command: 'token <command>',
  describe: 'manage the API token clients present (token init)',
  builder: (y) => y.command(init as never).demandCommand(1, 'name a token command: init'),
  handler: () => undefined,
};
