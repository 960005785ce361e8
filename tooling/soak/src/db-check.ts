import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface DbCheck {
  /** PRAGMA integrity_check: "ok", or SQLite's list of problems; null when not asked. */
  integrity: string | null;
  /** Jobs in state running, with the attempt they are in. */
  running: { id: string; attempt: number }[];
  by_state: Record<string, number>;
}

const MAIN = fileURLToPath(new URL('./db-check-main.js', import.meta.url));

/** Runs db-check-main.js in its own process with a time bound; rejects with what failed. */
export function checkDb(file: string, integrity: boolean, signal: AbortSignal, timeoutMs = 120_000): Promise<DbCheck> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, file, ...(integrity ? ['--integrity'] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('error', (e) => reject(new Error(`database check of ${file} failed to run: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`database check of ${file} exited ${code}: ${err.trim() || 'no output'}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as DbCheck);
      } catch {
        reject(new Error(`database check of ${file} printed something that is not JSON: ${out.slice(0, 200)}`));
      }
    });
  });
}
