import type { ApiClient, CallOptions, JobRequest } from '@alter0/api';
import type { MessagePlan } from './plan.js';
import type { RequestKind } from './result.js';
import type { Chain, SoakRun, Tracked } from './run-state.js';
import { drawPlan, messageText } from './workload.js';

/** Starts tracking a job the daemon accepted (2xx): from here on it must reach a terminal state. */
function track(run: SoakRun, id: string, chain: Chain, isRetry: boolean, timeoutS: number): void {
  if (run.jobs.has(id)) return;
  chain.jobs.push(id);
  run.jobs.set(id, {
    id,
    chain,
    isRetry,
    acceptedGen: run.gen,
    state: 'queued',
    attempt: 0,
    errorClass: null,
    timeoutS,
    runningSeen: null,
    stuckReported: false,
    retried: false,
  });
  run.nonTerminal.add(id);
  run.result.accepted++;
}

/** A job another channel got accepted (the real CLI): from here on it is tracked like the harness's own. */
export function adopt(run: SoakRun, id: string, plan: MessagePlan): void {
  track(run, id, { plan, jobs: [], killed: false, canceled: false }, false, run.opts.jobTimeoutS);
}

function newChain(run: SoakRun, longMs: number): Chain {
  const { opts, result } = run;
  const plan = drawPlan(
    run.rng,
    `m${(run.keySeq++).toString(36)}-${opts.seed}`,
    { faults: opts.faults, maxAttempts: opts.maxAttempts, jobTimeoutS: opts.jobTimeoutS, syncWaitMs: run.syncWaitMs },
    longMs,
  );
  if (plan.exec !== 'ok' && plan.exec !== 'long') result.faultsPlanned[plan.exec]++;
  if (plan.route === 'malformed') result.faultsPlanned.malformed_route++;
  if (plan.close === 'malformed') result.faultsPlanned.malformed_close++;
  return { plan, jobs: [], killed: false, canceled: false };
}

/** One request, counted by kind (each one bounded by its own timeout). */
export async function send<T>(
  run: SoakRun,
  kind: RequestKind,
  fn: (c: ApiClient, o: CallOptions) => Promise<T>,
  onOk: (answer: T) => void,
  timeoutMs?: number,
): Promise<void> {
  const r = run.result.requests[kind];
  r.sent++;
  const t0 = Date.now();
  try {
    const a = await run.api.call(fn, timeoutMs);
    if (a.kind === 'ok') {
      r.accepted++;
      if (kind !== 'cancel' && kind !== 'close_task' && run.result.latencies.length < 200_000)
        run.result.latencies.push([t0, Date.now() - t0, kind]);
      onOk(a.value);
    } else if (a.kind === 'drift' && a.status !== null && a.status >= 200 && a.status < 300) {
      // Accepted, but its answer broke the contract (a contract_drift violation): there is no job id to track.
      r.accepted++;
    } else r.refused++;
  } catch {
    // Connection refused or reset: the daemon is down or was killed mid-request. No 2xx, nothing promised.
    r.errors++;
  }
}

/** A new message: synchronous, asynchronous (background lane), or a follow-up naming a known task. */
export function submit(run: SoakRun, kind: 'sync' | 'async' | 'followup'): Promise<void> {
  const { opts, rng } = run;
  const async = kind === 'async' || (kind === 'followup' && rng.chance(0.5));
  const chain = newChain(run, kind === 'async' ? opts.longMs : 0);
  const content = messageText(rng, chain.plan);
  const taskId = kind === 'followup' ? rng.pick(run.tasks) : undefined;
  const body = { content, channel_id: 'soak', ...(taskId ? { task_id: taskId } : {}) };
  const onOk = (b: { job_id: string }): void => track(run, b.job_id, chain, false, opts.jobTimeoutS);
  if (async) {
    const job: JobRequest = {
      ...body,
      lane: kind === 'async' ? 'background' : 'interactive',
      timeout_s: opts.jobTimeoutS,
      max_attempts: opts.maxAttempts,
    };
    return send(run, kind, (c, o) => c.submitJob(job, o), onOk);
  }
  const message = { ...body, wait_ms: run.syncWaitMs };
  return send(
    run,
    kind,
    (c, o) => c.sendMessage(message, o),
    (a) => onOk(a.body),
    run.syncWaitMs + 15_000,
  );
}

/** Cancels one of the most recent unfinished jobs; null when there is none. */
export function cancelOne(run: SoakRun): Promise<void> | null {
  const candidates = [...run.nonTerminal].slice(-50);
  const id = run.reactRng.pick(candidates);
  const t = id === undefined ? undefined : run.jobs.get(id);
  if (t === undefined) return null;
  t.chain.canceled = true;
  return send(
    run,
    'cancel',
    (c, o) => c.cancelJob(t.id, o),
    () => undefined,
  );
}

export function retryOf(run: SoakRun, t: Tracked): Promise<void> {
  t.retried = true;
  return send(
    run,
    'retry',
    (c, o) => c.retryJob(t.id, o),
    (b) => track(run, b.job_id, t.chain, true, t.timeoutS),
  );
}

/** Keeps a request in flight without waiting for it; the phases wait for all of them at their ends. */
export function launch(run: SoakRun, p: Promise<void> | null): void {
  if (p === null) return;
  run.inflight.add(p);
  void p.finally(() => run.inflight.delete(p));
}
