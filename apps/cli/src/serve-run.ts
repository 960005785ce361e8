import { Alter0Error, errorMessage } from '@alter0/core';
import { exitCodeFor } from './exit-codes.js';
import { output } from './output.js';
import type { ServeArgs } from './descriptors/serve.js';

/** `alter0 serve` from the fast start: the same error report and exit code as the full CLI gives. */
export async function runServe(args: ServeArgs): Promise<void> {
  try {
    await (await import('./commands/serve.js')).serve(args);
  } catch (err) {
    output.note(`alter0: ${err instanceof Alter0Error ? '' : 'unexpected error: '}${errorMessage(err)}`);
    process.exit(exitCodeFor(err));
  }
}
