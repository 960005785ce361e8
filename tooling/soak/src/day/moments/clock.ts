import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentLogLine } from '../../plan.js';
import type { SoakRun } from '../../run-state.js';
import type { ClockFeature } from '../clock.js';
import type { HostileMoment, MomentRecord } from '../feature.js';
import {
  answersAgain,
  daemonClockOffsetMs,
  expectOutcome,
  followJob,
  probeJob,
  submitProbe,
  waitFor,
} from './time-checks.js';

/**
 * The daemon's wall clock jumps (NTP after a long suspend, a wrong RTC, a hand-set date): forward by `jumpMs`,
 * back to real time, back by `backMs`, forward to real time, each held for `holdMs` while the load goes on. After
 * each jump: the jump took effect (the daemon's HTTP Date header), the API answers, a job running across the jump
 * is not killed by it (timeouts are monotonic), a job waiting in its retry backoff is not delayed by it (a backoff
 * computed in wall time must not sleep an hour), a new job succeeds, and no agent was faked (their log stamps
 * follow the harness's clock).
 */
export interface ClockJumpOptions {
  clock: ClockFeature;
  /** Forward jump (default 2 h). */
  jumpMs?: number;
  /** Backward jump below real time (default 1 h). */
  backMs?: number;
  /** Each jumped state is held this long with traffic (default 60 s). */
  holdMs?: number;
  /** GET /api/status answers within this after a jump (default 15 s). */
  answerBoundMs?: number;
  /** A job succeeds within this after a jump (default job timeout + 30 s). */
  probeBoundMs?: number;
  /** How long the job running across a jump works (default min(timeout / 2, 5 s)). */
  spanMs?: number;
}

interface Ctx {
  run: SoakRun;
  o: Required<ClockJumpOptions>;
  observed: MomentRecord['observed'];
  ok: boolean;
}

const NAME = 'clock_jumps';
/** How far the daemon's Date header may be from the offset asked for (the header is cut to the second). */
const OFFSET_TOLERANCE_MS = 2500;

export function clockJumpMoment(opts: ClockJumpOptions): HostileMoment {
  const jumpMs = opts.jumpMs ?? 2 * 3_600_000;
  const backMs = opts.backMs ?? 3_600_000;
  return {
    name: NAME,
    expect: `wall clock +${jumpMs / 60_000} min, back to real, −${backMs / 60_000} min, back to real: each takes effect, the API answers, a job spanning the jump is not killed, a retry backoff is not stretched, new jobs succeed, agents keep real time`,
    run: async (run) => {
      const startedAt = Date.now();
      const o: Required<ClockJumpOptions> = {
        jumpMs,
        backMs,
        holdMs: 60_000,
        answerBoundMs: 15_000,
        probeBoundMs: run.opts.jobTimeoutS * 1000 + 30_000,
        spanMs: Math.min((run.opts.jobTimeoutS * 1000) / 2, 5000),
        ...opts,
      };
      const ctx: Ctx = { run, o, observed: {}, ok: true };
      try {
        for (const [label, to] of [
          ['forward', jumpMs],
          ['to_real', 0],
          ['backward', -backMs],
          ['back_to_real', 0],
        ] as const) {
          if (run.signal.aborted) break;
          await jumpStep(ctx, label, to);
        }
      } finally {
        o.clock.set(0);
      }
      return { name: NAME, startedAt, endedAt: Date.now(), ok: ctx.ok, observed: ctx.observed };
    },
  };
}

/** What one jump did, seen from outside: judged by `judgeJump` (a test can judge a made-up one). */
export interface JumpObservation {
  /** e.g. `forward`, `backward`. */
  label: string;
  fromMs: number;
  toMs: number;
  /** Jump → the daemon's HTTP Date header shows the new offset; null when it never did within the bound. */
  effectMs: number | null;
  /** GET /api/status answered after the jump within the bound. */
  answered: boolean;
  /** The job running across the jump: its end (`state@attempt`, class), or null when it was not accepted. */
  spanning: { state: string; attempt: number; errorClass: string | null } | null;
  /** The job waiting in its retry backoff across the jump, likewise. */
  backoff: { state: string; attempt: number; errorClass: string | null } | null;
  /** New jobs right after the jump and after the hold: how each ended. */
  probe: string;
  heldProbe: string;
  /** Agent runs logged during the step, and those whose stamp is off the harness's clock (faked agents). */
  agentRuns: number;
  agentRunsOffClock: number;
}

/** The expected outcomes of one jump, each counted; a violation for each that failed. Returns whether all held. */
export function judgeJump(run: SoakRun, obs: JumpObservation): boolean {
  const what = `after the jump ${obs.label} (${fmt(obs.fromMs)} → ${fmt(obs.toMs)})`;
  const s = obs.spanning;
  const b = obs.backoff;
  const end = (x: { state: string; attempt: number; errorClass: string | null }): string =>
    `${x.state}${x.errorClass ? `/${x.errorClass}` : ''} at attempt ${x.attempt}`;
  return [
    expectOutcome(
      run,
      NAME,
      obs.effectMs !== null,
      `${what} the daemon's clock (HTTP Date) never showed the new offset`,
    ),
    expectOutcome(run, NAME, obs.answered, `${what} GET /api/status did not answer within its bound`),
    expectOutcome(
      run,
      NAME,
      s !== null && s.state === 'succeeded' && s.attempt === 1,
      `${what} the job running across the jump ended ${s === null ? 'not accepted' : end(s)}; expected succeeded at attempt 1 (a job's timeout is not wall time)`,
    ),
    expectOutcome(
      run,
      NAME,
      b !== null && b.state === 'succeeded',
      `${what} the job waiting in its retry backoff ended ${b === null ? 'not accepted' : end(b)}; expected succeeded within its bound (a backoff is not stretched by the jump)`,
    ),
    expectOutcome(run, NAME, obs.probe === 'succeeded', `${what} a new job ended ${obs.probe}`),
    expectOutcome(
      run,
      NAME,
      obs.heldProbe === 'succeeded',
      `${what}, after the hold, a new job ended ${obs.heldProbe}`,
    ),
    expectOutcome(
      run,
      NAME,
      obs.agentRuns > 0,
      `${what} no agent run was logged (nothing shows the agents keep real time)`,
    ),
    expectOutcome(
      run,
      NAME,
      obs.agentRunsOffClock === 0,
      `${what} ${obs.agentRunsOffClock} agent run(s) logged a time off the harness's clock: the agents got the fake clock`,
    ),
  ].every(Boolean);
}

/** One jump with a job running across it and one waiting in its backoff, then what the daemon makes of it. */
async function jumpStep(ctx: Ctx, label: string, toMs: number): Promise<void> {
  const { run, o, observed } = ctx;
  const obs: JumpObservation = {
    ...{ label, fromMs: o.clock.offsetMs(), toMs, effectMs: null, answered: false, spanning: null, backoff: null },
    ...{ probe: 'not sent', heldProbe: 'not sent', agentRuns: 0, agentRunsOffClock: 0 },
  };
  const agentLogAt = fileSize(run.agentLog);
  const stepStart = Date.now();
  const [span, backoff] = await Promise.all([spanningJob(ctx, label), backingOffJob(ctx, label)]);
  o.clock.set(toMs);
  const jumpedAt = Date.now();
  obs.effectMs = await waitFor(run, o.clock.cacheMs + 5000, async () => {
    const off = await daemonClockOffsetMs(run);
    return off !== null && Math.abs(off - toMs) < OFFSET_TOLERANCE_MS ? Date.now() - jumpedAt : null;
  });
  const a = await answersAgain(run, o.answerBoundMs);
  obs.answered = a !== null;
  const bound = o.spanMs + o.probeBoundMs;
  [obs.spanning, obs.backoff] = await Promise.all([
    span === null ? null : followJob(run, span, bound),
    backoff === null ? null : followJob(run, backoff, bound),
  ]);
  const p = await probeJob(run, `clock ${label}`, 0, o.probeBoundMs);
  obs.probe = p.state;
  await sleep(Math.max(0, o.holdMs - (Date.now() - jumpedAt)), undefined, { signal: run.signal });
  obs.heldProbe = (await probeJob(run, `clock ${label} held`, 0, o.probeBoundMs)).state;
  const stamps = agentStamps(run, agentLogAt);
  obs.agentRuns = stamps.length;
  obs.agentRunsOffClock = stamps.filter((at) => at < stepStart - 5000 || at > Date.now() + 5000).length;
  if (!judgeJump(run, obs)) ctx.ok = false;
  Object.assign(observed, {
    [`${label}_effect_ms`]: obs.effectMs ?? -1,
    [`${label}_answer_ms`]: a?.ms ?? -1,
    [`${label}_status`]: a === null ? 'no answer' : `${a.state}/queue ${a.queue}`,
    [`${label}_spanning_job`]: obs.spanning === null ? 'not accepted' : `${obs.spanning.state}@${obs.spanning.attempt}`,
    [`${label}_backoff_job`]: obs.backoff === null ? 'not accepted' : `${obs.backoff.state}@${obs.backoff.attempt}`,
    [`${label}_probe_ms`]: p.ms,
    [`${label}_agent_runs`]: obs.agentRuns,
  });
}

/** A job whose agent is working when the clock jumps (its id once it runs, or null). */
async function spanningJob(ctx: Ctx, label: string): Promise<string | null> {
  const { run, o } = ctx;
  const id = await submitProbe(run, `clock ${label} span`, { exec: 'long', n: o.spanMs }, o.answerBoundMs);
  if (id === null) return null;
  await followJob(run, id, 10_000, (j) => j.state !== 'queued');
  return id;
}

/** A job whose first attempt failed (rate_limited:1) and waits out its backoff when the clock jumps. */
async function backingOffJob(ctx: Ctx, label: string): Promise<string | null> {
  const { run, o } = ctx;
  const id = await submitProbe(run, `clock ${label} backoff`, { exec: 'rate_limited', n: 1 }, o.answerBoundMs);
  if (id === null) return null;
  await followJob(run, id, 10_000, (j) => j.attempt >= 1 && j.state !== 'running');
  return id;
}

/** The `at` stamps of the agent runs logged since byte `offset` of the agent log. */
function agentStamps(run: SoakRun, offset: number): number[] {
  try {
    const fd = fs.openSync(run.agentLog, 'r');
    try {
      const buf = Buffer.alloc(Math.max(0, Math.min(fs.fstatSync(fd).size - offset, 4 << 20)));
      fs.readSync(fd, buf, 0, buf.length, offset);
      return buf
        .toString('utf8')
        .split('\n')
        .flatMap((l) => {
          try {
            return [(JSON.parse(l) as AgentLogLine).at];
          } catch {
            // The last, partial line of an agent still writing.
            return [];
          }
        });
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function fmt(ms: number): string {
  return ms === 0 ? 'real' : `${ms > 0 ? '+' : '−'}${Math.abs(ms) / 60_000} min`;
}
