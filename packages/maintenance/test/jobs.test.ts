import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@alter0/config';
import { nullLogger } from '@alter0/obs';
import { Store } from '@alter0/store';
import { listBackups } from '../src/backup.js';
import { maintenanceJobs } from '../src/jobs.js';
import { MaintenancePool } from '../src/pool.js';
import { startScheduler } from '../src/scheduler.js';
import { count, populate, tempDir } from './fixtures.js';

let pool: MaintenancePool;
let dir: string;

beforeAll(() => {
  pool = new MaintenancePool();
});
afterAll(async () => {
  await pool.close();
});
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('standard maintenance jobs', () => {
  it('backup, retention and WAL checkpoint from the config, run by the scheduler against a live store', async () => {
    const dataDir = path.join(dir, 'data');
    const config = loadConfig({
      file: null,
      env: { HOME: dir },
      cwd: dir,
      flags: { data_dir: dataDir, set: ['backup.interval=1h', 'backup.keep=2', 'retention.events=1d'] },
    }).config;
    const dbFile = path.join(dataDir, 'alter0.db');
    populate(dbFile, Date.now() - 10 * 86_400_000);
    const store = Store.open({ file: dbFile });
    try {
      const jobs = maintenanceJobs(config, pool);
      expect(jobs.map((j) => [j.name, j.every])).toEqual([
        ['backup', 3_600_000],
        ['retention', 86_400_000],
        ['wal_checkpoint', 3_600_000],
        ['stats_rollup', 300_000],
      ]);
      // Writes on the daemon's connection leave frames in the WAL for the checkpoint job.
      store.events.add({ component: 'test', level: 'info', kind: 'x', message: 'recent', now: Date.now() });
      const scheduler = startScheduler({ jobs, store, logger: nullLogger(), startDelayMs: 0 });
      const end = Date.now() + 20_000;
      while (store.events.maintenance().filter((r) => r.lastSuccessAt !== null).length < 4) {
        if (Date.now() > end)
          throw new Error(`jobs did not all succeed: ${JSON.stringify(store.events.maintenance())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await scheduler.stop();
      expect(store.events.maintenance().map((r) => [r.job, r.consecutiveFailures])).toEqual([
        ['backup', 0],
        ['retention', 0],
        ['stats_rollup', 0],
        ['wal_checkpoint', 0],
      ]);
      // The rollup computed the hours of the populated jobs (ten days ago) up to now.
      expect(count(dbFile, 'stats_hourly')).toBeGreaterThan(240);
      expect((await listBackups(config.backup.dir)).map((b) => b.reason)).toEqual(['scheduled']);
      // The populated event is ten days old (retention.events=1d); the recent one stays.
      expect(store.events.recent({ component: 'test' }).map((e) => e.message)).toEqual(['recent']);
    } finally {
      store.close();
    }
    expect(count(dbFile, 'events')).toBe(1);
  });
});
