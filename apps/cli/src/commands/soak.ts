import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Alter0Error } from '@alter0/core';
import { FLAGS } from '../descriptors/soak.js';
import type { SoakArgs } from '../descriptors/soak.js';

/**
 * The harness is the workspace package @alter0/soak (tooling/soak, in the source tree only), built by
 * `pnpm build`; this command only runs it. Null when the package cannot be resolved (an install without it).
 */
function harnessPath(): string | null {
  try {
    return fileURLToPath(import.meta.resolve('@alter0/soak/main'));
  } catch {
    return null;
  }
}

/** `alter0 soak`: runs the harness with the given flags, forwarding signals; its exit code is the command's. */
export async function soak(args: SoakArgs): Promise<void> {
  const HARNESS = harnessPath();
  if (HARNESS === null || !fs.existsSync(HARNESS)) {
    throw new Alter0Error(
      'soak_missing',
      `the soak harness is not built (${HARNESS ?? '@alter0/soak/main'} not found): it ships with the source tree only; run \`pnpm build\` in the checkout and try again`,
    );
  }
  const argv: string[] = [];
  for (const name of Object.keys(FLAGS)) {
    const v = args[name];
    if (typeof v === 'string') argv.push(`--${name}`, v);
  }
  if (args['keep-data'] === true) argv.push('--keep-data');
  const child = spawn(process.execPath, [HARNESS, ...argv], { stdio: 'inherit' });
  // The harness stops the load and the daemon and still writes its report on the first signal.
  const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) => {
    child.on('exit', (c, sig) => resolve(c ?? (sig === 'SIGINT' ? 130 : 1)));
    child.on('error', () => resolve(1));
  });
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  process.exitCode = code;
}
