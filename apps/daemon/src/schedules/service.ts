import type { Lane } from '@alter0/core';
import { ConflictError, NotFoundError } from '@alter0/core';
import type { Logger, Metrics } from '@alter0/obs';
import type { MissedPolicy, ScheduleRequest, Timing } from '@alter0/schedules';
import { describeSchedule, nextSlot, parseSchedule, planFiring, rebase } from '@alter0/schedules';
import type { Accepted, AcceptInput, ScheduleRow, Store } from '@alter0/store';
import type { Bus } from '../bus.js';

/** The longest the scheduler sleeps between looks: a clock that jumped is noticed within this time. */
const MAX_SLEEP_MS = 30_000;
/** After a look that failed, the next comes this long after (doubling, up to MAX_SLEEP_MS). */
const RETRY_INITIAL_MS = 1000;
/** Channel id of the jobs a schedule starts. */
const SCHEDULE_CHANNEL = 'schedule';

export interface ScheduleServiceOptions {
  store: Store;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  missed: MissedPolicy;
  maxFailures: number;
  defaults: { timeoutS: number; maxAttempts: number; queueDepth: number };
  /** After a firing's commit, as for any accepted message: metrics, live updates, waking the workers. */
  onAccepted(a: Accepted): void;
}

export interface NewScheduleRequest extends ScheduleRequest {
  text: string;
  taskId: string | null;
  lane: Lane;
  userId: string;
}

/** A stored schedule's timing, for the slot arithmetic of @alter0/schedules. */
function timingOf(row: ScheduleRow): Timing {
  const spec =
    row.kind === 'every'
      ? { kind: row.kind, expr: row.expr, tz: null }
      : { kind: row.kind, expr: row.expr, tz: row.tz };
  return { spec, anchorMs: row.createdAt };
}

export function describeRow(row: ScheduleRow): string {
  return describeSchedule(timingOf(row).spec);
}

/**
 * The owner's schedules at work: sleeps until the earliest due slot (at most 30 s, so a clock jump is noticed),
 * fires what is due — each firing and its job in one transaction fenced by the slot (exactly once across crashes)
 * — and counts how each firing's job ended, pausing a schedule whose jobs keep failing.
 */
export class ScheduleService {
  private timer: NodeJS.Timeout | null = null;
  private settleQueued = false;
  private stopped = true;
  /** Looks that failed in a row (the retry backs off). */
  private failures = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly o: ScheduleServiceOptions) {}

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.o.bus.subscribe((e) => {
      if (e.type === 'job') this.queueSettle();
    });
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  add(req: NewScheduleRequest): ScheduleRow {
    const now = this.o.now();
    const spec = parseSchedule(req, now);
    const first = nextSlot({ spec, anchorMs: now }, now);
    if (first === null) throw new ConflictError('that schedule never fires; give a time in the future');
    const row = this.o.store.schedules.create({
      ...spec,
      text: req.text,
      taskId: req.taskId,
      lane: req.lane,
      userId: req.userId,
      nextRunAt: first,
      now,
    });
    this.o.logger.info('schedule added', {
      schedule_id: row.id,
      when: describeRow(row),
      next_run_at: new Date(first).toISOString(),
    });
    this.wake();
    return row;
  }

  pause(id: string): ScheduleRow {
    const row = this.o.store.schedules.setPaused(id, {
      reason: 'paused by the owner',
      nextRunAt: null,
      now: this.o.now(),
    });
    this.wake();
    return row;
  }

  /** Resumes at the next slot after now: what passed while it was paused does not run. */
  resume(id: string): ScheduleRow {
    const cur = this.o.store.schedules.mustGet(id);
    const now = this.o.now();
    const next = nextSlot(timingOf(cur), now);
    if (next === null) throw new ConflictError(`schedule ${id} was a one-shot whose time has passed; add a new one`);
    const row = this.o.store.schedules.setPaused(id, { reason: null, nextRunAt: next, now });
    this.wake();
    return row;
  }

  remove(id: string): void {
    this.o.store.schedules.remove(id);
    this.wake();
  }

  /** Fires a schedule now, whatever its state; its next slot stays as it was. Returns the job's id. */
  runNow(id: string): { schedule: ScheduleRow; jobId: string } {
    const cur = this.o.store.schedules.mustGet(id);
    const now = this.o.now();
    const r = this.o.store.schedules.fire(
      {
        scheduleId: id,
        expectedNextRunAt: null,
        slotAt: now,
        kind: 'now',
        nextRunAt: null,
        input: this.inputFor(cur, now),
      },
      now,
    );
    if (r.kind === 'refused') throw r.error;
    if (r.kind === 'stale') throw new ConflictError(`schedule ${id} fired at this very moment already; try again`);
    this.o.onAccepted(r.accepted);
    this.o.metrics.scheduleFiring('fired');
    return { schedule: this.o.store.schedules.mustGet(id), jobId: r.accepted.job.id };
  }

  /** Looks again now (after a change that may move the earliest slot). */
  wake(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), 0);
  }

  private tick(): void {
    this.timer = null;
    if (this.stopped) return;
    try {
      this.look();
      this.failures = 0;
    } catch (err) {
      // A failing look (a locked database, a full disk) is retried; it must never end the daemon. Not at once: a
      // due slot that cannot be written is due again at the next look, and retrying at once spun the event loop
      // every few milliseconds, one error line each, for as long as the disk was full (found by the day soak).
      this.failures++;
      const retryMs = Math.min(MAX_SLEEP_MS, RETRY_INITIAL_MS * 2 ** (this.failures - 1));
      this.o.logger.error('the scheduler failed to look at the schedules; retrying', {
        error: String(err),
        retry_in_ms: retryMs,
      });
      this.arm(retryMs);
      return;
    }
    this.arm();
  }

  /** One look: count the ended firings, fire what is due, follow a clock that went back. Throws what the store throws. */
  look(): void {
    this.settle();
    for (const row of this.o.store.schedules.due(this.o.now())) this.fireDue(row);
    this.rebaseAll();
  }

  private arm(atLeastMs = 0): void {
    if (this.stopped) return;
    let wait = MAX_SLEEP_MS;
    try {
      const earliest = this.o.store.schedules.earliest();
      if (earliest !== null) wait = Math.max(0, Math.min(MAX_SLEEP_MS, earliest - this.o.now()));
    } catch {
      // Read again at the next look.
    }
    this.timer = setTimeout(() => this.tick(), Math.max(atLeastMs, wait));
    this.timer.unref();
  }

  private inputFor(row: ScheduleRow, now: number): AcceptInput {
    const { timeoutS, maxAttempts, queueDepth } = this.o.defaults;
    return {
      content: row.text,
      channelId: SCHEDULE_CHANNEL,
      userId: row.userId,
      sessionId: row.id,
      taskId: row.taskId,
      lane: row.lane,
      maxAttempts,
      timeoutS,
      now,
      maxQueued: queueDepth,
      notify: true,
    };
  }

  /**
   * Fires (or skips) one due schedule. What it writes — the schedule moved on, the firing and its job, the event
   * of missed slots or of a refusal — is one transaction: a lock or a crash anywhere leaves all of it or none.
   */
  private fireDue(row: ScheduleRow): void {
    const { store, logger, metrics } = this.o;
    const now = this.o.now();
    const due = row.nextRunAt;
    if (due === null) return;
    const plan = planFiring(timingOf(row), due, now, this.o.missed);
    const { fire } = plan;
    const r = store.transaction(() => {
      if (fire === null) {
        const moved = store.schedules.moveOn({
          scheduleId: row.id,
          expectedNextRunAt: due,
          nextRunAt: plan.nextRunAt,
          missed: true,
          now,
        });
        if (moved) this.recordMissed(row, plan.missed, false, now);
        return moved ? ({ kind: 'skipped' } as const) : ({ kind: 'stale' } as const);
      }
      const fired = store.schedules.fire(
        {
          scheduleId: row.id,
          expectedNextRunAt: due,
          slotAt: fire.slotAt,
          kind: fire.catchUp ? 'catch_up' : 'slot',
          nextRunAt: plan.nextRunAt,
          input: this.inputFor(row, now),
        },
        now,
      );
      if (fired.kind === 'stale') return fired;
      if (plan.missed > 0) this.recordMissed(row, plan.missed, true, now);
      if (fired.kind === 'refused') this.refused(row, fired.error, now);
      return fired;
    });
    if (r.kind === 'skipped') metrics.scheduleFiring('missed');
    if (r.kind === 'refused') {
      metrics.scheduleFiring('refused');
      logger.error('schedule firing refused', { schedule_id: row.id, error: r.error.message });
    }
    if (r.kind !== 'fired' || fire === null) return;
    this.o.onAccepted(r.accepted);
    metrics.scheduleFiring('fired');
    logger.child({ job_id: r.accepted.job.id }).info('schedule fired', {
      schedule_id: row.id,
      slot_at: new Date(fire.slotAt).toISOString(),
      catch_up: fire.catchUp,
    });
  }

  /**
   * The queue was full or the schedule's task is gone: the slot is given up (the firing moved the schedule on), and
   * a task that is gone pauses it. Inside the firing's transaction.
   */
  private refused(row: ScheduleRow, error: Error, now: number): void {
    const { store } = this.o;
    if (error instanceof NotFoundError) {
      store.schedules.setPaused(row.id, {
        reason: `its task ${row.taskId ?? ''} no longer exists; remove this schedule and add it again for another task`,
        nextRunAt: null,
        now,
      });
    }
    store.events.add({
      component: 'scheduler',
      level: 'error',
      kind: 'schedule_refused',
      message: `schedule ${row.id} could not start its job: ${error.message}`,
      details: { schedule_id: row.id },
      now,
    });
  }

  private recordMissed(row: ScheduleRow, missed: number, caughtUp: boolean, now: number): void {
    const runs = `${missed} run${missed === 1 ? '' : 's'}`;
    const message = `schedule ${row.id} (${describeRow(row)}) missed ${runs} while alter0 was stopped or busy${caughtUp ? '; one catch-up run starts now' : ' (schedules.missed = "skip")'}`;
    this.o.store.events.add({
      component: 'scheduler',
      level: 'warn',
      kind: 'schedule_missed',
      message,
      details: { schedule_id: row.id, missed, catch_up: caughtUp },
      now,
    });
    this.o.logger.warn(message, { schedule_id: row.id });
  }

  /** The clock went back: a schedule waits for the slot its spec gives now, not one a day away. */
  private rebaseAll(): void {
    const now = this.o.now();
    for (const row of this.o.store.schedules.list()) {
      if (row.state !== 'active' || row.nextRunAt === null) continue;
      const to = rebase(timingOf(row), row.nextRunAt, now);
      if (to === null) continue;
      this.o.store.schedules.moveOn({
        scheduleId: row.id,
        expectedNextRunAt: row.nextRunAt,
        nextRunAt: to,
        missed: false,
        now,
      });
      this.o.logger.warn('the clock went back: schedule waits for an earlier slot', {
        schedule_id: row.id,
        next_run_at: new Date(to).toISOString(),
      });
    }
  }

  private queueSettle(): void {
    if (this.settleQueued || this.stopped) return;
    this.settleQueued = true;
    setImmediate(() => {
      this.settleQueued = false;
      try {
        this.settle();
      } catch (err) {
        this.o.logger.error('the scheduler failed to count ended runs; retrying at its next look', {
          error: String(err),
        });
      }
    });
  }

  /** Counts the ended firings on their schedules; pauses the ones whose jobs keep failing (with its event, in one commit). */
  private settle(): void {
    const { store } = this.o;
    for (const e of store.schedules.endedRuns()) {
      const paused = store.transaction(() => {
        const p = store.schedules.settle(e, { maxFailures: this.o.maxFailures, now: this.o.now() });
        if (p) {
          store.events.add({
            component: 'scheduler',
            level: 'warn',
            kind: 'schedule_paused',
            message: `schedule ${p.id} (${describeRow(p)}) ${p.pausedReason ?? 'paused'}`,
            details: { schedule_id: p.id, failures: p.consecutiveFailures },
            now: this.o.now(),
          });
        }
        return p;
      });
      if (paused) {
        this.o.logger.warn('schedule paused after repeated failures', {
          schedule_id: paused.id,
          failures: paused.consecutiveFailures,
        });
      }
    }
  }
}
