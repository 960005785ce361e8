import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { LOCAL_FLAGS } from './local-flags.js';
import { usePrivateUmask } from './private-umask.js';
import type { ServeArgs } from './descriptors/serve.js';

/**
 * `alter0 serve` without yargs: the daemon is the process that lives for weeks, and yargs (with its terminal-width
 * tables) costs ~7 MiB of it and time at every start. Parses the same flags from the same table; anything it does
 * not take as is — `--help`, an unknown flag, a value outside the choices — returns null, and the caller goes the
 * full yargs way, which answers exactly as before.
 */
export function parseServeArgs(argv: readonly string[]): ServeArgs | null {
  const options: NonNullable<ParseArgsConfig['options']> = { 'print-config': { type: 'boolean' } };
  for (const [key, flag] of Object.entries(LOCAL_FLAGS)) {
    options[key] = { type: 'string', ...(flag.array ? { multiple: true } : {}) };
    if (flag.alias !== undefined) options[flag.alias] = { type: 'string' };
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch {
    return null;
  }
  const args: ServeArgs = {};
  for (const [key, flag] of Object.entries(LOCAL_FLAGS)) {
    const v = values[key] ?? (flag.alias === undefined ? undefined : values[flag.alias]);
    if (v === undefined) continue;
    if (flag.choices !== undefined && (typeof v !== 'string' || !flag.choices.includes(v))) return null;
    Object.assign(args, { [key]: v });
  }
  if (values['print-config'] === true) args['print-config'] = true;
  return args;
}

/** Runs `alter0 serve` if the arguments parse here; false when the full CLI must take them. */
export async function serveFast(argv: readonly string[]): Promise<boolean> {
  const args = parseServeArgs(argv);
  if (args === null) return false;
  usePrivateUmask();
  const { runServe } = await import('./serve-run.js');
  await runServe(args);
  return true;
}
