import { and, asc, desc, eq, inArray, isNotNull, isNull, lte, ne, sql } from 'drizzle-orm';
import { ConflictError, NotFoundError, newId } from '@alter0/core';
import type { Lane } from '@alter0/core';
import type { Drizzle } from './db.js';
import type { AcceptInput, AcceptResult, JobsRepo } from './jobs-repo.js';
import { jobs, scheduleRuns, schedules, tasks } from './schema.js';
import type { ScheduleKind, ScheduleRow, ScheduleRunKind, ScheduleRunRow } from './schema.js';
import type { Commits } from './tx.js';

export interface NewSchedule {
  kind: ScheduleKind;
  expr: string;
  tz: string | null;
  text: string;
  taskId: string | null;
  lane: Lane;
  userId: string;
  nextRunAt: number;
  now: number;
}

/** One firing to commit: the slot it fires, the schedule's next slot after it, and the job's message. */
export interface Firing {
  scheduleId: string;
  /** The fence: the schedule's next_run_at as read when the firing was planned; null for a run the owner asked for now. */
  expectedNextRunAt: number | null;
  slotAt: number;
  kind: ScheduleRunKind;
  /** The schedule's next slot; null: a one-shot that is done. Ignored for a run asked for now. */
  nextRunAt: number | null;
  input: AcceptInput;
}

/** What a firing became: a job, a refusal (the queue, a task that is gone), or nothing (another firing won). */
export type FireResult =
  | { kind: 'fired'; accepted: Extract<AcceptResult, { ok: true }>['value']; run: ScheduleRunRow }
  | { kind: 'refused'; error: Extract<AcceptResult, { ok: false }>['error'] }
  | { kind: 'stale' };

export interface ScheduleSummary {
  count: number;
  active: number;
  paused: { id: string; reason: string | null }[];
  next: { id: string; at: number } | null;
  /** Schedules whose last run failed. */
  failing: number;
}

/** A firing whose job ended and is not yet counted on its schedule. */
export interface EndedRun {
  run: ScheduleRunRow;
  jobState: 'succeeded' | 'failed' | 'canceled';
  error: string | null;
}

/** The owner's schedules and their firings. Each change is one durable commit; a firing commits with its job. */
export class SchedulesRepo {
  constructor(
    private readonly db: Drizzle,
    private readonly commits: Commits,
    private readonly jobsRepo: JobsRepo,
  ) {}

  list(): ScheduleRow[] {
    return this.db.select().from(schedules).orderBy(asc(schedules.createdAt), asc(schedules.id)).all();
  }

  get(id: string): ScheduleRow | undefined {
    return this.db.select().from(schedules).where(eq(schedules.id, id)).get();
  }

  mustGet(id: string): ScheduleRow {
    const row = this.get(id);
    if (!row) throw new NotFoundError('schedule', id);
    return row;
  }

  create(p: NewSchedule): ScheduleRow {
    return this.commits.immediate(() => {
      if (p.taskId !== null && !this.db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, p.taskId)).get()) {
        throw new NotFoundError('task', p.taskId);
      }
      const row: ScheduleRow = {
        id: newId('s'),
        kind: p.kind,
        expr: p.expr,
        tz: p.tz,
        text: p.text,
        taskId: p.taskId,
        lane: p.lane,
        userId: p.userId,
        state: 'active',
        pausedReason: null,
        nextRunAt: p.nextRunAt,
        lastFiredAt: null,
        lastJobId: null,
        lastResult: null,
        consecutiveFailures: 0,
        createdAt: p.now,
        updatedAt: p.now,
      };
      this.db.insert(schedules).values(row).run();
      return row;
    });
  }

  /** Removes a schedule and its firing history (its jobs stay, like any job). */
  remove(id: string): void {
    this.commits.immediate(() => {
      if (this.db.delete(schedules).where(eq(schedules.id, id)).run().changes === 0) {
        throw new NotFoundError('schedule', id);
      }
      this.db.delete(scheduleRuns).where(eq(scheduleRuns.scheduleId, id)).run();
    });
  }

  /** Pauses (reason given) or resumes (reason null, with the slot to wait for). */
  setPaused(id: string, p: { reason: string | null; nextRunAt: number | null; now: number }): ScheduleRow {
    return this.commits.immediate(() => {
      const cur = this.mustGet(id);
      if (cur.state === 'done') throw new ConflictError(`schedule ${id} was a one-shot and has fired; add a new one`);
      const resume = p.reason === null;
      this.db
        .update(schedules)
        .set({
          state: resume ? 'active' : 'paused',
          pausedReason: p.reason,
          nextRunAt: resume ? p.nextRunAt : null,
          consecutiveFailures: resume ? 0 : cur.consecutiveFailures,
          updatedAt: p.now,
        })
        .where(eq(schedules.id, id))
        .run();
      return this.mustGet(id);
    });
  }

  /** Active schedules due at `now`, earliest first. */
  due(now: number): ScheduleRow[] {
    return this.db
      .select()
      .from(schedules)
      .where(and(eq(schedules.state, 'active'), isNotNull(schedules.nextRunAt), lte(schedules.nextRunAt, now)))
      .orderBy(asc(schedules.nextRunAt))
      .all();
  }

  /** The earliest slot any active schedule waits for, or null. */
  earliest(): number | null {
    const r = this.db
      .select({ at: sql<number | null>`min(${schedules.nextRunAt})` })
      .from(schedules)
      .where(eq(schedules.state, 'active'))
      .get();
    return r?.at ?? null;
  }

  /**
   * Commits a firing: the schedule moves on (fenced by the slot it was due at) and the job is accepted, in one
   * transaction; a slot that already fired, or a schedule that moved on meanwhile, fires nothing.
   */
  fire(f: Firing, now: number): FireResult {
    return this.commits.immediate((): FireResult => {
      const cur = this.get(f.scheduleId);
      if (!cur) return { kind: 'stale' };
      if (f.expectedNextRunAt !== null) {
        if (cur.state !== 'active' || cur.nextRunAt !== f.expectedNextRunAt) return { kind: 'stale' };
        this.advance(cur.id, f.nextRunAt, now);
      }
      const fired = this.db
        .select({ id: scheduleRuns.id })
        .from(scheduleRuns)
        .where(
          and(eq(scheduleRuns.scheduleId, cur.id), eq(scheduleRuns.slotAt, f.slotAt), ne(scheduleRuns.kind, 'now')),
        )
        .get();
      if (fired) return { kind: 'stale' };
      const [accepted] = this.jobsRepo.acceptMany([f.input]);
      if (!accepted) throw new Error('acceptMany returned no result');
      if (!accepted.ok) return { kind: 'refused', error: accepted.error };
      const run: ScheduleRunRow = {
        id: newId('f'),
        scheduleId: cur.id,
        slotAt: f.slotAt,
        kind: f.kind,
        firedAt: now,
        jobId: accepted.value.job.id,
        result: null,
        endedAt: null,
      };
      this.db.insert(scheduleRuns).values(run).run();
      this.db
        .update(schedules)
        .set({ lastFiredAt: f.slotAt, lastJobId: run.jobId, updatedAt: now })
        .where(eq(schedules.id, cur.id))
        .run();
      return { kind: 'fired', accepted: accepted.value, run };
    });
  }

  private advance(id: string, nextRunAt: number | null, now: number): void {
    this.db
      .update(schedules)
      .set({ nextRunAt, ...(nextRunAt === null ? { state: 'done' as const } : {}), updatedAt: now })
      .where(eq(schedules.id, id))
      .run();
  }

  /**
   * Moves a due schedule on without a job: its slots were missed (`skip`), or the clock went back and it waits for
   * an earlier slot. Fenced like a firing; returns false when the schedule moved on meanwhile.
   */
  moveOn(p: {
    scheduleId: string;
    expectedNextRunAt: number;
    nextRunAt: number | null;
    missed: boolean;
    now: number;
  }): boolean {
    return this.commits.immediate(() => {
      const cur = this.get(p.scheduleId);
      if (!cur || cur.state !== 'active' || cur.nextRunAt !== p.expectedNextRunAt) return false;
      this.advance(cur.id, p.nextRunAt, p.now);
      if (p.missed) {
        this.db.update(schedules).set({ lastResult: 'missed' }).where(eq(schedules.id, cur.id)).run();
      }
      return true;
    });
  }

  /** Firings whose job has ended and that are not yet counted, oldest first. */
  endedRuns(limit = 100): EndedRun[] {
    return this.db
      .select({ run: scheduleRuns, jobState: jobs.state, error: jobs.errorMessage })
      .from(scheduleRuns)
      .innerJoin(jobs, eq(jobs.id, scheduleRuns.jobId))
      .where(and(isNull(scheduleRuns.result), inArray(jobs.state, ['succeeded', 'failed', 'canceled'])))
      .orderBy(asc(scheduleRuns.firedAt), asc(scheduleRuns.id))
      .limit(limit)
      .all() as EndedRun[];
  }

  /**
   * Counts an ended firing on its schedule (last result, failures in a row) and pauses the schedule when its jobs
   * failed `maxFailures` times in a row. A canceled job is the owner's doing: not a failure, not a success.
   * Returns the schedule when this paused it.
   */
  settle(e: EndedRun, p: { maxFailures: number; now: number }): ScheduleRow | null {
    return this.commits.immediate(() => {
      const done = this.db
        .update(scheduleRuns)
        .set({ result: e.jobState, endedAt: p.now })
        .where(and(eq(scheduleRuns.id, e.run.id), isNull(scheduleRuns.result)))
        .run();
      const cur = this.get(e.run.scheduleId);
      if (done.changes === 0 || !cur) return null;
      const failures =
        e.jobState === 'failed'
          ? cur.consecutiveFailures + 1
          : e.jobState === 'succeeded'
            ? 0
            : cur.consecutiveFailures;
      const pause = cur.state === 'active' && e.jobState === 'failed' && failures >= p.maxFailures;
      this.db
        .update(schedules)
        .set({
          lastResult: e.jobState,
          consecutiveFailures: failures,
          updatedAt: p.now,
          ...(pause
            ? {
                state: 'paused' as const,
                nextRunAt: null,
                pausedReason: `paused after ${failures} failed runs in a row (last: ${e.error ?? 'no error recorded'}); fix the cause, then resume it`,
              }
            : {}),
        })
        .where(eq(schedules.id, cur.id))
        .run();
      return pause ? this.mustGet(cur.id) : null;
    });
  }

  /** For the status: how many, which fires next, which are paused and why, how many failed last time. */
  summary(): ScheduleSummary {
    const rows = this.list();
    const active = rows.filter((r) => r.state === 'active' && r.nextRunAt !== null);
    const next = active.reduce<ScheduleRow | null>(
      (a, r) => (a === null || (r.nextRunAt ?? 0) < (a.nextRunAt ?? 0) ? r : a),
      null,
    );
    const paused = rows.filter((r) => r.state === 'paused');
    return {
      count: rows.length,
      active: active.length,
      paused: paused.map((r) => ({ id: r.id, reason: r.pausedReason })),
      next: next === null ? null : { id: next.id, at: next.nextRunAt ?? 0 },
      failing: rows.filter((r) => r.lastResult === 'failed').length,
    };
  }

  /** A schedule's latest firings, newest first. */
  runs(scheduleId: string, limit = 20): ScheduleRunRow[] {
    return this.db
      .select()
      .from(scheduleRuns)
      .where(eq(scheduleRuns.scheduleId, scheduleId))
      .orderBy(desc(scheduleRuns.slotAt), desc(scheduleRuns.id))
      .limit(limit)
      .all();
  }
}
