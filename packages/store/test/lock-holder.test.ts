import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { acquireDataDirLock, lockHolderPid, lockPath } from '../src/index.js';

let dir = '';
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** /proc/locks spells a file as MAJOR:MINOR:INODE, the device numbers in hex (fs/locks.c). */
function spelled(file: string): { dev: string; ino: number } {
  const st = fs.statSync(file);
  const d = BigInt(st.dev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return { dev: `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`, ino: st.ino };
}

it('names the holder of our lock file, and not a process locking the same inode number on another file system', () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-lockholder-'));
  const lock = acquireDataDirLock(dir);
  try {
    const file = lockPath(dir);
    // The real /proc/locks: this process holds it.
    expect(lockHolderPid(file)).toBe(process.pid);
    const { dev, ino } = spelled(file);
    const other = dev === '00:01' ? '00:02' : '00:01';
    // Found by the day soak: two tmpfs mounts both hand out small inode numbers; alter0 on one refused to start
    // because another alter0 held a lock on the same inode number on the other (pid 4242 here).
    const sameInodeElsewhere = `1: POSIX  ADVISORY  WRITE 4242 ${other}:${ino} 1073741824 1073742335\n`;
    expect(lockHolderPid(file, sameInodeElsewhere)).toBeNull();
    const ours = `1: POSIX  ADVISORY  WRITE 4242 ${dev}:${ino} 1073741824 1073742335\n`;
    expect(lockHolderPid(file, sameInodeElsewhere + ours)).toBe(4242);
  } finally {
    lock.release();
  }
});
