import { spawn } from 'node:child_process';

/**
 * Runs a reader script in its own Node process (a long query never stalls the harness, a native crash never takes
 * it down) with a time bound, and parses the one JSON document it prints; rejects naming `what` and what failed.
 */
export function readJsonChild<T>(
  main: string,
  args: readonly string[],
  what: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('error', (e) => reject(new Error(`${what} failed to run: ${e.message}`)));
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString('utf8');
      if (code !== 0) {
        reject(new Error(`${what} exited ${code}: ${err.trim() || 'no output'}`));
        return;
      }
      try {
        resolve(JSON.parse(text) as T);
      } catch {
        reject(new Error(`${what} printed something that is not JSON: ${text.slice(0, 200)}`));
      }
    });
  });
}
