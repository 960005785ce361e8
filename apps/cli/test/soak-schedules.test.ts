import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, tempDir, until } from './harness.js';
import {
  DaemonProcess,
  duplicateSlots,
  judgeSchedules,
  parseOptions,
  prepareRun,
  readSchedules,
  schedulesFeature,
  longestQuietMs,
  slotsBetween,
  stalls,
} from '@alter0/soak';
import type { FiringLook, Judged, ScheduleObservation } from '@alter0/soak';

// The day profile's schedules (tooling/soak/src/day/schedules.ts) against the real `alter0 serve`: an `every 10s`
// schedule, the daemon killed -9 and kept down across two slots (one catch-up, one slot counted missed), then on
// time again; the final checks pass on it, and each check fails on the same observation once it is broken.

const AGENT = fileURLToPath(new URL('../../../tooling/soak/dist/agent.js', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The findings of a judge, one line each. */
const lines = (obs: ScheduleObservation, judged: readonly Judged[]): string[] =>
  judgeSchedules(obs, judged).findings.map((f) => `${f.kind}: ${f.detail}`);

describe('soak day: schedules against the real daemon', () => {
  let obs: ScheduleObservation | null = null;
  let judged: Judged[] = [];

  it('fires every slot once across a kill -9: on time, or caught up and counted missed', async () => {
    const out = tempDir('alter0-soak-sched-');
    dirs.push(out);
    const opts = parseOptions(['--duration', '60s', '--out', path.join(out, 'r.md'), '--kill-every', '0'], BIN);
    const ac = new AbortController();
    const logs: string[] = [];
    const run = prepareRun(opts, { agent: AGENT }, ac.signal, (l) => logs.push(l));
    dirs.push(run.work);
    const feature = schedulesFeature({ every: ['10s'], cron: [], checkEveryMs: 0 });
    const p = await feature.prepare(run);
    run.spec.sets.push(...p.sets);
    Object.assign(run.spec.env, p.env);
    run.daemon = await DaemonProcess.start(run.spec, run.gen, ac.signal);
    run.up = true;
    try {
      const t0 = Date.now();
      const load = feature.load?.(run, t0 + 33_000);
      await until(() => feature.judged().length === 1 || undefined, { what: 'the schedule to be made' });
      // Down from ~1 s to ~22 s after the schedule was made: its slots at 10 s and 20 s pass while nothing runs.
      const d = run.daemon;
      run.up = false;
      d.kill9();
      await d.exited;
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + 20_500 - Date.now())));
      run.gen++;
      run.daemon = await DaemonProcess.start(run.spec, run.gen, ac.signal);
      run.up = true;
      await load;
      await feature.poll?.(run);
      await feature.final?.(run);
      const c = run.result.features.schedules ?? {};
      const report = JSON.stringify({ c, violations: run.result.violations, logs }, null, 1);
      expect(run.result.violations, report).toEqual([]);
      expect(c.slots_planned, report).toBe(3);
      expect(c.catch_ups, report).toBe(1);
      expect(c.missed, report).toBe(1);
      expect(c.fired, report).toBe(1);
      expect(c.paused_by_harness, report).toBe(1);
      expect(run.result.checks.schedule_duplicate).toBeGreaterThan(0);
      expect(run.result.checks.schedule_lost).toBeGreaterThan(0);
      judged = feature.judged();
      obs = await readSchedules(run.dbFile, ac.signal);
    } finally {
      await run.daemon?.stop(10_000, true);
      await feature.close();
    }
  }, 60_000);

  it('fails each check on the same observation once it is broken', () => {
    if (obs === null) throw new Error('the live test did not run');
    const o = obs;
    expect(lines(o, judged)).toEqual([]);
    const [first] = o.runs;
    if (first === undefined) throw new Error('no firing');
    // a slot fired twice (two firings, two jobs)
    const twice = { ...o, runs: [...o.runs, { ...first, id: 'f_dup', job_id: 'j_dup' }] };
    twice.jobs = [...o.jobs, { id: 'j_dup', session_id: first.schedule_id, retry_of: null }];
    expect(lines(twice, judged)).toEqual([expect.stringMatching(/^schedule_duplicate: slot .* fired 2 times/)]);
    // one job for two firings
    const shared = { ...o, runs: [...o.runs, { ...first, id: 'f_dup', slot_at: first.slot_at + 1 }] };
    expect(lines(shared, judged)).toEqual([
      expect.stringMatching(new RegExp(`^schedule_duplicate: job ${first.job_id} belongs to 2 firings`)),
    ]);
    // a firing without its job
    const noJob = { ...o, runs: o.runs.map((r) => (r.id === first.id ? { ...r, job_found: 0 } : r)) };
    expect(lines(noJob, judged)).toEqual([expect.stringMatching(/^schedule_lost: firing .* which does not exist/)]);
    // a schedule job without its firing
    const stray = { ...o, jobs: [...o.jobs, { id: 'j_stray', session_id: first.schedule_id, retry_of: null }] };
    expect(lines(stray, judged)).toEqual([
      expect.stringMatching(/^schedule_lost: job j_stray .* belongs to no firing/),
    ]);
    // a slot neither fired nor counted missed
    const uncounted = { ...o, events: o.events.filter((e) => e.kind !== 'schedule_missed') };
    expect(lines(uncounted, judged)).toEqual([
      expect.stringMatching(/^schedule_lost: schedule .* 3 slots .* 2 fired, 0 counted missed, 0 refused — 1 neither/),
    ]);
    // a schedule the harness made that the database does not hold
    expect(lines(o, [...judged, { id: 's_gone', endAt: null }])).toEqual([
      expect.stringMatching(/^schedule_lost: schedule s_gone is not in the database/),
    ]);
  });

  it('counts slots of every periods and of cron * * * * *, and finds a duplicate in the API firings', () => {
    expect(slotsBetween('every', '10000', 0, 30_000)).toBe(2);
    expect(slotsBetween('every', '10000', 5, 30_006)).toBe(3);
    expect(slotsBetween('cron', '* * * * *', 1000, 180_000)).toBe(2);
    expect(slotsBetween('cron', '0 9 * * *', 0, 1e9)).toBeNull();
    const at = '2026-01-01T00:00:10.000Z';
    expect(
      duplicateSlots('s_x', [
        { slot_at: at, kind: 'slot' },
        { slot_at: at, kind: 'now' },
      ]),
    ).toEqual([]);
    expect(
      duplicateSlots('s_x', [
        { slot_at: at, kind: 'slot' },
        { slot_at: at, kind: 'catch_up' },
      ]),
    ).toEqual([{ kind: 'schedule_duplicate', detail: `schedule s_x fired its slot ${at} twice` }]);
  });

  it('finds a schedule that stopped firing while the daemon was up, and excuses downtime and hostile moments', () => {
    // A look every 30 s; `fires` says from which look on no new firing appears (a schedule that only counts its
    // slots missed, as the schedule-slot-not-consumed mutant does).
    const looks = (n: number, stopsAt: number, active = true): FiringLook[] =>
      Array.from({ length: n }, (_, i) => ({
        at: i * 30_000,
        active,
        runIds: [`f_${Math.min(i, stopsAt)}`, `f_${Math.min(i, stopsAt) - 1}`],
      }));
    const stall = 150_000;
    // Firing on every look: nothing to say.
    expect(stalls(looks(20, 99), stall, [])).toEqual([]);
    // Stops at look 4 (120 s): from there to the last look (570 s) nothing new.
    expect(stalls(looks(20, 4), stall, [])).toEqual([{ from: 120_000, to: 570_000 }]);
    // Shorter than the bound: 120 s → 240 s.
    expect(stalls(looks(9, 4), stall, [])).toEqual([]);
    // A hostile moment (and the time to follow it) covers most of it: 20 s left in which the daemon was up.
    expect(stalls(looks(12, 4), stall, [{ from: 100_000, to: 310_000 }])).toEqual([]);
    // Restarts of a storm (1 s down in every 4.5 s) do not hide it: a restarted daemon fires its catch-up.
    const storm = Array.from({ length: 130 }, (_, k) => ({ from: k * 4500, to: k * 4500 + 1000 }));
    expect(stalls(looks(20, 4), stall, storm)).toEqual([{ from: 120_000, to: 570_000 }]);
    // Paused (by the owner, or after failures): not expected to fire.
    expect(stalls(looks(20, 4, false), stall, [])).toEqual([]);
    // Overlapping excused windows count once.
    expect(
      stalls(looks(20, 4), stall, [
        { from: 120_000, to: 400_000 },
        { from: 200_000, to: 350_000 },
      ]),
    ).toEqual([{ from: 120_000, to: 570_000 }]);
    // The margin the report logs: the longest quiet stretch outside excused time.
    expect(longestQuietMs(looks(20, 99), [])).toBe(0);
    expect(longestQuietMs(looks(20, 4), [{ from: 120_000, to: 400_000 }])).toBe(170_000);
  });
});
