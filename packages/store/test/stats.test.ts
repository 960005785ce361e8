import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../src/store.js';
import { alignedStart } from '../src/stats-repo.js';
import {
  BINS,
  HOUR_MS,
  STATS_STAGES,
  addHistograms,
  binValue,
  encodeHistograms,
  histogramPercentile,
  latencyBin,
  nearestRank,
  rollupStats,
} from '../src/stats.js';
import type { StatsStage } from '../src/stats.js';

const H = HOUR_MS;
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);
let dir: string;
let store: Store;
let seq = 0;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-store-stats-'));
  store = Store.open({ file: path.join(dir, 'alter0.db') });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Ended {
  at: number;
  state?: 'succeeded' | 'failed' | 'canceled';
  task?: string | null;
  attempt?: number;
  timings?: Partial<Record<'queue_wait_ms' | 'route_ms' | 'execute_ms' | 'close_ms', number | null>>;
  usage?: Record<string, number> | null;
}

function task(title: string): string {
  return store.tasks.create({ title, executor: 'claude', workspaceRoot: '/tmp/ws', userId: 'owner', now: T0 }).id;
}

/** A job that ended at `at`, written as the pipeline leaves it (a message, the job with its timings and usage). */
function ended(j: Ended): string {
  const id = String(++seq).padStart(26, '0');
  const sqlite = store.opened.sqlite;
  const taskId = j.task ?? null;
  sqlite
    .prepare(
      `INSERT INTO messages (id, task_id, role, content, job_id, channel_id, user_id, created_at)
       VALUES (?, ?, 'user', 'x', ?, 'test', 'owner', ?)`,
    )
    .run(`m_${id}`, taskId, `j_${id}`, j.at - 1000);
  const t = { queue_wait_ms: 5, route_ms: 10, execute_ms: 100, close_ms: 20, ...j.timings };
  sqlite
    .prepare(
      `INSERT INTO jobs (id, message_id, task_id, lane, state, attempt, max_attempts, timeout_s, next_run_at,
         channel_id, user_id, usage_json, created_at, updated_at, finished_at, queue_wait_ms, route_ms, execute_ms,
         close_ms)
       VALUES (?, ?, ?, 'interactive', ?, ?, 3, 60, ?, 'test', 'owner', ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      `j_${id}`,
      `m_${id}`,
      taskId,
      j.state ?? 'succeeded',
      j.attempt ?? 1,
      j.at,
      j.usage ? JSON.stringify(j.usage) : null,
      j.at - 1000,
      j.at,
      j.at,
      t.queue_wait_ms,
      t.route_ms,
      t.execute_ms,
      t.close_ms,
    );
  return `j_${id}`;
}

function decision(
  table: 'route_decisions' | 'close_decisions',
  at: number,
  modelCalled: boolean,
  taskId: string,
): void {
  const id = `d_${String(++seq).padStart(26, '0')}`;
  if (table === 'route_decisions') {
    store.opened.sqlite
      .prepare(
        `INSERT INTO route_decisions (id, job_id, message_id, task_id, decision, reason, model_called, latency_ms, created_at)
         VALUES (?, 'j_x', 'm_x', ?, 'new', 'r', ?, 5, ?)`,
      )
      .run(id, taskId, modelCalled ? 1 : 0, at);
  } else {
    store.opened.sqlite
      .prepare(
        `INSERT INTO close_decisions (id, task_id, source, action, reason, model_called, latency_ms, created_at)
         VALUES (?, ?, 'auto', 'keep_open', 'r', ?, 5, ?)`,
      )
      .run(id, taskId, modelCalled ? 1 : 0, at);
  }
}

const rows = () => store.stats.hours(0, Number.MAX_SAFE_INTEGER);
const usageRows = () =>
  store.opened.sqlite.prepare('SELECT * FROM usage_hourly ORDER BY hour, task_id').all() as Record<string, unknown>[];

describe('percentiles', () => {
  it('nearest rank: the smallest value with p of all at or below it', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(nearestRank(v, 0.5)).toBe(50);
    expect(nearestRank(v, 0.95)).toBe(95);
    expect(nearestRank([7], 0.95)).toBe(7);
    expect(nearestRank([1, 2], 0.5)).toBe(1);
    expect(nearestRank([], 0.5)).toBeNull();
  });

  it('histogram bins stay within 9 % of the values they hold', () => {
    for (const ms of [1, 3, 17, 250, 999, 5400, 61_000, 3_600_000]) {
      const v = binValue(latencyBin(ms));
      expect(Math.abs(v - ms) / ms).toBeLessThan(0.1);
    }
    expect(binValue(latencyBin(0))).toBe(0);
    const counts = Object.fromEntries(STATS_STAGES.map((s) => [s, new Float64Array(BINS)])) as Record<
      StatsStage,
      Float64Array
    >;
    const encoded = encodeHistograms({ execute: [...Array<number>(9).fill(100), 5000], close: [3] });
    expect(addHistograms(encoded, counts)).toEqual(['execute', 'close']);
    expect(addHistograms(encoded, counts)).toEqual(['execute', 'close']);
    expect(histogramPercentile(counts.execute, 0.5)).toBe(binValue(latencyBin(100)));
    expect(histogramPercentile(counts.execute, 0.95)).toBe(binValue(latencyBin(5000)));
    expect(counts.execute[latencyBin(100)]).toBe(18);
    expect(histogramPercentile(counts.route, 0.5)).toBeNull();
    expect(addHistograms(encodeHistograms({}), counts)).toEqual([]);
  });
});

describe('the stats rollup', () => {
  it('computes an hour from its jobs: outcomes, exact p50/p95 per stage, model calls, agent runs, tokens and cost', () => {
    const t = task('one');
    const h = T0 + 5 * H;
    // Execute times 1..100 ms: p50 50, p95 95. Queue waits: 90 jobs of 10 ms and 10 of 1000 ms: p50 10, p95 1000.
    for (let i = 1; i <= 100; i++) {
      ended({
        at: h + i * 1000,
        task: t,
        state: i <= 90 ? 'succeeded' : i <= 97 ? 'failed' : 'canceled',
        attempt: i === 1 ? 2 : 1,
        timings: { execute_ms: i, queue_wait_ms: i <= 90 ? 10 : 1000, route_ms: null, close_ms: i <= 90 ? 30 : null },
        usage: i <= 4 ? { inputTokens: 100, outputTokens: 20, ...(i <= 2 ? { costUsd: 0.25 } : {}) } : null,
      });
    }
    decision('route_decisions', h + 10, true, t);
    decision('route_decisions', h + 20, false, t);
    decision('close_decisions', h + 30, true, t);
    const report = rollupStats(store.opened.sqlite, { now: h + 30 * 60_000 });
    expect(report).toMatchObject({ from: h, hours: 1, jobs: 100 });
    const [row] = rows();
    expect(row).toMatchObject({
      hour: h,
      succeeded: 90,
      failed: 7,
      canceled: 3,
      executeP50: 50,
      executeP95: 95,
      queueWaitP50: 10,
      queueWaitP95: 1000,
      routeP50: null,
      routeP95: null,
      closeP50: 30,
      closeP95: 30,
      routeCalls: 1,
      closeCalls: 1,
      agentRuns: 101,
      inputTokens: 400,
      outputTokens: 80,
      costUsd: 0.5,
      jobsWithCost: 2,
      depthSamples: 0,
      depthMax: null,
      rolledAt: h + 30 * 60_000,
    });
    expect(usageRows()).toEqual([
      { hour: h, task_id: t, jobs: 100, input_tokens: 400, output_tokens: 80, cost_usd: 0.5, jobs_with_cost: 2 },
    ]);
  });

  it('is idempotent: a second run over the same data writes the same rows', () => {
    const t = task('one');
    for (let i = 0; i < 20; i++) ended({ at: T0 + 2 * H + i * 60_000, task: t, usage: { inputTokens: i } });
    ended({ at: T0 + 3 * H + 5, task: null, state: 'failed' });
    const now = T0 + 3 * H + 600_000;
    rollupStats(store.opened.sqlite, { now });
    const first = { stats: rows(), usage: usageRows() };
    const again = rollupStats(store.opened.sqlite, { now });
    expect(again).toMatchObject({ from: T0 + 2 * H, hours: 2, jobs: 21 });
    expect({ stats: rows(), usage: usageRows() }).toEqual(first);
    expect(first.usage).toHaveLength(2);
    expect(first.usage[1]).toMatchObject({ task_id: '', jobs: 1, input_tokens: 0, cost_usd: null });
  });

  it('counts each queue depth sample once, in its hour', () => {
    const now = T0 + 10 * H + 30 * 60_000;
    const samples = [
      { at: T0 + 9 * H + 59 * 60_000, depth: 7 },
      { at: T0 + 10 * H + 60_000, depth: 2 },
      { at: T0 + 10 * H + 120_000, depth: 4 },
    ];
    rollupStats(store.opened.sqlite, { now, samples });
    expect(rollupStats(store.opened.sqlite, { now, samples: [...samples, { at: now, depth: 0 }] }).samples).toBe(1);
    expect(rows().map((r) => [r.hour, r.depthSamples, r.depthSum, r.depthMax])).toEqual([
      [T0 + 9 * H, 1, 7, 7],
      [T0 + 10 * H, 3, 6, 4],
    ]);
    const series = store.stats.series({ from: T0 + 9 * H, bucketMs: 2 * H, count: 1 });
    expect(series.buckets[0]?.depth).toEqual({ max: 7, avg: 3.25 });
  });

  it('backfills the hours missed after a gap, bounded on the first run', () => {
    const t = task('one');
    // Older than the 31-day bound: never rolled up.
    ended({ at: T0 - 40 * 24 * H, task: t });
    ended({ at: T0 + 30 * 60_000, task: t });
    let r = rollupStats(store.opened.sqlite, { now: T0 + H + 60_000 });
    expect(r).toMatchObject({ from: T0, hours: 2, jobs: 1 });
    // Down for five hours; jobs ended in two of them (a clock that went back, or another process on the file).
    ended({ at: T0 + 3 * H + 1, task: t, state: 'failed' });
    ended({ at: T0 + 5 * H + 1, task: t });
    r = rollupStats(store.opened.sqlite, { now: T0 + 6 * H + 60_000 });
    expect(r).toMatchObject({ from: T0 + H, hours: 6, jobs: 2 });
    expect(rows().map((x) => [(x.hour - T0) / H, x.succeeded, x.failed])).toEqual([
      [0, 1, 0],
      [1, 0, 0],
      [2, 0, 0],
      [3, 0, 1],
      [4, 0, 0],
      [5, 1, 0],
      [6, 0, 0],
    ]);
    // Back in normal operation: the previous and the current hour only.
    expect(rollupStats(store.opened.sqlite, { now: T0 + 6 * H + 120_000 })).toMatchObject({
      from: T0 + 5 * H,
      hours: 2,
    });
  });
});

describe('reading the history', () => {
  it('merges hours into longer buckets: exact figures for one hour, histograms for several', () => {
    const t = task('one');
    for (let i = 1; i <= 10; i++) ended({ at: T0 + i, task: t, timings: { execute_ms: 100 * i } });
    for (let i = 1; i <= 10; i++) ended({ at: T0 + H + i, task: t, timings: { execute_ms: 10_000 } });
    rollupStats(store.opened.sqlite, { now: T0 + 2 * H - 1 });
    const hourly = store.stats.series({ from: T0, bucketMs: H, count: 2 });
    expect(hourly.buckets.map((b) => b.latency.execute)).toEqual([
      { p50: 500, p95: 1000 },
      { p50: 10_000, p95: 10_000 },
    ]);
    const merged = store.stats.series({ from: T0, bucketMs: 2 * H, count: 1 });
    // 20 values: 100..1000 and ten of 10000 → p50 is 1000, p95 10000, each within its bin's 9 %.
    const e = merged.buckets[0]?.latency.execute;
    expect(Math.abs((e?.p50 ?? 0) - 1000) / 1000).toBeLessThan(0.1);
    expect(Math.abs((e?.p95 ?? 0) - 10_000) / 10_000).toBeLessThan(0.1);
    expect(merged.buckets[0]?.jobs).toEqual({ succeeded: 20, failed: 0, canceled: 0 });
    expect(merged.totals.jobs.succeeded).toBe(20);
    expect(merged.rolledUpAt).toBe(T0 + 2 * H - 1);
  });

  it('aligns buckets to UTC hours, six-hour blocks and days, the current one last', () => {
    const now = Date.UTC(2026, 10, 2, 13, 25);
    expect(new Date(alignedStart(now, H, 24)).toISOString()).toBe('2026-11-01T14:00:00.000Z');
    expect(new Date(alignedStart(now, 6 * H, 28)).toISOString()).toBe('2026-10-26T18:00:00.000Z');
    expect(new Date(alignedStart(now, 24 * H, 30)).toISOString()).toBe('2026-10-04T00:00:00.000Z');
  });

  it('usage by day and by task: rolled-up hours plus the jobs since the last rollup; cost null when none reported', () => {
    const a = task('alpha');
    const b = task('beta');
    const day1 = T0 + 10 * H;
    const day2 = T0 + 24 * H + 2 * H;
    ended({ at: day1, task: a, usage: { inputTokens: 100, outputTokens: 10, costUsd: 0.5 } });
    ended({ at: day1 + 1, task: b, usage: { inputTokens: 50, outputTokens: 5 } });
    ended({ at: day2, task: a, usage: { inputTokens: 1, outputTokens: 1, costUsd: 0.25 } });
    ended({ at: day2 + 1, task: null, state: 'canceled' });
    rollupStats(store.opened.sqlite, { now: day2 + 600_000 });
    // After the rollup: one more job in the current hour (read from the jobs themselves).
    ended({ at: day2 + 900_000, task: b, usage: { inputTokens: 7, outputTokens: 3 } });

    const byDay = store.stats.usage({ since: T0, by: 'day' });
    expect(byDay.liveFrom).toBe(T0 + 26 * H);
    expect(byDay.rows).toEqual([
      { key: '2026-11-02', title: null, jobs: 2, inputTokens: 150, outputTokens: 15, costUsd: 0.5, jobsWithCost: 1 },
      { key: '2026-11-03', title: null, jobs: 3, inputTokens: 8, outputTokens: 4, costUsd: 0.25, jobsWithCost: 1 },
    ]);
    expect(byDay.total).toEqual({ jobs: 5, inputTokens: 158, outputTokens: 19, costUsd: 0.75, jobsWithCost: 2 });

    const byTask = store.stats.usage({ since: T0, by: 'task' });
    expect(byTask.rows.map((r) => [r.key, r.title, r.jobs, r.inputTokens, r.costUsd])).toEqual([
      [a, 'alpha', 2, 101, 0.75],
      [b, 'beta', 2, 57, null],
      [null, null, 1, 0, null],
    ]);
    // `since` is rounded down to its hour: day 2 only.
    expect(store.stats.usage({ since: day2 + 1, by: 'day' }).total.jobs).toBe(3);
    expect(store.stats.taskUsage(a)).toEqual({
      jobs: 2,
      inputTokens: 101,
      outputTokens: 11,
      costUsd: 0.75,
      jobsWithCost: 2,
    });
    expect(store.stats.taskUsage(b).costUsd).toBeNull();
  });

  it('before the first rollup, usage reads the jobs themselves', () => {
    const a = task('alpha');
    ended({ at: T0 + H, task: a, usage: { inputTokens: 3, outputTokens: 4 } });
    const r = store.stats.usage({ since: T0, by: 'task' });
    expect(r.liveFrom).toBe(T0);
    expect(r.total).toEqual({ jobs: 1, inputTokens: 3, outputTokens: 4, costUsd: null, jobsWithCost: 0 });
  });
});
