import type { Argv } from 'yargs';
import { usePrivateUmask } from './private-umask.js';

/** Flags shared by every command that reads the local configuration (serve, doctor, db ...). */
export interface LocalArgs {
  config?: string;
  data?: string;
  listen?: string;
  executor?: string;
  command?: string;
  set?: string[];
  'log-level'?: string;
}

/**
 * The flags, and umask 077 for the command (local commands write into the data directory). Kept apart from
 * loading the config: the command descriptors use it, and they load nothing but yargs.
 */
export function withLocalFlags<T>(y: Argv<T>): Argv<T & LocalArgs> {
  return y
    .middleware(usePrivateUmask)
    .option('config', { type: 'string', describe: 'config file (TOML, or JSON when it ends in .json)' })
    .option('data', {
      type: 'string',
      alias: 'data-dir',
      describe: 'data directory (database, logs, backups, workspaces)',
    })
    .option('listen', { type: 'string', describe: 'address to listen on, host:port' })
    .option('executor', { type: 'string', choices: ['claude', 'codex', 'command'], describe: 'default executor' })
    .option('command', {
      type: 'string',
      describe: "the command executor's program and arguments, e.g. 'node agent.js' (implies --executor command)",
    })
    .option('set', { type: 'string', array: true, describe: 'override any setting: --set queue.interactive_workers=4' })
    .option('log-level', { type: 'string', choices: ['debug', 'info', 'warn', 'error'] });
}
