import type { FlagOverrides, LoadedConfig } from '@alter0/config';
import { loadConfig } from '@alter0/config';
import type { LocalArgs } from './local-flags.js';

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
