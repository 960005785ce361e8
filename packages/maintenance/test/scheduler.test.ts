import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nullLogger } from '@alter0/obs';
import { Store } from '@alter0/store';
import { startScheduler } from '../src/scheduler.js';
import type { Scheduler } from '../src/scheduler.js';
import { tempDir } from './fixtures.js';

let dir: string;
let store: Store;
let scheduler: Scheduler | null;

beforeEach(() => {
  dir = tempDir();
  store = Store.open({ file: path.join(dir, 'alter0.db') });
  scheduler = null;
});
afterEach(async () => {
  await scheduler?.stop();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const row = (job: string) => store.events.maintenance().find((r) => r.job === job);

describe('scheduler', () => {
  it('runs interval jobs, records each run and its next run time in maintenance_runs', async () => {
    let runs = 0;
    scheduler = startScheduler({
      jobs: [{ name: 'tick', every: 40, run: async () => void runs++ }],
      store,
      logger: nullLogger(),
      startDelayMs: 0,
    });
    await until('three runs', () => runs >= 3);
    const r = row('tick')!;
    expect(r.consecutiveFailures).toBe(0);
    expect(r.lastSuccessAt).toBeGreaterThan(0);
    expect(r.lastStartAt).toBeGreaterThan(0);
    const status = scheduler.status()[0]!;
    expect(status.name).toBe('tick');
    expect(status.lastSuccessAt).not.toBeNull();
    await scheduler.stop();
    expect(scheduler.status()[0]!.nextRunAt).toBeNull();
    const after = runs;
    await new Promise((r) => setTimeout(r, 120));
    expect(runs).toBe(after);
  });

  it('counts failures in a row, retries with backoff, and writes an event for each failure and for the recovery', async () => {
    let calls = 0;
    scheduler = startScheduler({
      jobs: [
        {
          name: 'flaky',
          every: 60_000,
          run: async () => {
            calls++;
            if (calls <= 2) throw new Error(`disk hiccup ${calls}`);
          },
        },
      ],
      store,
      logger: nullLogger(),
      startDelayMs: 0,
      retryMs: 20,
    });
    await until('a failure', () => row('flaky')?.consecutiveFailures === 1);
    expect(row('flaky')).toMatchObject({ lastError: 'disk hiccup 1' });
    await until('the recovery', () => calls >= 3 && row('flaky')?.consecutiveFailures === 0);
    const r = row('flaky')!;
    // After the success the next run is a full interval away.
    expect(r.nextRunAt! - r.lastSuccessAt!).toBe(60_000);
    const events = store.events.recent({ component: 'scheduler' }).reverse();
    expect(events.map((e) => e.kind)).toEqual(['maintenance_failed', 'maintenance_failed', 'maintenance_recovered']);
    expect(events[1]!.message).toContain('maintenance job flaky failed (2 in a row): disk hiccup 2');
    expect(events[2]!.message).toContain('succeeded again after 2 failure(s)');
  });

  it('an interval job that succeeded recently waits for its interval after a restart', () => {
    store.events.maintenanceStarted('backup', 1_000);
    store.events.maintenanceFinished('backup', { ok: true, now: 1_000, nextRunAt: 1_000 + 3_600_000 });
    scheduler = startScheduler({
      jobs: [
        { name: 'backup', every: 3_600_000, run: async () => undefined },
        { name: 'fresh', every: 3_600_000, run: async () => undefined },
        // A job may ask to start sooner (the stats rollup: one interval), never later.
        { name: 'quick', every: 1_000, startDelayMs: 1_000, run: async () => undefined },
        { name: 'patient', every: 3_600_000, startDelayMs: 60_000, run: async () => undefined },
      ],
      store,
      logger: nullLogger(),
      now: () => 2_000,
      startDelayMs: 30_000,
    });
    const [b, f, q, p] = scheduler.status();
    expect(b!.nextRunAt).toBe(1_000 + 3_600_000);
    expect(f!.nextRunAt).toBe(2_000 + 30_000);
    expect(q!.nextRunAt).toBe(2_000 + 1_000);
    expect(p!.nextRunAt).toBe(2_000 + 30_000);
  });

  it('computes cron schedules and rejects bad patterns and duplicate names', () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    scheduler = startScheduler({
      jobs: [{ name: 'nightly', every: '0 3 * * *', run: async () => undefined }],
      store,
      logger: nullLogger(),
      now: () => now,
    });
    const next = new Date(scheduler.status()[0]!.nextRunAt!);
    expect(next.getTime()).toBeGreaterThan(now);
    expect(next.getMinutes()).toBe(0);
    expect(next.getHours()).toBe(3);
    expect(() =>
      startScheduler({
        jobs: [{ name: 'x', every: 'not a cron', run: async () => undefined }],
        store,
        logger: nullLogger(),
      }),
    ).toThrow(/"not a cron" is not a cron pattern/);
    expect(() =>
      startScheduler({
        jobs: [
          { name: 'x', every: 1000, run: async () => undefined },
          { name: 'x', every: 1000, run: async () => undefined },
        ],
        store,
        logger: nullLogger(),
      }),
    ).toThrow(/listed twice/);
  });

  it('stop() signals the running job and waits for it to finish', async () => {
    let started = false;
    let finished = false;
    let sawAbort = false;
    scheduler = startScheduler({
      jobs: [
        {
          name: 'slow',
          every: 60_000,
          run: (signal) =>
            new Promise<void>((resolve, reject) => {
              started = true;
              signal.addEventListener('abort', () => {
                sawAbort = true;
                // Cleanup takes a moment; stop() must wait for it.
                setTimeout(() => {
                  finished = true;
                  reject(new Error('aborted'));
                }, 50);
              });
            }),
        },
      ],
      store,
      logger: nullLogger(),
      startDelayMs: 0,
    });
    await until('the job to start', () => started);
    expect(scheduler.status()[0]!.running).toBe(true);
    await scheduler.stop();
    expect(sawAbort).toBe(true);
    expect(finished).toBe(true);
    expect(row('slow')).toMatchObject({ consecutiveFailures: 1, nextRunAt: null });
  });

  it('a job over its timeout is aborted and recorded as failed', async () => {
    scheduler = startScheduler({
      jobs: [
        {
          name: 'hang',
          every: 60_000,
          timeoutMs: 30,
          run: (signal) =>
            new Promise<void>((_, reject) =>
              signal.addEventListener('abort', () => reject(new Error(`gave up: ${String(signal.reason)}`))),
            ),
        },
      ],
      store,
      logger: nullLogger(),
      startDelayMs: 0,
    });
    await until('the timeout', () => row('hang')?.consecutiveFailures === 1);
    expect(row('hang')?.lastError).toMatch(/gave up/);
  });
});
