import type { BackoffPolicy, ErrorClass, Lane } from '@alter0/core';
import { LANES, backoffDelayMs, clampTimerMs, errorMessage, isRetryable } from '@alter0/core';
import type { Fence, JobRow, JobsRepo, RecoveryReport, Transition } from '@alter0/store';
import { JobAbort, abortCauseOf } from './abort.js';
import type { AbortCause } from './abort.js';

/** What the pipeline reports for one run of a job; the pool turns it into the durable state change. */
export type RunOutcome =
  | { kind: 'succeeded' }
  | {
      kind: 'failed';
      errorClass: ErrorClass;
      message: string;
      stderrTail: string | null;
    }
  /**
   * Back to the queue, attempt not counted: routed to a task that is busy, or the database refused a write the run
   * needed. `reason` is kept on the job for the owner to read.
   */
  | { kind: 'yield'; reason?: string };

export interface RunContext {
  fence: Fence;
  signal: AbortSignal;
}

export type JobHandler = (job: JobRow, ctx: RunContext) => Promise<RunOutcome>;

export interface PoolHooks {
  /** After any state change the pool made (for live updates). */
  onChange?(jobId: string): void;
  /** A job reached a terminal state (for metrics). */
  onFinished?(job: JobRow, outcome: 'succeeded' | 'failed' | 'canceled', errorClass: ErrorClass | null): void;
  /** The pool itself hit an unexpected error (logged by the caller; the loop goes on). */
  onLoopError?(lane: Lane, err: unknown, consecutive: number, retryInMs: number): void;
  /** An attempt of a job ended, whatever its outcome (the place to sweep up what the attempt left behind). */
  onAttemptEnd?(job: JobRow): void;
  /** The lane's workers work again after `failures` errors in a row. */
  onLoopRecovered?(lane: Lane, failures: number): void;
  /** A failed job's note for the task transcript (what failed and how to retry). */
  failureNote?(job: JobRow, errorClass: ErrorClass, message: string): string;
  /** Writing a job's outcome failed (`attempt` in a row); it is tried again in `retryInMs`. */
  onRecordError?(job: JobRow, err: unknown, attempt: number, retryInMs: number): void;
  /** An outcome that failed to write before is written now. */
  onRecordRecovered?(job: JobRow, attempts: number): void;
  /** The watchdog handed back `running` jobs no worker of this pool holds. */
  onOrphansRecovered?(report: RecoveryReport): void;
}

export interface PoolOptions {
  jobs: JobsRepo;
  workers: Record<Lane, number>;
  backoff: BackoffPolicy;
  handler: JobHandler;
  hooks?: PoolHooks;
  now?: () => number;
  /** The clock of the watchdog's sign of life (default `performance.now()`): a wall-clock step must not hide a hang. */
  monotonic?: () => number;
  random?: () => number;
  /** Longest sleep between claim attempts when nothing wakes the lane (backoff timers are found this way). */
  idlePollMs?: number;
  /** Added to a job's timeout before the pool itself aborts it (default 0). */
  timeoutGraceMs?: number;
  /** How often the watchdog looks for `running` jobs no worker holds (default 30 s). */
  watchdogMs?: number;
  /** First wait before writing a failed outcome write again; doubles up to 30 s (default 500 ms). */
  recordRetryMs?: number;
}

/** An outcome the database refused to take; written again with backoff until it lands. */
interface Unrecorded {
  job: JobRow;
  fence: Fence;
  outcome: RunOutcome;
  cause: AbortCause | null;
  failures: number;
  since: number;
  lastError: string;
  timer: NodeJS.Timeout | null;
}

/** The longest a worker slot or an unwritten outcome waits before trying the database again. */
const MAX_SUPERVISOR_BACKOFF_MS = 30_000;

interface Running {
  job: JobRow;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Workers per lane that claim jobs from the durable queue, run the handler with a per-job AbortSignal
 * (cancel, timeout, shutdown), and record the outcome: success, retry with backoff for retryable classes while
 * attempts remain, or failure. Every write is fenced by the attempt number.
 */
export class WorkerPool {
  private readonly running = new Map<string, Running>();
  private readonly unrecorded = new Map<string, Unrecorded>();
  private watchdog: NodeJS.Timeout | null = null;
  private readonly waiters: Record<Lane, Set<() => void>> = { interactive: new Set(), background: new Set() };
  private readonly loops: Promise<void>[] = [];
  private stopping = false;
  private started = false;
  /** When a worker loop last went round (or a job started or ended): the watchdog's sign of life. */
  private lastTick = 0;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private readonly random: () => number;

  constructor(private readonly opts: PoolOptions) {
    this.now = opts.now ?? Date.now;
    this.monotonic = opts.monotonic ?? (() => performance.now());
    this.random = opts.random ?? Math.random;
  }

  start(): void {
    this.started = true;
    this.lastTick = this.monotonic();
    for (const lane of LANES) {
      for (let i = 0; i < this.opts.workers[lane]; i++) this.loops.push(this.loop(lane));
    }
    this.watchdog = setInterval(() => this.sweepOrphans(), clampTimerMs(this.opts.watchdogMs ?? 30_000));
    this.watchdog.unref();
  }

  /**
   * Jobs whose outcome the database has not taken yet (it is retried with backoff): the cause of a `degraded`
   * queue, and why such a job still shows `running`.
   */
  unrecordedOutcomes(): { jobId: string; since: number; failures: number; lastError: string }[] {
    return [...this.unrecorded.values()].map((u) => ({
      jobId: u.job.id,
      since: u.since,
      failures: u.failures,
      lastError: u.lastError,
    }));
  }

  /**
   * The watchdog: a `running` job that no worker of this pool holds and whose outcome is not waiting to be
   * written is an orphan (nothing else runs jobs: the data directory's lock makes this process the only one).
   * It is handed back by the same rule as at boot. Errors are left for the next round.
   */
  sweepOrphans(): RecoveryReport | null {
    if (!this.started) return null;
    try {
      const held = new Set([...this.running.keys(), ...this.unrecorded.keys()]);
      const report = this.opts.jobs.recoverOrphans(this.now(), { held, why: 'no worker held the job' });
      if (report.requeued.length + report.failed.length + report.completed.length > 0) {
        this.opts.hooks?.onOrphansRecovered?.(report);
        for (const id of [...report.requeued, ...report.failed, ...report.completed]) this.opts.hooks?.onChange?.(id);
        this.wake();
      }
      return report;
    } catch {
      return null;
    }
  }

  /** New work was queued (or a task freed up): wake idle workers now instead of at their next poll. */
  wake(lane?: Lane): void {
    for (const l of lane ? [lane] : LANES) {
      for (const w of this.waiters[l]) w();
      this.waiters[l].clear();
    }
  }

  /** True while the workers are started and going round (a busy worker counts as alive: its job has its own timeout). */
  alive(): boolean {
    if (!this.started || this.stopping) return false;
    return this.running.size > 0 || this.monotonic() - this.lastTick < 3 * (this.opts.idlePollMs ?? 1000) + 10_000;
  }

  busy(): Record<Lane, number> {
    const out: Record<Lane, number> = { interactive: 0, background: 0 };
    for (const r of this.running.values()) out[r.job.lane]++;
    return out;
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId) || this.unrecorded.has(jobId);
  }

  /**
   * Cancels a job the database shows `running`: aborts it when a worker holds it; when its outcome waits to be
   * written, makes that outcome a cancel (unless it answered) and writes it now; when nobody holds it, hands it
   * back at once (the watchdog's rule, which cancels it as its cancel was requested). False if none applied.
   */
  cancel(jobId: string): boolean {
    const r = this.running.get(jobId);
    if (r) {
      r.controller.abort(new JobAbort('canceled'));
      return true;
    }
    const u = this.unrecorded.get(jobId);
    if (u) {
      u.cause = 'canceled';
      this.retryRecord(u);
      return true;
    }
    return this.sweepOrphans()?.failed.includes(jobId) ?? false;
  }

  /**
   * Graceful stop: no new claims; running jobs get `drainMs` to finish, then are aborted with cause `shutdown`
   * and put back in the queue without counting the attempt.
   */
  async drain(drainMs: number): Promise<{ finished: number; interrupted: number }> {
    this.stopping = true;
    this.wake();
    const inFlight = [...this.running.values()];
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(inFlight.map((r) => r.done)).then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), drainMs);
      }),
    ]);
    clearTimeout(timer);
    let interrupted = 0;
    if (timedOut) {
      for (const r of this.running.values()) {
        r.controller.abort(new JobAbort('shutdown'));
        interrupted++;
      }
    }
    await Promise.all(this.loops);
    if (this.watchdog) clearInterval(this.watchdog);
    // Last try for outcomes still unwritten (no new timer is set while stopping); what stays unwritten is
    // recovered at the next start.
    for (const u of [...this.unrecorded.values()]) this.retryRecord(u);
    this.unrecorded.clear();
    return { finished: inFlight.length - interrupted, interrupted };
  }

  /**
   * One worker slot. It is its own supervisor: an error from the queue (say the database is locked or the disk
   * is full) is reported and the slot backs off exponentially (up to 30 s) and tries again; the first success
   * after errors is reported as a recovery. It never dies while the pool runs.
   */
  private async loop(lane: Lane): Promise<void> {
    const idle = this.opts.idlePollMs ?? 1000;
    let failures = 0;
    while (!this.stopping) {
      this.lastTick = this.monotonic();
      let job: JobRow | null = null;
      try {
        job = this.opts.jobs.claimNext(lane, this.now(), this.horizonMs());
        if (failures > 0) {
          this.opts.hooks?.onLoopRecovered?.(lane, failures);
          failures = 0;
        }
      } catch (err) {
        failures++;
        const retryInMs = backoffDelayMs(failures, { initialMs: idle, maxMs: MAX_SUPERVISOR_BACKOFF_MS, jitter: 0 });
        this.opts.hooks?.onLoopError?.(lane, err, failures, retryInMs);
        await this.sleep(lane, retryInMs);
        continue;
      }
      if (!job) {
        const next = safe(() => this.opts.jobs.nextWake(lane));
        const wait = next === null ? idle : Math.min(idle, Math.max(10, next - this.now()));
        await this.sleep(lane, wait);
        continue;
      }
      this.opts.hooks?.onChange?.(job.id);
      await this.run(job);
    }
  }

  private sleep(lane: Lane, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.waiters[lane].delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters[lane].add(done);
    });
  }

  /** The furthest ahead the pool ever schedules a job (a backoff with full jitter), plus a minute of slack. */
  private horizonMs(): number {
    return 2 * this.opts.backoff.maxMs + 60_000;
  }

  private async run(job: JobRow): Promise<void> {
    const fence: Fence = { jobId: job.id, attempt: job.attempt };
    const controller = new AbortController();
    // A backstop: the stages bound themselves (executor and router/closer timeouts end at the same deadline and
    // kill their process groups); this abort only catches a stage that failed to.
    const timer = setTimeout(
      () => controller.abort(new JobAbort('timeout')),
      clampTimerMs(job.timeoutS * 1000 + (this.opts.timeoutGraceMs ?? 0)),
    );
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    this.running.set(job.id, { job, controller, done });
    // A cancel that was requested before this process claimed the job (e.g. across a restart).
    if (job.cancelRequested) controller.abort(new JobAbort('canceled'));
    try {
      let outcome: RunOutcome;
      try {
        outcome = await this.opts.handler(job, { fence, signal: controller.signal });
      } catch (err) {
        outcome = {
          kind: 'failed',
          errorClass: 'internal',
          message: `internal error: ${errorMessage(err)}`,
          stderrTail: null,
        };
      }
      const u: Unrecorded = {
        job,
        fence,
        outcome,
        cause: abortCauseOf(controller.signal),
        failures: 0,
        since: this.now(),
        lastError: '',
        timer: null,
      };
      // Held as unrecorded before the worker lets go of the job, so the watchdog never sees it unheld.
      if (!this.tryRecord(u)) this.unrecorded.set(job.id, u);
    } finally {
      clearTimeout(timer);
      this.running.delete(job.id);
      this.opts.hooks?.onAttemptEnd?.(job);
      resolveDone();
      this.opts.hooks?.onChange?.(job.id);
      // Finishing may unblock the next job of the same task, possibly in the other lane.
      this.wake();
    }
  }

  /**
   * Writes an outcome; on a database error (locked by another process, disk full) schedules another try with
   * backoff and returns false. The job stays `running` meanwhile — correctly: its task's next job must not start
   * before this outcome is known — and is reported (status degraded) until the write lands.
   */
  private tryRecord(u: Unrecorded): boolean {
    try {
      this.record(u.job, u.fence, u.outcome, u.cause);
    } catch (err) {
      u.failures++;
      u.lastError = errorMessage(err);
      const retryInMs = backoffDelayMs(u.failures, {
        initialMs: this.opts.recordRetryMs ?? 500,
        maxMs: MAX_SUPERVISOR_BACKOFF_MS,
        jitter: 0,
      });
      this.opts.hooks?.onRecordError?.(u.job, err, u.failures, retryInMs);
      if (!this.stopping) {
        u.timer = setTimeout(() => this.retryRecord(u), retryInMs);
        u.timer.unref();
      }
      return false;
    }
    if (u.failures > 0) {
      this.unrecorded.delete(u.job.id);
      this.opts.hooks?.onRecordRecovered?.(u.job, u.failures);
      this.opts.hooks?.onChange?.(u.job.id);
      this.wake();
    }
    return true;
  }

  private retryRecord(u: Unrecorded): void {
    if (u.timer) clearTimeout(u.timer);
    u.timer = null;
    if (this.unrecorded.get(u.job.id) === u) this.tryRecord(u);
  }

  private record(job: JobRow, fence: Fence, outcome: RunOutcome, cause: AbortCause | null): void {
    const jobs = this.opts.jobs;
    const now = this.now();
    const finished = (t: Transition, errorClass: ErrorClass | null): void => {
      // An answered job ends succeeded whatever was asked (the store's one rule); report what was written.
      if (t === 'succeeded') this.opts.hooks?.onFinished?.(job, 'succeeded', null);
      else if (t === 'failed' || t === 'canceled') this.opts.hooks?.onFinished?.(job, t, errorClass);
    };
    if (cause === 'shutdown') {
      finished(jobs.yieldBack(fence, now, 'interrupted by shutdown; re-queued'), null);
      return;
    }
    if (cause === 'canceled' || (cause === null && outcome.kind === 'failed' && outcome.errorClass === 'canceled')) {
      const stderrTail = outcome.kind === 'failed' ? outcome.stderrTail : null;
      finished(
        jobs.finish(fence, {
          state: 'canceled',
          now,
          errorClass: 'canceled',
          errorMessage: 'canceled by the owner',
          stderrTail,
        }),
        'canceled',
      );
      return;
    }
    if (outcome.kind === 'yield') {
      finished(jobs.yieldBack(fence, now, outcome.reason ?? null), null);
      return;
    }
    if (outcome.kind === 'succeeded') {
      finished(jobs.finish(fence, { state: 'succeeded', now }), null);
      return;
    }
    const errorClass: ErrorClass = cause === 'timeout' ? 'timeout' : outcome.errorClass;
    const message =
      cause === 'timeout' && outcome.errorClass !== 'timeout'
        ? `the job ran past its timeout of ${job.timeoutS}s`
        : outcome.message;
    if (isRetryable(errorClass) && fence.attempt < job.maxAttempts) {
      const delay = backoffDelayMs(fence.attempt, this.opts.backoff, this.random);
      finished(
        jobs.scheduleRetry(fence, {
          nextRunAt: now + delay,
          now,
          errorClass,
          errorMessage: message,
          stderrTail: outcome.stderrTail,
        }),
        errorClass,
      );
      return;
    }
    const note = this.opts.hooks?.failureNote?.(job, errorClass, message) ?? null;
    finished(
      jobs.finish(fence, {
        state: 'failed',
        now,
        errorClass,
        errorMessage: message,
        stderrTail: outcome.stderrTail,
        systemNote: note,
      }),
      errorClass,
    );
  }
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
