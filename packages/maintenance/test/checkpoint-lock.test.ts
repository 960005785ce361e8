import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, LOCK_HOLDING_WAIT_MS, Store } from '@alter0/store';
import { checkpointWal } from '../src/checkpoint.js';
import { MaintenancePool } from '../src/pool.js';
import { tempDir } from './fixtures.js';

let pool: MaintenancePool;
beforeAll(() => {
  pool = new MaintenancePool();
});
afterAll(async () => {
  await pool.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('wal checkpoint and the daemon writes', () => {
  // Review defect 6's likely trigger: the hourly TRUNCATE checkpoint held the write lock for up to 10 s while a
  // long read (db verify/backup) ran, past the daemon's 5 s busy timeout, so the daemon's outcome writes failed.
  it('a checkpoint waiting for a long reader never holds the write lock longer than the daemon waits', async () => {
    expect(LOCK_HOLDING_WAIT_MS).toBeLessThan(BUSY_TIMEOUT_MS / 2);
    const dir = tempDir();
    const dbFile = path.join(dir, 'alter0.db');
    const daemon = Store.open({ file: dbFile });
    const reader = new Database(dbFile);
    const probe = new Database(dbFile, { timeout: 0 });
    try {
      daemon.events.add({ component: 'test', level: 'info', kind: 'x', message: 'before the read', now: 1 });
      // A long read (as `db verify` is) holds its snapshot; the daemon writes past it.
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM events').get();
      for (let i = 0; i < 20; i++)
        daemon.events.add({ component: 'test', level: 'info', kind: 'x', message: `after ${i}`, now: 2 });

      const result = checkpointWal({ dbFile, pool });
      // Wait until the checkpoint holds the write lock (a writer with no patience is refused).
      const holding = async (): Promise<boolean> => {
        const end = Date.now() + 20_000;
        while (Date.now() < end) {
          try {
            probe.exec('BEGIN IMMEDIATE; ROLLBACK');
          } catch {
            return true;
          }
          await sleep(2);
        }
        return false;
      };
      expect(await holding()).toBe(true);
      // The daemon's write waits behind it (its busy timeout), and lands.
      const t0 = Date.now();
      expect(() =>
        daemon.events.add({ component: 'test', level: 'info', kind: 'x', message: 'during the checkpoint', now: 3 }),
      ).not.toThrow();
      expect(Date.now() - t0).toBeLessThan(BUSY_TIMEOUT_MS);
      // The checkpoint gave up on the reader and says so; it is tried again at its next run.
      expect((await result).busy).toBe(1);
    } finally {
      reader.close();
      probe.close();
      daemon.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
