import type { Argv } from 'yargs';
import type { FlagOverrides, LoadedConfig } from '@alter0/config';
import { loadConfig } from '@alter0/config';
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

/** The flags, and umask 077 for the command (local commands write into the data directory). */
export function withLocalFlags<T>(y: Argv<T>): Argv<T & LocalArgs> {
  return y
    .middleware(usePrivateUmask)
    .option('config', { type: 'string', describe: 'config file (TOML, or JSON when it ends in .json)' })
    .option('data', { type: 'string', alias: 'data-dir', describe: 'data directory (database, logs, backups, workspaces)' })
    .option('listen', { type: 'string', describe: 'address to listen on, host:port' })
    .option('executor', { type: 'string', choices: ['claude', 'codex', 'command'], describe: 'default executor' })
    .option('command', { type: 'string', describe: "the command executor's program and arguments, e.g. 'node agent.js' (implies --executor command)" })
    .option('set', { type: 'string', array: true, describe: 'override any setting: --set queue.interactive_workers=4' })
    .option('log-level', { type: 'string', choices: ['debug', 'info', 'warn', 'error'] });
}

/** Splits a --command string into argv: whitespace separates, single or double quotes group. No shell is involved. */
export function splitCommand(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  let current = '';
  let last = -1;
  while ((m = re.exec(s)) !== null) {
    const piece = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? '');
    if (last === m.index) current += piece;
    else {
      if (last !== -1) out.push(current);
      current = piece;
    }
    last = re.lastIndex;
  }
  if (last !== -1) out.push(current);
  return out;
}

export function loadLocalConfig(args: LocalArgs, opts: { tokenRules?: boolean } = {}): LoadedConfig {
  const flags: FlagOverrides = {
    ...(args.data !== undefined ? { data_dir: args.data } : {}),
    ...(args.listen !== undefined ? { listen: args.listen } : {}),
    ...(args.executor !== undefined ? { executor: args.executor } : {}),
    ...(args.command !== undefined ? { command: splitCommand(args.command) } : {}),
    ...(args['log-level'] !== undefined ? { log_level: args['log-level'] } : {}),
    ...(args.set !== undefined ? { set: args.set } : {}),
  };
  return loadConfig({ file: args.config, env: process.env, flags, cwd: process.cwd(), ...opts });
}
