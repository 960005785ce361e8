/**
 * The day soak's time moments against the real `alter0 serve` (tooling/soak/src/day): the systemd-like watchdog
 * (a fake systemd-notify records the daemon's pings), SIGSTOP within and beyond WatchdogSec, and wall-clock jumps
 * under libfaketime. Each expectation is also shown to fail: a daemon that never pings is declared hung and a
 * generation that never said READY=1 is reported, and made-up observations fail each check of the moments.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, tempDir } from './harness.js';
import {
  DaemonProcess,
  FAKETIME_INSTALL,
  clockFeature,
  clockJumpMoment,
  encodePlan,
  findFaketime,
  judgeJump,
  judgeStop,
  parseOptions,
  prepareRun,
  requestRestart,
  stopMoment,
  supervise,
  watchdogFeature,
} from '@alter0/soak';
import type { JumpObservation, SoakFeature, SoakRun, StopObservation } from '@alter0/soak';

const AGENT = path.join(path.dirname(fileURLToPath(import.meta.resolve('@alter0/soak/main'))), 'agent.js');
const WATCHDOG_SEC = 4;

const open: { run: SoakRun; features: SoakFeature[]; ac: AbortController }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.run.loadOn = false;
    await o.run.daemon?.stop(5000, true);
    for (const f of o.features) await f.close();
    o.ac.abort();
    fs.rmSync(o.run.work, { recursive: true, force: true });
  }
});

/** A run state with `features` prepared and generation 1 serving, supervised like the soak's. */
async function startRun(features: SoakFeature[], edit?: (run: SoakRun) => void): Promise<SoakRun> {
  const out = path.join(tempDir('alter0-soak-time-'), 'report.md');
  const opts = parseOptions(
    ['--duration', '60s', '--out', out, '--job-timeout', '8s', '--seed', '11', '--workers', '2,1'],
    BIN,
  );
  const ac = new AbortController();
  const lines: string[] = [];
  const run = prepareRun(opts, { agent: AGENT }, ac.signal, (l) => lines.push(l));
  run.features = features;
  open.push({ run, features, ac });
  for (const f of features) {
    const { sets, env } = await f.prepare(run);
    run.spec.sets.push(...sets);
    Object.assign(run.spec.env, env);
  }
  // Backoff long enough for a clock jump to land while a retry waits.
  run.spec.sets.push('queue.backoff_initial_ms=4000', 'queue.backoff_max_ms=6000');
  edit?.(run);
  run.daemon = await DaemonProcess.start(run.spec, run.gen, ac.signal);
  run.up = true;
  supervise(run, run.daemon);
  return run;
}

function hostile(run: SoakRun): string[] {
  return run.result.violations.filter((v) => v.kind === 'hostile_outcome').map((v) => v.detail);
}

/** A job whose agent hangs on its first attempt: its 5 s timeout passes while the daemon is stopped (mostly). */
async function hangingJob(run: SoakRun): Promise<string> {
  const plan = { key: 'hang-at-stop', exec: 'hang' as const, n: 1, route: 'ok' as const, close: 'yes' as const };
  const a = await run.api.call((c, o) =>
    c.submitJob({ content: `${encodePlan(plan)} x`, channel_id: 'soak', lane: 'interactive', timeout_s: 5 }, o),
  );
  if (a.kind !== 'ok') throw new Error('the hanging job was not accepted');
  return a.value.job_id;
}

describe('watchdog and SIGSTOP (real alter0 serve)', () => {
  it('within WatchdogSec the daemon carries on; beyond it the watchdog has it killed and restarted', async () => {
    const wd = watchdogFeature({
      watchdogSec: WATCHDOG_SEC,
      onHung: async () => requestRestart(run, 'watchdog'),
    });
    const run = await startRun([wd]);
    await hangingJob(run);
    await new Promise((r) => setTimeout(r, 1500));
    const short = await stopMoment({ stopMs: 2500, watchdog: wd }).run(run);
    expect(hostile(run)).toEqual([]);
    expect(short).toMatchObject({ ok: true, observed: { restarted: false, declared_hung: false, jobs_stuck: 0 } });
    expect(short.observed.running_at_stop).toBeGreaterThanOrEqual(1);
    expect(Number(short.observed.ping_gap_ms)).toBeLessThan(WATCHDOG_SEC * 1000);
    const gen = run.gen;
    const long = await stopMoment({ stopMs: 8000, watchdog: wd }).run(run);
    expect(hostile(run)).toEqual([]);
    expect(long).toMatchObject({ ok: true, observed: { declared_hung: true, restarted: true, probe: 'succeeded' } });
    expect(run.gen).toBe(gen + 1);
    expect(run.result.restarts.at(-1)?.cause).toBe('watchdog');
    expect(wd.hangs()).toHaveLength(1);
    expect(wd.hangs()[0]?.expected).toBe(true);
    expect(wd.lastPing()).not.toBeNull();
    await wd.final?.(run);
    expect(hostile(run)).toEqual([]);
    expect(run.result.features.watchdog).toMatchObject({ hung_declared: 1 });
  });

  it('a daemon that never pings (no NOTIFY_SOCKET) is declared hung and killed, and its missing READY=1 is reported', async () => {
    const wd = watchdogFeature({ watchdogSec: WATCHDOG_SEC });
    const run = await startRun([wd], (r) => delete r.spec.env.NOTIFY_SOCKET);
    run.loadOn = false; // no supervisor restart: the kill is what is looked at
    const d = run.daemon;
    const t0 = Date.now();
    await expect.poll(() => wd.hangs().length, { timeout: 15_000, interval: 200 }).toBe(1);
    expect(Date.now() - t0).toBeLessThan(WATCHDOG_SEC * 1000 + 3000);
    await d?.exited;
    expect(wd.lastPing()).toBeNull();
    expect(hostile(run)).toEqual([expect.stringMatching(/no WATCHDOG=1 .* outside any moment/)]);
    await wd.final?.(run);
    expect(hostile(run)[1]).toMatch(/never sent READY=1/);
  });

  it('each expectation of a SIGSTOP fails when its observation says so', () => {
    const run = prepareRun(
      parseOptions(['--duration', '1s', '--out', '/dev/null'], BIN),
      { agent: AGENT },
      new AbortController().signal,
      () => undefined,
    );
    fs.rmSync(run.work, { recursive: true, force: true });
    const good: StopObservation = {
      ...{ long: false, stopMs: 2500, watchdogMs: 4000, pinged: true, answered: true, declaredHung: false },
      ...{ restarted: false, stuck: [], missing: [], probe: 'succeeded', numbers: {} },
    };
    expect(judgeStop(run, 's', good)).toBe(true);
    expect(judgeStop(run, 'l', { ...good, long: true, declaredHung: true, restarted: true })).toBe(true);
    expect(hostile(run)).toEqual([]);
    const bad: [Partial<StopObservation>, RegExp][] = [
      [{ answered: false }, /did not answer/],
      [{ stuck: ['j1#1'] }, /still running .* j1#1/],
      [{ missing: ['j2'] }, /gone \(404\): j2/],
      [{ probe: 'failed' }, /new job after the stop ended failed/],
      [{ pinged: false }, /pings did not resume/],
      [{ declaredHung: true }, /declared hung after a 2500 ms stop/],
      [{ restarted: true }, /did not carry on/],
      [{ long: true, restarted: true, declaredHung: false }, /did not declare .* hung/],
      [{ long: true, declaredHung: true, restarted: false }, /was not restarted/],
      [{ long: true, declaredHung: true, restarted: true, pinged: false }, /restarted alter0 serve sent no WATCHDOG=1/],
    ];
    for (const [change, why] of bad) {
      const before = hostile(run).length;
      expect(judgeStop(run, 'x', { ...good, ...change })).toBe(false);
      expect(hostile(run).slice(before)).toEqual([expect.stringMatching(why)]);
    }
  });
});

const lib = findFaketime();
const requireTools = process.env.ALTER0_REQUIRE_TOOLS === '1';

describe('wall-clock jumps under libfaketime (real alter0 serve)', () => {
  it.runIf(lib === null && !requireTools)(`skipped: libfaketime is not installed (${FAKETIME_INSTALL})`, () => {
    expect(lib).toBeNull();
  });

  it.runIf(lib !== null || requireTools)(
    'jumps forward, back, below real time and back: jobs across them finish, new ones succeed, agents keep real time',
    async () => {
      expect(lib, `libfaketime is required (ALTER0_REQUIRE_TOOLS=1): ${FAKETIME_INSTALL}`).not.toBeNull();
      const clock = clockFeature();
      const run = await startRun([clock]);
      const m = await clockJumpMoment({ clock, holdMs: 1500, spanMs: 2000, jumpMs: 2 * 3_600_000 }).run(run);
      expect(hostile(run)).toEqual([]);
      expect(m.ok).toBe(true);
      expect(m.observed).toMatchObject({ forward_spanning_job: 'succeeded@1', backward_backoff_job: 'succeeded@2' });
      expect(Number(m.observed.forward_effect_ms)).toBeGreaterThanOrEqual(0);
      expect(run.result.violations).toEqual([]);
    },
  );

  it('each expectation of a jump fails when its observation says so', () => {
    const run = prepareRun(
      parseOptions(['--duration', '1s', '--out', '/dev/null'], BIN),
      { agent: AGENT },
      new AbortController().signal,
      () => undefined,
    );
    fs.rmSync(run.work, { recursive: true, force: true });
    const ok1 = { state: 'succeeded', attempt: 1, errorClass: null };
    const good: JumpObservation = {
      ...{ label: 'forward', fromMs: 0, toMs: 7_200_000, effectMs: 800, answered: true, spanning: ok1 },
      ...{ backoff: { ...ok1, attempt: 2 }, probe: 'succeeded', heldProbe: 'succeeded', agentRuns: 9 },
      agentRunsOffClock: 0,
    };
    expect(judgeJump(run, good)).toBe(true);
    const bad: [Partial<JumpObservation>, RegExp][] = [
      [{ effectMs: null }, /never showed the new offset/],
      [{ answered: false }, /did not answer/],
      [{ spanning: { state: 'failed', attempt: 1, errorClass: 'timeout' } }, /across the jump ended failed\/timeout/],
      [{ spanning: { ...ok1, attempt: 2 } }, /across the jump ended succeeded at attempt 2/],
      [{ spanning: null }, /across the jump ended not accepted/],
      [{ backoff: { state: 'queued', attempt: 1, errorClass: 'rate_limited' } }, /retry backoff ended queued/],
      [{ probe: 'running' }, /a new job ended running/],
      [{ heldProbe: 'no answer' }, /after the hold, a new job ended no answer/],
      [{ agentRuns: 0 }, /no agent run was logged/],
      [{ agentRunsOffClock: 3 }, /3 agent run\(s\) logged a time off/],
    ];
    for (const [change, why] of bad) {
      const before = hostile(run).length;
      expect(judgeJump(run, { ...good, ...change })).toBe(false);
      expect(hostile(run).slice(before)).toEqual([expect.stringMatching(why)]);
    }
  });
});
