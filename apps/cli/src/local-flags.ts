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

/** One flag of LOCAL_FLAGS: what yargs shows and checks, and what `alter0 serve`'s fast start parses. */
export interface LocalFlag {
  type: 'string';
  describe: string;
  alias?: string;
  array?: true;
  choices?: readonly string[];
}

/** The flags every local command takes, as data: yargs builds them from this, and so does `serve`'s fast start. */
export const LOCAL_FLAGS: Readonly<Record<keyof LocalArgs, LocalFlag>> = {
  config: { type: 'string', describe: 'config file (TOML, or JSON when it ends in .json)' },
  data: { type: 'string', alias: 'data-dir', describe: 'data directory (database, logs, backups, workspaces)' },
  listen: { type: 'string', describe: 'address to listen on, host:port' },
  executor: { type: 'string', choices: ['claude', 'codex', 'command'], describe: 'default executor' },
  command: {
    type: 'string',
    describe: "the command executor's program and arguments, e.g. 'node agent.js' (implies --executor command)",
  },
  set: { type: 'string', array: true, describe: 'override any setting: --set queue.interactive_workers=4' },
  'log-level': { type: 'string', choices: ['debug', 'info', 'warn', 'error'], describe: 'log level' },
};

/**
 * The flags, and umask 077 for the command (local commands write into the data directory). Kept apart from
 * loading the config: the command descriptors use it, and they load nothing but yargs.
 */
export function withLocalFlags<T>(y: Argv<T>): Argv<T & LocalArgs> {
  let out = y.middleware(usePrivateUmask);
  for (const [key, flag] of Object.entries(LOCAL_FLAGS))
    out = out.option(key, { ...flag, choices: flag.choices ? [...flag.choices] : undefined });
  return out as Argv<T & LocalArgs>;
}
