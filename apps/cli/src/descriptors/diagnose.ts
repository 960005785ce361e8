import type { CommandModule } from 'yargs';
import { withLocalFlags } from '../local-flags.js';
import type { LocalArgs } from '../local-flags.js';

export type DiagnoseArgs = LocalArgs & { since?: string; json?: boolean };

export const diagnoseCommand: CommandModule<object, DiagnoseArgs> = {
  command: 'diagnose',
  describe: 'recent failures grouped by component and class, with what to do about each',
  builder: (y) =>
    withLocalFlags(y).option('since', { type: 'string', default: '24h' }).option('json', { type: 'boolean' }),
  handler: async (a) => (await import('../commands/diagnose.js')).diagnose(a),
};
