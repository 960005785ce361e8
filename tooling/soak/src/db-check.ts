import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface DbCheck {
  /** PRAGMA integrity_check: "ok", or SQLite's list of problems; null when not asked. */
  integrity: string | null;
  /** Jobs in state running, with the attempt they are in. */
  running: { id: string; attempt: number }[];
  by_state: Record<string, number>;
  /** With `verify`: alter0's own `db verify` failures in words (empty: all checks ok). */
  verify?: string[];
  /** With `final`: canceled jobs that have a stored reply (must be none). */
  canceled_and_answered?: string[];
  /** With `final`: every job's [created_at, started_at, finished_at, state] (daemon clock). */
  timings?: [number, number | null, number | null, string][];
}

export interface DbCheckWhat {
  integrity?: boolean;
  verify?: boolean;
  final?: boolean;
}

const MAIN = fileURLToPath(new URL('./db-check-main.js', import.meta.url));

/** Runs db-check-main.js in its own process with a time bound; rejects with what failed. */
export function checkDb(
  file: string,
  what: boolean | DbCheckWhat,
  signal: AbortSignal,
  timeoutMs = 120_000,
): Promise<DbCheck> {
  const w: DbCheckWhat = typeof what === 'boolean' ? { integrity: what } : what;
  const flags = [
    ...(w.integrity === true ? ['--integrity'] : []),
    ...(w.verify === true ? ['--verify'] : []),
    ...(w.final === true ? ['--final'] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, file, ...flags], {
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
