import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * The worker's own connection to the live database. Read-write (so the WAL can be checkpointed and the file
 * is not left with stray -wal/-shm files), never creating a missing file, and with the daemon's settings.
 */
export function openLive(file: string, busyTimeoutMs: number): BetterSqlite3.Database {
  const db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
  db.pragma('foreign_keys = ON');
  return db;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
