import { fileURLToPath } from 'node:url';
import { readJsonChild } from './json-child.js';

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
  return readJsonChild<DbCheck>(MAIN, [file, ...flags], `database check of ${file}`, signal, timeoutMs);
}
