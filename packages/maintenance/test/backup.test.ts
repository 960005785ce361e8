import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Store } from '@alter0/store';
import { backup, lastBackupAt, listBackups, pruneBackups } from '../src/backup.js';
import { BackupError } from '../src/errors.js';
import { MaintenancePool } from '../src/pool.js';
import type { WorkerResults, WorkerTask } from '../src/protocol.js';
import { dump, populate, tempDir } from './fixtures.js';

let pool: MaintenancePool;
let dir: string;
let dbFile: string;
let backupDir: string;

beforeAll(() => {
  pool = new MaintenancePool();
});
afterAll(async () => {
  await pool.close();
});
beforeEach(() => {
  dir = tempDir();
  dbFile = path.join(dir, 'alter0.db');
  backupDir = path.join(dir, 'backups');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('backup', () => {
  it('makes a complete, valid, self-contained copy of a populated database while it is open', async () => {
    populate(dbFile);
    // The daemon's connection stays open (WAL, uncheckpointed writes): the copy must still hold everything.
    const live = Store.open({ file: dbFile });
    try {
      live.events.add({
        component: 'test',
        level: 'info',
        kind: 'late',
        message: 'written just before the backup',
        now: Date.now(),
      });
      const r = await backup({
        dbFile,
        backupDir,
        reason: 'manual',
        keep: 5,
        pool,
        now: () => new Date('2025-03-04T05:06:07.089Z'),
      });
      expect(r.integrity).toBe('ok');
      expect(path.basename(r.path)).toBe('alter0-2025-03-04T05-06-07-089Z-manual.db');
      expect(r.bytes).toBe(fs.statSync(r.path).size);
      expect(r.ms).toBeGreaterThanOrEqual(0);
      expect(dump(r.path)).toEqual(dump(dbFile));
      const copy = new Database(r.path, { readonly: true });
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      copy.close();
      // Only the finished file is left: no temp file, no -wal/-shm beside it.
      expect(fs.readdirSync(backupDir)).toEqual([path.basename(r.path)]);
    } finally {
      live.close();
    }
  });

  it('detects a corrupt copy, deletes it and fails with a clear error', async () => {
    populate(dbFile);
    // A pool whose copy step damages the file, as a failing disk would, between the copy and the check.
    const damaging = {
      run: async <T extends WorkerTask>(task: T, signal?: AbortSignal): Promise<WorkerResults[T['op']]> => {
        const result = await pool.run(task, signal);
        if (task.op === 'copy') {
          const fd = fs.openSync(task.dest, 'r+');
          const size = fs.fstatSync(fd).size;
          // Page 1 is the header; overwrite the b-tree pages after it.
          fs.writeSync(fd, Buffer.alloc(size - 4096, 0xa5), 0, size - 4096, 4096);
          fs.closeSync(fd);
        }
        return result;
      },
    } as unknown as MaintenancePool;
    const err = await backup({ dbFile, backupDir, reason: 'scheduled', keep: 5, pool: damaging }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BackupError);
    expect((err as Error).message).toMatch(/failed its integrity check and was deleted/);
    expect(fs.readdirSync(backupDir)).toEqual([]);
  });

  it('refuses when there is no database, saying where it looked', async () => {
    await expect(backup({ dbFile, backupDir, reason: 'manual', keep: 1, pool })).rejects.toThrow(
      `there is no database at ${dbFile}`,
    );
  });

  it('keeps the newest N routine backups and, separately, the newest N safety backups', async () => {
    populate(dbFile);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await backup({
        dbFile,
        backupDir,
        reason: i % 2 ? 'manual' : 'scheduled',
        keep: 3,
        pool,
        now: () => new Date(Date.UTC(2025, 0, 1 + i)),
      });
      made.push(r.path);
      if (i === 4) expect(r.pruned).toEqual([made[1]]);
    }
    // The store's own pre-migration backup name, older than all of them: not pushed out by routine backups.
    const preMigrate = path.join(backupDir, 'alter0-2024-12-01T00-00-00-000Z-pre-migrate-v1-to-v2.db');
    fs.copyFileSync(made[4]!, preMigrate);
    await pruneBackups(backupDir, 3);
    const list = await listBackups(backupDir);
    expect(list.map((b) => b.path)).toEqual([made[4], made[3], made[2], preMigrate]);
    expect(list.map((b) => b.reason)).toEqual(['scheduled', 'manual', 'scheduled', 'pre-migrate']);
    expect(await lastBackupAt(backupDir)).toEqual(new Date(Date.UTC(2025, 0, 5)));
    expect(await lastBackupAt(path.join(dir, 'nowhere'))).toBeNull();
  });

  it('two backups in the same millisecond get distinct names', async () => {
    populate(dbFile);
    const at = new Date('2025-01-01T00:00:00.000Z');
    const a = await backup({ dbFile, backupDir, reason: 'manual', keep: 5, pool, now: () => at });
    const b = await backup({ dbFile, backupDir, reason: 'manual', keep: 5, pool, now: () => at });
    expect(a.path).not.toBe(b.path);
    expect((await listBackups(backupDir)).length).toBe(2);
  });

  it('an aborted backup leaves no file behind', async () => {
    populate(dbFile);
    const ac = new AbortController();
    ac.abort();
    await expect(backup({ dbFile, backupDir, reason: 'manual', keep: 5, pool, signal: ac.signal })).rejects.toThrow(
      BackupError,
    );
    expect(fs.readdirSync(backupDir)).toEqual([]);
  });
});
