import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Store } from '@alter0/store';
import { MaintenancePool } from '../src/pool.js';
import { statsRollup } from '../src/stats-rollup.js';
import { newTask, tempDir, turn } from './fixtures.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let pool: MaintenancePool;
let dir: string;
let dbFile: string;

beforeAll(() => {
  pool = new MaintenancePool();
});
afterAll(async () => {
  await pool.close();
});
beforeEach(() => {
  dir = tempDir('alter0-stats-');
  dbFile = path.join(dir, 'alter0.db');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const dump = (table: string): unknown[] => {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all();
  } finally {
    db.close();
  }
};

describe('the stats rollup on the maintenance pool', () => {
  it('rolls up the turns of a live store, idempotently, and counts each queue depth sample once', async () => {
    const now = Date.UTC(2026, 10, 2, 12, 30);
    const store = Store.open({ file: dbFile });
    try {
      const t = newTask(store, 'one', now - 3 * HOUR);
      for (let i = 0; i < 3; i++) turn(store, t, `m${i}`, now - 2 * HOUR + i * 60_000);
      turn(store, t, 'latest', now - 10 * 60_000);
      const samples = [{ at: now - 5 * 60_000, depth: 3 }];
      const first = await statsRollup({ dbFile, now, samples, pool });
      expect(first).toMatchObject({ from: now - 2.5 * HOUR, hours: 3, jobs: 4, samples: 1 });
      expect(first.ms).toBeGreaterThanOrEqual(0);
      const rows = { stats: dump('stats_hourly'), usage: dump('usage_hourly') };
      const again = await statsRollup({ dbFile, now, samples, pool });
      expect(again).toMatchObject({ from: now - 1.5 * HOUR, hours: 2, jobs: 1, samples: 0 });
      expect({ stats: dump('stats_hourly'), usage: dump('usage_hourly') }).toEqual(rows);
      // The daemon reads what the worker wrote: three turns two hours ago, one in this hour.
      const series = store.stats.series({ from: now - 2.5 * HOUR, bucketMs: HOUR, count: 3 });
      expect(series.buckets.map((b) => b.jobs.succeeded)).toEqual([3, 0, 1]);
      expect(series.buckets.map((b) => b.modelCalls.route)).toEqual([3, 0, 1]);
      expect(series.buckets[2]?.depth).toEqual({ max: 3, avg: 3 });
    } finally {
      store.close();
    }
  });
});

/*
 * The bench behind the choice to read usage from the rollup (docs/operations.md, "Stats and usage"): 50 000 jobs
 * over 30 days, as the daemon would read them. ALTER0_BENCH=1 pnpm exec vitest run
 * packages/maintenance/test/stats-rollup.test.ts
 */
describe.skipIf(process.env['ALTER0_BENCH'] !== '1')('bench: usage and stats over 50 000 jobs', () => {
  // uniform: 2000 tasks, each with jobs all month long (the worst case of usage by task: one cell per job);
  // sequential: one task after another, about 40 minutes each (an owner working through tasks).
  it.each(['uniform', 'sequential'] as const)(
    'times the rollup and the reads (%s)',
    { timeout: 300_000 },
    async (spread) => {
      const now = Date.now();
      const n = 50_000;
      fill(dbFile, n, now, spread);
      const time = async <T>(label: string, fn: () => T | Promise<T>, reps = 5): Promise<T> => {
        await fn();
        const t0 = performance.now();
        let r: T | undefined;
        for (let i = 0; i < reps; i++) r = await fn();
        console.log(`${label}: ${((performance.now() - t0) / reps).toFixed(1)} ms`);
        return r as T;
      };
      const raw = new Database(dbFile, { readonly: true });
      const jsonByDay = raw.prepare(
        `SELECT finished_at / ${DAY} AS d, count(*), sum(json_extract(usage_json, '$.inputTokens')),
              sum(json_extract(usage_json, '$.outputTokens')), sum(json_extract(usage_json, '$.costUsd'))
         FROM jobs WHERE finished_at >= ? GROUP BY 1`,
      );
      await time('json_extract over jobs, by day, 30d (the daemon would have done this)', () =>
        jsonByDay.all(now - 30 * DAY),
      );
      await time('json_extract over jobs, by day, 7d', () => jsonByDay.all(now - 7 * DAY));
      raw.close();
      const t0 = performance.now();
      const first = await statsRollup({ dbFile, now, pool });
      console.log(
        `first rollup (backfill of ${first.hours} hours, ${first.jobs} jobs): ${Math.round(performance.now() - t0)} ms`,
      );
      await time('steady rollup (previous and current hour)', () => statsRollup({ dbFile, now: now + 60_000, pool }));
      const store = Store.open({ file: dbFile });
      try {
        const byDay = await time('usage by day, 30d', () => store.stats.usage({ since: now - 30 * DAY, by: 'day' }));
        expect(byDay.total.jobs).toBe(n);
        await time('usage by task, 30d', () => store.stats.usage({ since: now - 30 * DAY, by: 'task' }));
        await time('usage by task, 7d', () => store.stats.usage({ since: now - 7 * DAY, by: 'task' }));
        await time('stats 30d (daily buckets)', () =>
          store.stats.series({ from: Math.floor(now / DAY) * DAY - 29 * DAY, bucketMs: DAY, count: 30 }),
        );
        await time('stats 24h (hourly buckets)', () =>
          store.stats.series({ from: Math.floor(now / HOUR) * HOUR - 23 * HOUR, bucketMs: HOUR, count: 24 }),
        );
        await time('task usage (one task, ~25 jobs)', () => store.stats.taskUsage('t_' + '0'.repeat(26)));
      } finally {
        store.close();
      }
    },
  );
});

/** `n` finished jobs over the 30 days before `now`, with messages and a claude-like usage each. */
function fill(file: string, n: number, now: number, spread: 'uniform' | 'sequential'): void {
  Store.open({ file }).close();
  const db = new Database(file);
  db.pragma('foreign_keys = OFF');
  db.pragma('synchronous = OFF');
  const tasks = 2000;
  const id = (i: number): string => String(i).padStart(26, '0');
  const insT = db.prepare(
    `INSERT INTO tasks (id, title, summary, state, executor, workspace, user_id, created_at, updated_at)
     VALUES (?, ?, ?, 'open', 'claude', '/ws', 'owner', ?, ?)`,
  );
  const insM = db.prepare(
    `INSERT INTO messages (id, task_id, role, content, job_id, channel_id, user_id, created_at)
     VALUES (?, ?, 'user', ?, ?, 'http', 'owner', ?)`,
  );
  const insJ = db.prepare(
    `INSERT INTO jobs (id, message_id, task_id, lane, state, attempt, max_attempts, timeout_s, next_run_at,
       channel_id, user_id, usage_json, created_at, updated_at, started_at, replied_at, finished_at, queue_wait_ms,
       route_ms, execute_ms, close_ms, total_ms, stderr_tail)
     VALUES (?, ?, ?, 'interactive', ?, 1, 3, 60, ?, 'http', 'owner', ?, ?, ?, ?, ?, ?, 3, 120, ?, 800, ?, ?)`,
  );
  db.transaction(() => {
    for (let t = 0; t < tasks; t++) insT.run(`t_${id(t)}`, `task ${t}`, 'summary '.repeat(20), now - 40 * DAY, now);
    for (let i = 0; i < n; i++) {
      const at = now - Math.floor(Math.random() * 30 * DAY);
      const task = `t_${id(spread === 'uniform' ? i % tasks : Math.floor((now - at) / ((30 * DAY) / tasks)))}`;
      const ok = Math.random() < 0.9;
      const usage = ok
        ? JSON.stringify({ inputTokens: 1000 + (i % 500), outputTokens: 300, cacheReadTokens: 20_000, costUsd: 0.0123 })
        : null;
      const exec = 1000 + Math.floor(Math.random() * 60_000);
      insM.run(`m_${id(i)}`, task, 'hello world '.repeat(30), `j_${id(i)}`, at - 10_000);
      insJ.run(
        ...[`j_${id(i)}`, `m_${id(i)}`, task, ok ? 'succeeded' : 'failed', at, usage, at - 10_000, at],
        ...[at - 9000, at - 500, at, exec, 10_000, ok ? null : 'x'.repeat(2000)],
      );
    }
  })();
  db.close();
}
