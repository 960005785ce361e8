import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL, viewOf } from '../../http.js';
import type { JobView } from '../../http.js';
import { encodePlan } from '../../plan.js';
import type { MessagePlan } from '../../plan.js';
import { violate } from '../../run-state.js';
import type { SoakRun } from '../../run-state.js';

/** Shared by the SIGSTOP and clock-jump moments: expectations, probe jobs and the daemon seen from outside. */

/** Counts one expected outcome; a `hostile_outcome` violation when it failed. Returns whether it held. */
export function expectOutcome(run: SoakRun, moment: string, held: boolean, failure: string): boolean {
  run.result.checks.hostile_outcome++;
  if (!held) violate(run, 'hostile_outcome', `${moment}: ${failure}`);
  return held;
}

/** Calls `fn` every `stepMs` until it returns a value or `boundMs` passes (null then). */
export async function waitFor<T>(
  run: SoakRun,
  boundMs: number,
  fn: () => Promise<T | null> | T | null,
  stepMs = 200,
): Promise<T | null> {
  const end = Date.now() + boundMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() >= end) return null;
    await sleep(Math.min(stepMs, Math.max(1, end - Date.now())), undefined, { signal: run.signal });
  }
}

/** A request that may meet a stopped, dying or restarting daemon: its answer, or null (no daemon, no answer). */
async function quietly<T>(run: SoakRun, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (run.signal.aborted) throw err;
    return null;
  }
}

export interface Answering {
  /** From the call until GET /api/status answered. */
  ms: number;
  state: string;
  queue: string;
}

/** Waits until GET /api/status answers (each try bounded by 2 s); null when it did not within `boundMs`. */
export async function answersAgain(run: SoakRun, boundMs: number): Promise<Answering | null> {
  const t0 = Date.now();
  return waitFor(run, boundMs, async () => {
    const a = await quietly(run, () => run.api.call((c, o) => c.status(o), 2000));
    if (a?.kind !== 'ok') return null;
    return { ms: Date.now() - t0, state: a.value.state, queue: a.value.components.queue.state };
  });
}

export interface Probe {
  id: string | null;
  /** The job's last state seen, `not accepted`, or `missing` (404). */
  state: string;
  attempt: number;
  errorClass: string | null;
  /** Submit → terminal (or the bound). */
  ms: number;
}

let probeSeq = 0;

/**
 * Submits a job of the moment's own (not tracked by the core, not drawn from the seeded workload) with the soak
 * plan `exec` (`ok`, `long:<ms>`, `rate_limited:1` …), retrying while the daemon does not answer, within
 * `boundMs`; its id, or null when none was accepted.
 */
export async function submitProbe(
  run: SoakRun,
  what: string,
  exec: { exec: MessagePlan['exec']; n: number },
  boundMs: number,
): Promise<string | null> {
  const plan: MessagePlan = {
    key: `hm-${what.replace(/[^a-z0-9]+/g, '-')}-${(probeSeq++).toString(36)}-${run.opts.seed}`,
    ...exec,
    route: 'ok',
    close: 'yes',
  };
  const job = {
    content: `${encodePlan(plan)} hostile moment ${what}: probe`,
    channel_id: 'soak',
    lane: 'interactive' as const,
    timeout_s: run.opts.jobTimeoutS,
    max_attempts: run.opts.maxAttempts,
  };
  return waitFor(run, boundMs, async () => {
    const a = await quietly(run, () => run.api.call((c, o) => c.submitJob(job, o), 5000));
    return a?.kind === 'ok' ? a.value.job_id : null;
  });
}

/** A probe job (`longMs` 0 answers at once) submitted and followed until it is terminal, within `boundMs`. */
export async function probeJob(run: SoakRun, what: string, longMs: number, boundMs: number): Promise<Probe> {
  const t0 = Date.now();
  const exec = longMs > 0 ? { exec: 'long' as const, n: longMs } : { exec: 'ok' as const, n: 0 };
  const id = await submitProbe(run, what, exec, boundMs);
  if (id === null) return { id, state: 'not accepted', attempt: 0, errorClass: null, ms: Date.now() - t0 };
  const last = await followJob(run, id, Math.max(1000, boundMs - (Date.now() - t0)));
  return { id, ...last, ms: Date.now() - t0 };
}

/** The job's view once terminal (or the last one seen when `boundMs` passed); `missing` for a 404. */
export async function followJob(
  run: SoakRun,
  id: string,
  boundMs: number,
  until: (j: JobView) => boolean = (j) => TERMINAL.has(j.state),
): Promise<{ state: string; attempt: number; errorClass: string | null }> {
  let seen = { state: 'no answer', attempt: 0, errorClass: null as string | null };
  await waitFor(
    run,
    boundMs,
    async () => {
      const a = await quietly(run, () => run.api.call((c, o) => c.getJob(id, o), 3000));
      if (a?.kind === 'refused' && a.status === 404) {
        seen = { state: 'missing', attempt: 0, errorClass: null };
        return true;
      }
      if (a?.kind !== 'ok') return null;
      const j = viewOf(a.value);
      seen = { state: j.state, attempt: j.attempt, errorClass: j.error_class };
      return until(j) ? true : null;
    },
    250,
  );
  return seen;
}

/** The jobs running now (empty when the daemon does not answer). */
export async function runningJobs(run: SoakRun): Promise<JobView[]> {
  const a = await quietly(run, () => run.api.call((c, o) => c.listJobs({ state: 'running', limit: 1000 }, o), 5000));
  return a?.kind === 'ok' ? a.value.map(viewOf) : [];
}

/** The daemon's wall clock minus the harness's, from its HTTP Date header (1 s resolution); null without answer. */
export async function daemonClockOffsetMs(run: SoakRun): Promise<number | null> {
  const d = run.daemon;
  if (d === null) return null;
  const t0 = Date.now();
  const res = await quietly(run, () =>
    fetch(`${d.url}/healthz`, { signal: AbortSignal.any([run.signal, AbortSignal.timeout(3000)]) }),
  );
  if (res === null) return null;
  await quietly(run, () => res.text());
  const date = res.headers.get('date');
  if (date === null) return null;
  // The header is cut to the second: compare with the middle of the request's second.
  return Date.parse(date) + 500 - (t0 + Date.now()) / 2;
}
