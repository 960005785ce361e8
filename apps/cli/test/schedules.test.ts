import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Schedule } from '@alter0/api';
import type { Served } from './harness.js';
import { cli, serve, tempDir, until } from './harness.js';

/*
 * The owner's schedules through the real `alter0 serve`: firing with --every, clear errors for bad timings,
 * exactly once per slot across kill -9 around firings, the missed-run policy after a long stop, and auto-pause
 * after repeated failures.
 */
const PERIOD_MS = 10_000;

function dbRows<T>(data: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(data, 'alter0.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

const waitFor = <T>(what: string, fn: () => T | PromiseLike<T>, timeoutMs = 20_000) => until(fn, { what, timeoutMs });

const schedule = async (s: Served, id: string): Promise<Schedule> =>
  (await s.client.listSchedules()).find((x) => x.id === id) ?? expect.fail(`schedule ${id} is gone`);

describe('schedules (real daemon)', () => {
  const dir = tempDir('alter0-schedules-');
  const data = path.join(dir, 'data');
  const env = {
    ALTER0_CLOSER__ENABLED: 'false',
    ALTER0_QUEUE__MAX_ATTEMPTS: '1',
    ALTER0_SCHEDULES__MAX_CONSECUTIVE_FAILURES: '2',
  };
  let s: Served;

  beforeAll(async () => {
    s = await serve({ data, env });
  }, 60_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('refuses bad timings with errors that say what to write', async () => {
    const bad = await s.api<{ error: { code: string; message: string } }>('POST', '/api/schedules', {
      text: 'x',
      cron: '61 * * * *',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/invalid cron pattern "61 \* \* \* \*".*minute/);
    const both = await s.api<{ error: { message: string } }>('POST', '/api/schedules', {
      text: 'x',
      every: '1h',
      at: '+1h',
    });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toContain('give only one of cron, every and at');
    const short = await cli(['schedule', 'add', '--every', '5s', 'too often', '--addr', s.url]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('the period "5s" is too short: the shortest period is 10s');
    const zone = await cli(['schedule', 'add', '--cron', '0 9 * * *', '--tz', 'Mars/Base', 'x', '--addr', s.url]);
    expect(zone.stderr).toContain('unknown time zone "Mars/Base"');
    const none = await cli(['schedule', 'add', 'no timing', '--addr', s.url]);
    expect(none.stderr).toContain('say when');
    expect(await s.client.listSchedules()).toEqual([]);
  });

  it('fires --every on its slots as jobs on channel schedule, and shows them', async () => {
    const add = await cli(['schedule', 'add', '--every', '10s', 'scheduled hello', '--json', '--addr', s.url]);
    expect(add.code, add.stderr).toBe(0);
    const sch = JSON.parse(add.stdout) as Schedule;
    expect(sch).toMatchObject({
      kind: 'every',
      every: '10s',
      description: 'every 10s',
      state: 'active',
      lane: 'background',
    });
    expect(Date.parse(sch.next_run_at ?? '') - Date.parse(sch.created_at)).toBe(PERIOD_MS);
    const fired = await waitFor(
      'the first firing to succeed',
      async () => {
        const x = await schedule(s, sch.id);
        return x.last_result === 'succeeded' ? x : undefined;
      },
      30_000,
    );
    const job = await s.client.getJob(fired.last_job_id ?? '');
    expect(job).toMatchObject({ channel_id: 'schedule', state: 'succeeded' });
    expect(job.reply).toContain('scheduled hello');
    expect(fired.last_fired_at).toBe(sch.next_run_at);
    const listed = await cli(['schedule', 'list', '--addr', s.url]);
    expect(listed.stdout).toContain(sch.id);
    expect(listed.stdout).toContain('every 10s');
    const shown = await s.client.getSchedule(sch.id);
    expect(shown.runs[0]).toMatchObject({ job_id: job.id, result: 'succeeded', slot_at: sch.next_run_at });
    const st = await s.client.status();
    expect(st.components.scheduler.details.schedules).toMatchObject({ count: 1, active: 1, next_id: sch.id });
    await cli(['schedule', 'rm', sch.id, '--addr', s.url]);
  }, 60_000);

  it('pauses a schedule whose jobs keep failing, says why, and resumes it', async () => {
    const sch = await s.client.addSchedule({ text: 'this will fail', every: '24h' });
    const first = await cli(['schedule', 'run-now', sch.id, '--addr', s.url]);
    expect(first.code, first.stderr).toBe(0);
    await waitFor('the first failure counted', async () =>
      (await schedule(s, sch.id)).consecutive_failures === 1 ? true : undefined,
    );
    await s.client.runSchedule(sch.id);
    const paused = await waitFor('the schedule paused', async () => {
      const x = await schedule(s, sch.id);
      return x.state === 'paused' ? x : undefined;
    });
    expect(paused.paused_reason).toMatch(
      /paused after 2 failed runs in a row \(last: .*exit 7.*\); fix the cause, then resume it/,
    );
    expect(paused.next_run_at).toBeNull();
    const st = await s.client.status();
    expect(st.components.scheduler.details.schedules.paused_ids).toEqual([
      { id: sch.id, reason: paused.paused_reason },
    ]);
    const line = await cli(['status', '--addr', s.url]);
    expect(line.stdout).toContain(`paused ${sch.id}: paused after 2 failed runs in a row`);
    const events = dbRows<{ kind: string; message: string }>(
      data,
      `SELECT kind, message FROM events WHERE kind = 'schedule_paused'`,
    );
    expect(events).toHaveLength(1);
    expect(events[0]?.message).toContain(sch.id);
    const resumed = await cli(['schedule', 'resume', sch.id, '--json', '--addr', s.url]);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ state: 'active', paused_reason: null, consecutive_failures: 0 });
    await s.client.removeSchedule(sch.id);
  }, 60_000);
});

describe('schedules across crashes and downtime (real daemon)', () => {
  const dir = tempDir('alter0-schedules-crash-');
  const data = path.join(dir, 'data');
  const env = { ALTER0_CLOSER__ENABLED: 'false' };

  it('fires each slot exactly once across kill -9 around its firing', async () => {
    let s = await serve({ data, env });
    const sch = await s.client.addSchedule({ text: 'crash tick', every: '10s' });
    const anchor = Date.parse(sch.created_at);
    const KILLS = 4;
    try {
      for (let k = 1; k <= KILLS; k++) {
        // Around slot k: from 60 ms before it to 200 ms after, when the firing and its commit happen.
        const at = anchor + k * PERIOD_MS - 60 + Math.floor(Math.random() * 260);
        await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
        await s.stop('SIGKILL');
        await s.cleanup();
        s = await serve({ data, env });
      }
      // One slot after the last kill fires undisturbed.
      await waitFor(
        'the slot after the last kill to fire',
        () => {
          const n = dbRows<{ n: number }>(
            data,
            'SELECT count(*) AS n FROM schedule_runs WHERE slot_at = ?',
            anchor + (KILLS + 1) * PERIOD_MS,
          )[0]?.n;
          return n === 1 ? true : undefined;
        },
        30_000,
      );
      const runs = dbRows<{ slot_at: number; job_id: string }>(
        data,
        'SELECT slot_at, job_id FROM schedule_runs ORDER BY slot_at',
      );
      const jobs = dbRows<{ id: string }>(data, `SELECT id FROM jobs WHERE channel_id = 'schedule'`);
      // Every slot from the first to the last fired once: none lost, none twice, one job each.
      expect(runs.map((r) => (r.slot_at - anchor) / PERIOD_MS)).toEqual([1, 2, 3, 4, 5].slice(0, runs.length));
      expect(runs.length).toBeGreaterThanOrEqual(KILLS + 1);
      expect(new Set(runs.map((r) => r.job_id)).size).toBe(runs.length);
      expect(jobs.map((j) => j.id).sort()).toEqual(runs.map((r) => r.job_id).sort());
    } finally {
      await s.cleanup();
    }
  }, 150_000);

  it('after a stop longer than two periods runs one catch-up (once) or none (skip)', async () => {
    const d2 = path.join(tempDir('alter0-schedules-missed-'), 'data');
    let s = await serve({ data: d2, env });
    const sch = await s.client.addSchedule({ text: 'daily digest', every: '1h' });
    await s.stop();
    // An hour and a half of downtime: the stored slot is now long past (the daemon only compares it with its clock).
    const shift = (ms: number): void => {
      const db = new Database(path.join(d2, 'alter0.db'));
      db.prepare('UPDATE schedules SET next_run_at = next_run_at - ?, created_at = created_at - ?').run(ms, ms);
      db.close();
    };
    shift(150 * 60_000);
    s = await serve({ data: d2, env });
    const caught = await waitFor('the catch-up run', async () => {
      const x = await schedule(s, sch.id);
      return x.last_result === 'succeeded' ? x : undefined;
    });
    const runs = (await s.client.getSchedule(sch.id)).runs;
    expect(runs).toHaveLength(1);
    expect(Date.parse(caught.next_run_at ?? '')).toBeGreaterThan(Date.now());
    const missed = dbRows<{ message: string }>(d2, `SELECT message FROM events WHERE kind = 'schedule_missed'`);
    expect(missed[0]?.message).toMatch(/missed 1 run while alter0 was stopped or busy; one catch-up run starts now/);
    await s.stop();

    shift(150 * 60_000);
    s = await serve({ data: d2, env: { ...env, ALTER0_SCHEDULES__MISSED: 'skip' } });
    try {
      const skipped = await waitFor('the missed slots skipped', async () => {
        const x = await schedule(s, sch.id);
        return x.last_result === 'missed' ? x : undefined;
      });
      expect((await s.client.getSchedule(sch.id)).runs).toHaveLength(1);
      expect(Date.parse(skipped.next_run_at ?? '')).toBeGreaterThan(Date.now());
    } finally {
      await s.cleanup();
    }
  }, 90_000);
});
