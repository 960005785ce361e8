import { Cron } from 'croner';
import { Alter0Error, MAX_TIMER_MS, clampTimerMs, errorMessage } from '@alter0/core';
import type { Logger, Metrics } from '@alter0/obs';
import type { EventsRepo } from '@alter0/store';

export interface ScheduledJob {
  /** Stable name: the key of its `maintenance_runs` row and of its metrics. */
  name: string;
  /** Milliseconds between runs (counted from the end of the previous run), or a cron pattern such as "0 3 * * *". */
  every: number | string;
  run(signal: AbortSignal): Promise<unknown>;
  /** Abort a run that takes longer than this. */
  timeoutMs?: number;
  /** An interval job that is due at start runs after this long, if sooner than the scheduler's `startDelayMs`. */
  startDelayMs?: number;
}

export interface SchedulerOptions {
  jobs: ScheduledJob[];
  /** Where runs are recorded (`store.events` of the daemon's Store). */
  store: { events: Pick<EventsRepo, 'maintenanceStarted' | 'maintenanceFinished' | 'maintenance' | 'add'> };
  logger: Logger;
  now?: () => number;
  metrics?: Pick<Metrics, 'maintenance'>;
  /**
   * An interval job that never succeeded, or whose last success is older than its interval, first runs this long
   * after start (default 60 s: start-up is not slowed down, and a crash loop does not back up on every start).
   */
  startDelayMs?: number;
  /** First retry after a failure; doubles per failure in a row, never later than the regular next run (default 60 s). */
  retryMs?: number;
}

export interface ScheduledJobStatus {
  name: string;
  every: number | string;
  running: boolean;
  nextRunAt: number | null;
  lastStartAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  consecutiveFailures: number;
}

export interface Scheduler {
  /** Per job: running now, next run, last success and error (for the status document). */
  status(): ScheduledJobStatus[];
  /**
   * Stops scheduling and waits for the runs in progress. With `abort` (default true) they are signalled to stop;
   * otherwise they finish first.
   */
  stop(opts?: { abort?: boolean }): Promise<void>;
}

interface Slot {
  job: ScheduledJob;
  cron: Cron | null;
  status: ScheduledJobStatus;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  abort: AbortController | null;
}

/** What every step of one scheduler shares: its options with defaults filled in, and whether it is stopping. */
interface SchedulerContext {
  now: () => number;
  log: Logger;
  store: SchedulerOptions['store'];
  metrics: SchedulerOptions['metrics'];
  startDelayMs: number;
  retryMs: number;
  stopped: boolean;
}

/** How one run ended, as the scheduler records it. */
interface RunResult {
  ok: boolean;
  error: string;
  result: unknown;
  started: number;
  finished: number;
  previousFailures: number;
  next: number;
  nextRunAt: number | null;
}

/**
 * Runs maintenance jobs on intervals or cron patterns, one run per job at a time, recording every run in the
 * store's `maintenance_runs` (start, success, error, failures in a row, next run) and an `events` row for each
 * failure and each recovery. A failing job is retried with backoff. Timers are unref'd: they never keep a process alive.
 */
export function startScheduler(opts: SchedulerOptions): Scheduler {
  const ctx: SchedulerContext = {
    now: opts.now ?? Date.now,
    log: opts.logger.child({ component: 'scheduler' }),
    store: opts.store,
    metrics: opts.metrics,
    startDelayMs: opts.startDelayMs ?? 60_000,
    retryMs: opts.retryMs ?? 60_000,
    stopped: false,
  };
  const slots = jobTable(ctx, opts.jobs);
  for (const slot of slots) arm(ctx, slot, firstRun(ctx, slot));
  return {
    status: () => slots.map((s) => ({ ...s.status })),
    stop: (stopOpts = {}) => stopAll(ctx, slots, stopOpts.abort ?? true),
  };
}

/** One slot per job, its status seeded from the recorded runs; refuses duplicate names and bad schedules. */
function jobTable(ctx: SchedulerContext, jobs: ScheduledJob[]): Slot[] {
  const names = new Set<string>();
  const recorded = new Map(safely(ctx, () => ctx.store.events.maintenance(), []).map((r) => [r.job, r]));
  return jobs.map((job) => {
    if (names.has(job.name))
      throw new Alter0Error('invalid_request', `maintenance job "${job.name}" is listed twice; names must be unique`);
    names.add(job.name);
    const cron = typeof job.every === 'string' ? parseCron(job) : null;
    if (cron === null && !(typeof job.every === 'number' && Number.isFinite(job.every) && job.every > 0)) {
      throw new Alter0Error(
        'invalid_request',
        `maintenance job "${job.name}": every must be a positive number of milliseconds or a cron pattern`,
      );
    }
    const row = recorded.get(job.name);
    return {
      job,
      cron,
      timer: null,
      running: null,
      abort: null,
      status: {
        name: job.name,
        every: job.every,
        running: false,
        nextRunAt: null,
        lastStartAt: row?.lastStartAt ?? null,
        lastSuccessAt: row?.lastSuccessAt ?? null,
        lastError: row?.lastError ?? null,
        lastErrorAt: row?.lastErrorAt ?? null,
        consecutiveFailures: row?.consecutiveFailures ?? 0,
      },
    };
  });
}

function safely<T>(ctx: SchedulerContext, fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    // The store may be failing (disk full); maintenance keeps its schedule and says so in the log.
    ctx.log.error('recording a maintenance run in the database failed', { err });
    return fallback;
  }
}

function regularNext(slot: Slot, from: number): number {
  if (slot.cron) return slot.cron.nextRun(new Date(from))?.getTime() ?? Number.POSITIVE_INFINITY;
  return from + (slot.job.every as number);
}

function firstRun(ctx: SchedulerContext, slot: Slot): number {
  const t = ctx.now();
  if (slot.cron) return regularNext(slot, t);
  const last = slot.status.lastSuccessAt;
  const due = last === null ? t : last + (slot.job.every as number);
  return Math.max(due, t + Math.min(ctx.startDelayMs, slot.job.startDelayMs ?? Number.POSITIVE_INFINITY));
}

function arm(ctx: SchedulerContext, slot: Slot, at: number): void {
  if (ctx.stopped) return;
  slot.status.nextRunAt = Number.isFinite(at) ? at : null;
  if (!Number.isFinite(at)) return;
  // setTimeout cannot wait longer than 2^31-1 ms; a longer wait is re-armed when the timer fires.
  const wait = clampTimerMs(at - ctx.now());
  slot.timer = setTimeout(() => {
    slot.timer = null;
    if (ctx.now() < at) arm(ctx, slot, at);
    else slot.running = runOnce(ctx, slot);
  }, wait);
  slot.timer.unref();
}

/** One run of a slot's job: mark it started, run it, record how it ended, arm the next run. */
async function runOnce(ctx: SchedulerContext, slot: Slot): Promise<void> {
  const { job, status } = slot;
  const abort = new AbortController();
  slot.abort = abort;
  const signal =
    job.timeoutMs === undefined ? abort.signal : AbortSignal.any([abort.signal, AbortSignal.timeout(job.timeoutMs)]);
  const started = ctx.now();
  status.running = true;
  status.lastStartAt = started;
  safely(ctx, () => ctx.store.events.maintenanceStarted(job.name, started), undefined);
  ctx.log.info('maintenance started', { job: job.name });
  let ok = true;
  let error = '';
  let result: unknown;
  try {
    result = await job.run(signal);
  } catch (err) {
    ok = false;
    error = errorMessage(err);
  }
  const run = settleStatus(ctx, slot, { ok, error, result, started });
  reportRun(ctx, slot, run);
  slot.running = null;
  arm(ctx, slot, run.next);
}

/** Updates the slot's status for a finished run and works out the next run (backoff after a failure). */
function settleStatus(
  ctx: SchedulerContext,
  slot: Slot,
  r: Pick<RunResult, 'ok' | 'error' | 'result' | 'started'>,
): RunResult {
  const { status } = slot;
  const finished = ctx.now();
  status.running = false;
  slot.abort = null;
  const previousFailures = status.consecutiveFailures;
  let next: number;
  if (r.ok) {
    status.consecutiveFailures = 0;
    status.lastSuccessAt = finished;
    next = regularNext(slot, finished);
  } else {
    status.consecutiveFailures = previousFailures + 1;
    status.lastError = r.error;
    status.lastErrorAt = finished;
    const backoff = Math.min(ctx.retryMs * 2 ** Math.min(previousFailures, 20), MAX_TIMER_MS);
    next = Math.min(regularNext(slot, finished), finished + backoff);
  }
  const nextRunAt = ctx.stopped || !Number.isFinite(next) ? null : next;
  return { ...r, finished, previousFailures, next, nextRunAt };
}

/** Records a finished run: its `maintenance_runs` row, metrics, the log, and an event for a failure or a recovery. */
function reportRun(ctx: SchedulerContext, slot: Slot, r: RunResult): void {
  const { job, status } = slot;
  const { ok, error, finished, nextRunAt, previousFailures } = r;
  safely(ctx, () => ctx.store.events.maintenanceFinished(job.name, { ok, error, now: finished, nextRunAt }), undefined);
  ctx.metrics?.maintenance(job.name, {
    lastSuccessTs: status.lastSuccessAt,
    consecutiveFailures: status.consecutiveFailures,
  });
  const nextIso = nextRunAt === null ? 'none (stopping)' : new Date(nextRunAt).toISOString();
  if (ok) {
    ctx.log.info('maintenance finished', {
      job: job.name,
      ms: finished - r.started,
      result: r.result,
      next_run_at: nextIso,
    });
    if (previousFailures > 0) {
      safely(
        ctx,
        () =>
          ctx.store.events.add({
            component: 'scheduler',
            level: 'info',
            kind: 'maintenance_recovered',
            message: `maintenance job ${job.name} succeeded again after ${previousFailures} failure(s) in a row`,
            details: { job: job.name, previous_failures: previousFailures },
            now: finished,
          }),
        undefined,
      );
    }
  } else {
    ctx.log.error('maintenance failed', {
      job: job.name,
      ms: finished - r.started,
      error,
      consecutive_failures: status.consecutiveFailures,
      next_run_at: nextIso,
    });
    safely(
      ctx,
      () =>
        ctx.store.events.add({
          component: 'scheduler',
          level: 'error',
          kind: 'maintenance_failed',
          message: `maintenance job ${job.name} failed (${status.consecutiveFailures} in a row): ${error}; next try at ${nextIso}`,
          details: { job: job.name, consecutive_failures: status.consecutiveFailures, next_run_at: nextRunAt },
          now: finished,
        }),
      undefined,
    );
  }
}

async function stopAll(ctx: SchedulerContext, slots: Slot[], abort: boolean): Promise<void> {
  ctx.stopped = true;
  for (const s of slots) {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    s.status.nextRunAt = null;
    if (abort) s.abort?.abort(new Alter0Error('unavailable', 'alter0 is stopping'));
  }
  await Promise.all(slots.flatMap((s) => (s.running ? [s.running] : [])));
}

function parseCron(job: ScheduledJob): Cron {
  try {
    // No callback: croner only computes times here; the scheduler owns its timers.
    return new Cron(job.every as string);
  } catch (err) {
    throw new Alter0Error(
      'invalid_request',
      `maintenance job "${job.name}": "${String(job.every)}" is not a cron pattern: ${errorMessage(err)}`,
    );
  }
}
