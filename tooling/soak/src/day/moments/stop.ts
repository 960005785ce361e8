import type { DaemonProcess } from '../../daemon.js';
import type { JobView } from '../../http.js';
import type { SoakRun } from '../../run-state.js';
import type { Pause } from '../../stats.js';
import type { HostileMoment, MomentRecord } from '../feature.js';
import type { WatchdogFeature } from '../watchdog.js';
import { answersAgain, expectOutcome, followJob, probeJob, runningJobs, waitFor } from './time-checks.js';

/**
 * SIGSTOP of alter0 serve (a VM paused, a laptop lid, a debugger), then SIGCONT. Shorter than WatchdogSec (but
 * longer than the ping interval): the daemon carries on — no restart, pings resume, the jobs whose timeouts
 * passed meanwhile are timed out, the API answers again. Longer: the watchdog declares it hung as systemd would,
 * it is killed and the supervisor restarts it; nothing accepted is lost (the core's restart checks), and the
 * jobs it was running are recovered.
 */
export interface StopMomentOptions {
  stopMs: number;
  watchdog: WatchdogFeature;
  /** After SIGCONT, or once restarted, GET /api/status answers within this (default 15 s). */
  answerBoundMs?: number;
  /** A new job succeeds within this once the harm is undone (default job timeout + 30 s). */
  probeBoundMs?: number;
  /** Declared hung → the next generation serving (default 60 s). */
  restartBoundMs?: number;
}

/** Slack on a job's timeout before it counts as stuck: the kill grace, polls, scheduling (as observe.ts). */
const STUCK_MARGIN_MS = 10_000;

/** What one SIGSTOP did, as seen from outside: judged by `judgeStop` (a test can judge a made-up one). */
export interface StopObservation {
  /** The stop was at least WatchdogSec: a restart is expected. */
  long: boolean;
  stopMs: number;
  watchdogMs: number;
  /** Within: a WATCHDOG=1 from the same process after SIGCONT. Beyond: one from the restarted process. */
  pinged: boolean;
  /** GET /api/status answered after SIGCONT (or once restarted) within the bound. */
  answered: boolean;
  /** The watchdog declared the stopped process hung. */
  declaredHung: boolean;
  /** A new generation served after the stop. */
  restarted: boolean;
  /** Jobs (`id#attempt`) still running the attempt they ran at the stop past timeout + margin. */
  stuck: string[];
  /** Jobs running at the stop that are gone (404). */
  missing: string[];
  /** How a new job after the stop ended (`succeeded`, `failed`, `not accepted` …). */
  probe: string;
  /** Timings and counts for the report. */
  numbers: Record<string, number>;
}

interface Ctx {
  run: SoakRun;
  o: Required<StopMomentOptions>;
  d: DaemonProcess;
  obs: StopObservation;
}

export function stopMoment(opts: StopMomentOptions): HostileMoment {
  const wd = opts.watchdog;
  const long = opts.stopMs >= wd.watchdogMs;
  const name = `sigstop_${long ? 'beyond' : 'within'}_watchdog`;
  return {
    name,
    expect: long
      ? `SIGSTOP for ${opts.stopMs} ms (> WatchdogSec ${wd.watchdogMs} ms): declared hung, killed and restarted; nothing lost, the jobs it ran recovered, new jobs succeed`
      : `SIGSTOP for ${opts.stopMs} ms (< WatchdogSec ${wd.watchdogMs} ms): no restart, pings resume, timeouts that passed are enforced, the API answers again, new jobs succeed`,
    run: async (run) => {
      const startedAt = Date.now();
      const o: Required<StopMomentOptions> = {
        answerBoundMs: 15_000,
        probeBoundMs: run.opts.jobTimeoutS * 1000 + 30_000,
        restartBoundMs: 60_000,
        ...opts,
      };
      const d = await waitFor(run, 60_000, () => (run.up && run.daemon?.alive === true ? run.daemon : null));
      if (d === null) {
        expectOutcome(run, name, false, 'alter0 serve was not up at the moment’s slot (within 60 s)');
        return { name, startedAt, endedAt: Date.now(), ok: false, observed: { skipped: true } };
      }
      const obs: StopObservation = {
        ...{ long, stopMs: opts.stopMs, watchdogMs: wd.watchdogMs, pinged: false, answered: false },
        ...{ declaredHung: false, restarted: false, stuck: [], missing: [], probe: 'not sent', numbers: {} },
      };
      const ctx: Ctx = { run, o, d, obs };
      const harm = await stopAndContinue(ctx, long);
      if (long) await afterLongStop(ctx, harm);
      else await afterShortStop(ctx, harm);
      const p = await probeJob(run, name, 0, o.probeBoundMs);
      obs.probe = p.state;
      obs.numbers.probe_ms = p.ms;
      const ok = judgeStop(run, name, obs);
      const observed: MomentRecord['observed'] = {
        ...obs.numbers,
        declared_hung: obs.declaredHung,
        restarted: obs.restarted,
        probe: obs.probe,
        jobs_stuck: obs.stuck.length,
      };
      const pause = { stoppedAt: harm.stoppedAt, continuedAt: harm.continuedAt };
      return { name, startedAt, endedAt: Date.now(), ok, observed, pause };
    },
  };
}

/** The expected outcomes of a SIGSTOP, each counted; a violation for each that failed. Returns whether all held. */
export function judgeStop(run: SoakRun, name: string, obs: StopObservation): boolean {
  const results = [
    expectOutcome(run, name, obs.answered, `GET /api/status did not answer again within its bound after the stop`),
    expectOutcome(
      run,
      name,
      obs.stuck.length === 0,
      `job(s) still running the attempt they ran at the stop past timeout + ${STUCK_MARGIN_MS / 1000}s: ${obs.stuck.join(', ')}`,
    ),
    expectOutcome(
      run,
      name,
      obs.missing.length === 0,
      `job(s) running at the stop are gone (404): ${obs.missing.join(', ')}`,
    ),
    expectOutcome(run, name, obs.probe === 'succeeded', `a new job after the stop ended ${obs.probe}`),
  ];
  if (obs.long) {
    results.push(
      expectOutcome(
        run,
        name,
        obs.declaredHung,
        `the watchdog did not declare alter0 serve hung during a ${obs.stopMs} ms stop (WatchdogSec ${obs.watchdogMs} ms)`,
      ),
      expectOutcome(run, name, obs.restarted, `alter0 serve was not restarted after the watchdog's verdict`),
      expectOutcome(run, name, obs.pinged, `the restarted alter0 serve sent no WATCHDOG=1`),
    );
  } else {
    results.push(
      expectOutcome(run, name, obs.pinged, `no WATCHDOG=1 after SIGCONT: the watchdog pings did not resume`),
      expectOutcome(
        run,
        name,
        !obs.declaredHung,
        `declared hung after a ${obs.stopMs} ms stop, shorter than WatchdogSec ${obs.watchdogMs} ms`,
      ),
      expectOutcome(run, name, !obs.restarted, `alter0 serve did not carry on after SIGCONT: it was restarted`),
    );
  }
  return results.every(Boolean);
}

interface Harm extends Pause {
  lastPingBefore: number | null;
  running: { job: JobView; seenAt: number }[];
}

/** Stops the daemon right after a ping (so a stop shorter than WatchdogSec stays within it), then continues it. */
async function stopAndContinue(ctx: Ctx, long: boolean): Promise<Harm> {
  const { run, d, o } = ctx;
  const wd = o.watchdog;
  // Read before the wait for a ping, not after it: on a loaded machine this answer took seconds, which the stop
  // then added to the gap since that ping (a 14 s stop became a 20 s silence, and a short stop was declared hung).
  const running = (await runningJobs(run)).map((job) => ({ job, seenAt: Date.now() }));
  if (!long) {
    const since = Date.now();
    await waitFor(
      run,
      wd.intervalMs + 3000,
      () => {
        wd.check(run);
        return wd.pingsOf(d.pid, since)[0] ?? null;
      },
      20,
    );
  }
  const lastPingBefore = wd.pingsOf(d.pid).at(-1) ?? null;
  // The hang a long stop causes is what this moment asks for; a short one must cause none.
  if (long) wd.expectSilence(Date.now() + o.stopMs + wd.watchdogMs);
  const stoppedAt = Date.now();
  process.kill(d.pid, 'SIGSTOP');
  try {
    // Over early when the watchdog has had it killed.
    await waitFor(run, o.stopMs, () => (d.alive ? null : true), 100);
  } finally {
    if (d.alive) process.kill(d.pid, 'SIGCONT');
  }
  const continuedAt = Date.now();
  ctx.obs.numbers.stopped_ms = continuedAt - stoppedAt;
  ctx.obs.numbers.running_at_stop = running.length;
  return { stoppedAt, continuedAt, lastPingBefore, running };
}

/** Within WatchdogSec: the same process carries on. */
async function afterShortStop(ctx: Ctx, h: Harm): Promise<void> {
  const { run, d, o, obs } = ctx;
  const wd = o.watchdog;
  const ping = await waitFor(run, wd.intervalMs + 3000, () => {
    wd.check(run);
    return wd.pingsOf(d.pid, h.continuedAt - 1)[0] ?? null;
  });
  obs.pinged = ping !== null;
  if (ping !== null && h.lastPingBefore !== null) obs.numbers.ping_gap_ms = ping - h.lastPingBefore;
  const a = await answersAgain(run, o.answerBoundMs);
  obs.answered = a !== null;
  obs.numbers.answer_ms = a?.ms ?? -1;
  await jobsMoveOn(ctx, h);
  wd.check(run);
  obs.declaredHung = wd.hangs().some((x) => x.pid === d.pid);
  obs.restarted = run.daemon !== d || !d.alive;
}

/** Beyond WatchdogSec: declared hung, killed, restarted, serving and pinging again. */
async function afterLongStop(ctx: Ctx, h: Harm): Promise<void> {
  const { run, d, o, obs } = ctx;
  const wd = o.watchdog;
  const hang = await waitFor(run, 3000, () => wd.hangs().find((x) => x.pid === d.pid) ?? null);
  obs.declaredHung = hang !== null;
  if (hang !== null) obs.numbers.hung_after_ms = hang.at - h.stoppedAt;
  const next: DaemonProcess | null = await waitFor(run, o.restartBoundMs, () =>
    run.daemon !== d && run.up && run.daemon?.alive === true ? run.daemon : null,
  );
  obs.restarted = next !== null;
  if (next === null) return;
  obs.numbers.restart_ms = Date.now() - (hang?.at ?? h.stoppedAt);
  const a = await answersAgain(run, o.answerBoundMs);
  obs.answered = a !== null;
  obs.numbers.answer_ms = a?.ms ?? -1;
  const pid = next.pid;
  const ping = await waitFor(run, wd.intervalMs + 5000, () => {
    wd.check(run);
    return wd.pingsOf(pid, 0)[0] ?? null;
  });
  obs.pinged = ping !== null;
  await jobsMoveOn(ctx, h);
}

/**
 * Each job running at the stop ends that attempt by its deadline (timeout + margin from when it was seen), and
 * is still there: the daemon enforced the timeouts that passed while it was stopped, or recovered them at restart.
 */
async function jobsMoveOn(ctx: Ctx, h: Harm): Promise<void> {
  await Promise.all(
    h.running.map(async ({ job, seenAt }) => {
      const bound = Math.max(1000, seenAt + job.timeout_s * 1000 + STUCK_MARGIN_MS - Date.now());
      const seen = await followJob(ctx.run, job.id, bound, (j) => j.state !== 'running' || j.attempt !== job.attempt);
      if (seen.state === 'missing') ctx.obs.missing.push(job.id);
      else if (seen.state === 'running' && seen.attempt === job.attempt) ctx.obs.stuck.push(`${job.id}#${job.attempt}`);
    }),
  );
}
