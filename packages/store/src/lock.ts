import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { LockHeldError } from '@alter0/core';

/**
 * One alter0 process per data directory. The lock is an exclusive SQLite (POSIX fcntl) lock on
 * `<data>/alter0.lock`: the kernel drops it when the holder dies, so a `kill -9` never leaves a stale lock,
 * and it works across containers that share the volume. The holder's pid is read from /proc/locks
 * (the file itself cannot be read while exclusively locked).
 */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

export function lockPath(dataDir: string): string {
  return path.join(dataDir, 'alter0.lock');
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const file = lockPath(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, started_at INTEGER NOT NULL)');
    // The first write under locking_mode=EXCLUSIVE takes the EXCLUSIVE lock and keeps it until close.
    db.transaction(() => {
      db.exec('DELETE FROM holder');
      db.prepare('INSERT INTO holder (pid, started_at) VALUES (?, ?)').run(process.pid, Date.now());
    }).exclusive();
  } catch (err) {
    db.close();
    if (isBusy(err)) {
      const pid = lockHolderPid(file);
      throw new LockHeldError(
        `data directory ${dataDir} is in use by another alter0 process` +
          (pid === null ? '' : ` (pid ${pid})`) +
          `; stop it first (or use another --data directory). Lock file: ${file}`,
        pid,
      );
    }
    throw err;
  }
  let released = false;
  return {
    path: file,
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}

/** Who holds the lock, or null if nobody (or it cannot be told on this platform). */
export function lockHolderPid(file: string): number | null {
  let ino: number;
  try {
    ino = fs.statSync(file).ino;
  } catch {
    return null;
  }
  let locks: string;
  try {
    locks = fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    return null;
  }
  // e.g. "12: POSIX  ADVISORY  WRITE 4242 fd:00:131 1073741824 1073742335"
  for (const line of locks.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const dev = parts[5];
    const pid = Number(parts[4]);
    if (parts[1] === 'POSIX' && dev !== undefined && Number(dev.split(':')[2]) === ino && pid > 0) {
      return pid;
    }
  }
  return null;
}

/**
 * True when some live process holds the data directory's lock (used by offline commands such as restore).
 * On Linux this only reads /proc/locks: probing by taking the lock, even for a moment, could make a daemon
 * that starts at that instant fail with the prober's pid.
 */
export function isDataDirLocked(dataDir: string): { locked: boolean; pid: number | null } {
  const file = lockPath(dataDir);
  if (!fs.existsSync(file)) return { locked: false, pid: null };
  if (fs.existsSync('/proc/locks')) {
    const pid = lockHolderPid(file);
    return { locked: pid !== null, pid };
  }
  try {
    const lock = acquireDataDirLock(dataDir);
    lock.release();
    return { locked: false, pid: null };
  } catch (err) {
    if (err instanceof LockHeldError) return { locked: true, pid: err.holderPid };
    throw err;
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}
