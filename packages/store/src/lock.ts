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
export function lockHolderPid(file: string, procLocks?: string): number | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return null;
  }
  let locks: string;
  try {
    locks = procLocks ?? fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    return null;
  }
  // The file is named by device and inode together: inode numbers repeat across file systems (two tmpfs mounts
  // both start near 1), and a lock on another file system's inode 5 is not ours — matching the inode alone made a
  // daemon on one tmpfs refuse to start because another alter0 held a lock on a file with the same inode elsewhere.
  const want = `${hex2(devMajor(st.dev))}:${hex2(devMinor(st.dev))}:${st.ino}`;
  // e.g. "12: POSIX  ADVISORY  WRITE 4242 fd:00:131 1073741824 1073742335" (major and minor in hex, inode decimal)
  for (const line of locks.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const dev = parts[5];
    const pid = Number(parts[4]);
    if (parts[1] === 'POSIX' && dev !== undefined && normalDev(dev) === want && pid > 0) return pid;
  }
  return null;
}

/** Linux's dev_t split as glibc's major()/minor() do (the high bits of both live above bit 32). */
function devMajor(dev: number): number {
  const d = BigInt(dev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
}
function devMinor(dev: number): number {
  const d = BigInt(dev);
  return Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
}
const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
/** "fd:00:131" as /proc/locks writes it, with the hex parts in one spelling. */
function normalDev(dev: string): string {
  const [maj, min, ino] = dev.split(':');
  if (maj === undefined || min === undefined || ino === undefined) return '';
  return `${hex2(parseInt(maj, 16))}:${hex2(parseInt(min, 16))}:${ino}`;
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
