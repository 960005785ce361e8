import { and, desc, eq, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type BetterSqlite3 from 'better-sqlite3';
import type { ErrorClass, JobState, Lane, Stage } from '@alter0/core';
import { ConflictError, LimitError, NotFoundError, newId } from '@alter0/core';
import type { Drizzle } from './db.js';
import { jobs, messages, tasks } from './schema.js';
import type { JobRow, MessageRow } from './schema.js';
import type { Commits } from './tx.js';
import { hotStatements } from './hot.js';
import type { ChannelsRepo } from './channels-repo.js';
import type { HotStatements } from './hot.js';

export interface AcceptInput {
  content: string;
  channelId: string;
  userId: string;
  sessionId: string | null;
  /** Explicit task reference; must exist. */
  taskId: string | null;
  lane: Lane;
  maxAttempts: number;
  timeoutS: number;
  now: number;
  /** Queue depth limit: refused (nothing written) when this many jobs are already queued. */
  maxQueued?: number;
  /** Nobody waits for the answer: announce the job's end through the outbox (see `jobs.notify`). */
  notify?: boolean;
  /** 'new': start a new task without asking the router (Telegram's /new). */
  routeHint?: 'new' | null;
  /** The channel's input position, committed with the message (Telegram: the next update offset). */
  cursor?: { channel: string; value: string };
  /** The channel's own id of the message (Telegram: chat + message id), so replies to it find the job. */
  ref?: { chatId: string; messageId: number };
}

/** What an accepted input became. */
export interface Accepted {
  message: MessageRow;
  job: JobRow;
}

/** One input's answer in a group commit: accepted, or refused on its own with a typed error. */
export type AcceptResult = { ok: true; value: Accepted } | { ok: false; error: LimitError | NotFoundError };

export interface JobFilter {
  state?: JobState;
  taskId?: string;
  limit?: number;
}

/** Fencing token of one run of a job (invariant 3): writes of an older attempt are ignored. */
export interface Fence {
  jobId: string;
  attempt: number;
}

export type TimingField = 'routeMs' | 'executeMs' | 'closeMs';

/** What a fenced transition wrote: the job's new state, or null when the fence no longer held (nothing written). */
export type Transition = JobState | null;

/** A retry request's answer: the retry job, and whether this request created it (false: an earlier one did). */
export interface RetryResult {
  job: JobRow;
  created: boolean;
}

export interface RecoveryReport {
  requeued: string[];
  failed: string[];
  completed: string[];
}

/** The jobs table: intake, claim, fenced transitions, cancel, retry and boot recovery. */
export class JobsRepo {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly hot: HotStatements;

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly db: Drizzle,
    private readonly commits: Commits,
    private readonly channels: ChannelsRepo,
  ) {
    this.hot = hotStatements(sqlite, db);
  }

  /** The hot queries are prepared once per connection, not on every call. */
  private cached(sqlText: string): BetterSqlite3.Statement {
    let st = this.statements.get(sqlText);
    if (!st) {
      st = this.sqlite.prepare(sqlText);
      this.statements.set(sqlText, st);
    }
    return st;
  }

  /** Persists the user's message and its job in one transaction (invariant 1: answer only after this commit). */
  accept(input: AcceptInput): Accepted {
    return this.commits.immediate(() => {
      this.checkAccept(input, input.maxQueued === undefined ? 0 : this.queuedCount());
      return this.insertAccepted(input);
    });
  }

  /**
   * Group commit: persists many messages in one transaction, so that requests arriving together share one fsync.
   * Each input is checked on its own (a full queue or a missing task refuses that input alone, leaving nothing of
   * it behind); a failure of the write itself (a full disk) refuses all of them, and nothing is committed.
   * Answers, in input order, what each got — only after the commit.
   */
  acceptMany(inputs: readonly AcceptInput[]): AcceptResult[] {
    return this.commits.immediate(() => {
      // The queue's depth is counted once for the group, then kept up as its messages are accepted.
      let queued: number | null = null;
      return inputs.map((input): AcceptResult => {
        try {
          queued ??= input.maxQueued === undefined ? null : this.queuedCount();
          this.checkAccept(input, queued ?? 0);
        } catch (error) {
          if (error instanceof LimitError || error instanceof NotFoundError) return { ok: false, error };
          throw error;
        }
        const value = this.insertAccepted(input);
        if (queued !== null) queued += 1;
        return { ok: true, value };
      });
    });
  }

  private queuedCount(): number {
    return (this.cached(`SELECT count(*) AS n FROM jobs WHERE state = 'queued'`).get() as { n: number }).n;
  }

  /**
   * Refuses an input that the queue cannot take (depth limit, against `n` jobs queued now) or that names a task
   * that does not exist.
   */
  private checkAccept(input: AcceptInput, n: number): void {
    if (input.maxQueued !== undefined) {
      if (n >= input.maxQueued) {
        throw new LimitError(
          'queue_full',
          `the queue is full: ${n} jobs are waiting (queue.max_depth = ${input.maxQueued}); retry once some have run, cancel queued jobs, or raise queue.max_depth`,
        );
      }
    }
    if (input.taskId !== null) {
      const t = this.db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, input.taskId)).get();
      if (!t) throw new NotFoundError('task', input.taskId);
    }
  }

  private insertAccepted(input: AcceptInput): Accepted {
    const jobId = newId('j');
    const message: MessageRow = {
      id: newId('m'),
      taskId: input.taskId,
      role: 'user',
      content: input.content,
      jobId,
      channelId: input.channelId,
      userId: input.userId,
      sessionId: input.sessionId,
      createdAt: input.now,
    };
    this.hot.insertMessage(message);
    const job = this.newJobRow({
      id: jobId,
      messageId: message.id,
      taskId: input.taskId,
      requestedTaskId: input.taskId,
      lane: input.lane,
      maxAttempts: input.maxAttempts,
      timeoutS: input.timeoutS,
      channelId: input.channelId,
      userId: input.userId,
      sessionId: input.sessionId,
      retryOf: null,
      notify: input.notify ?? false,
      routeHint: input.routeHint ?? null,
      now: input.now,
    });
    this.hot.insertJob(job);
    if (input.cursor) this.channels.setCursor(input.cursor.channel, input.cursor.value, input.now);
    if (input.ref) this.channels.addRef({ channel: input.channelId, ...input.ref, jobId, now: input.now });
    return { message, job };
  }

  private newJobRow(p: {
    id: string;
    messageId: string;
    taskId: string | null;
    requestedTaskId: string | null;
    lane: Lane;
    maxAttempts: number;
    timeoutS: number;
    channelId: string;
    userId: string;
    sessionId: string | null;
    retryOf: string | null;
    notify: boolean;
    routeHint: 'new' | null;
    now: number;
  }): JobRow {
    return {
      id: p.id,
      messageId: p.messageId,
      taskId: p.taskId,
      requestedTaskId: p.requestedTaskId,
      lane: p.lane,
      state: 'queued',
      stage: null,
      attempt: 0,
      maxAttempts: p.maxAttempts,
      timeoutS: p.timeoutS,
      nextRunAt: p.now,
      cancelRequested: false,
      errorClass: null,
      errorMessage: null,
      stderrTail: null,
      replyMessageId: null,
      retryOf: p.retryOf,
      channelId: p.channelId,
      userId: p.userId,
      sessionId: p.sessionId,
      usageJson: null,
      denialsJson: null,
      memoryJson: null,
      routeHint: p.routeHint,
      notify: p.notify,
      notifiedAt: null,
      createdAt: p.now,
      updatedAt: p.now,
      startedAt: null,
      repliedAt: null,
      finishedAt: null,
      queueWaitMs: null,
      routeMs: null,
      executeMs: null,
      closeMs: null,
      totalMs: null,
    };
  }

  get(id: string): JobRow | undefined {
    return this.hot.job(id);
  }

  mustGet(id: string): JobRow {
    const j = this.get(id);
    if (!j) throw new NotFoundError('job', id);
    return j;
  }

  list(filter: JobFilter = {}): JobRow[] {
    const conds: SQL[] = [];
    if (filter.state) conds.push(eq(jobs.state, filter.state));
    if (filter.taskId) conds.push(eq(jobs.taskId, filter.taskId));
    return this.db
      .select()
      .from(jobs)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(jobs.id))
      .limit(Math.min(Math.max(filter.limit ?? 50, 1), 1000))
      .all();
  }

  message(id: string): MessageRow | undefined {
    return this.hot.message(id);
  }

  /**
   * Claims the oldest runnable job of a lane. A job with a task waits for every earlier job of that task
   * (invariant 2: one at a time, arrival order); a job still to be routed waits for every earlier unrouted job of
   * the same user (so two messages cannot both start the same new task).
   *
   * `horizonMs` is the longest delay alter0 ever schedules (the backoff's maximum): a job due further ahead than
   * that was scheduled by a clock that has since stepped back, and runs now instead of stalling the queue.
   */
  claimNext(lane: Lane, now: number, horizonMs = Number.MAX_SAFE_INTEGER): JobRow | null {
    // Relaxed (no fsync): a claim lost to a power cut leaves the job queued, which is what recovery makes of it.
    return this.commits.relaxed(() => {
      const row = this.cached(
        `SELECT j.id FROM jobs j
           WHERE j.state = 'queued' AND j.lane = ? AND NOT (j.next_run_at > ? AND j.next_run_at <= ?)
             AND CASE WHEN j.task_id IS NOT NULL THEN NOT EXISTS (
                   SELECT 1 FROM jobs o WHERE o.task_id = j.task_id AND o.id <> j.id
                     AND (o.state = 'running' OR (o.state = 'queued' AND o.id < j.id)))
                 ELSE NOT EXISTS (
                   SELECT 1 FROM jobs o WHERE o.task_id IS NULL AND o.user_id = j.user_id AND o.id <> j.id
                     AND (o.state = 'running' OR (o.state = 'queued' AND o.id < j.id)))
                 END
           ORDER BY j.id LIMIT 1`,
      ).get(lane, now, Math.min(Number.MAX_SAFE_INTEGER, now + horizonMs)) as { id: string } | undefined;
      if (!row) return null;
      const job = this.mustGet(row.id);
      const first = job.startedAt === null;
      this.db
        .update(jobs)
        .set({
          state: 'running',
          stage: job.taskId === null ? 'route' : null,
          attempt: job.attempt + 1,
          startedAt: first ? now : job.startedAt,
          queueWaitMs: first ? now - job.createdAt : job.queueWaitMs,
          updatedAt: now,
        })
        .where(eq(jobs.id, job.id))
        .run();
      return this.mustGet(job.id);
    });
  }

  /** Earliest time a queued job of this lane becomes runnable (for the worker's sleep), or null if none. */
  nextWake(lane: Lane): number | null {
    const r = this.cached(`SELECT min(next_run_at) AS t FROM jobs WHERE state = 'queued' AND lane = ?`).get(lane) as {
      t: number | null;
    };
    return r.t;
  }

  /**
   * Runs `fn` only if the fence still holds; returns false (and writes nothing) otherwise. `durable: false` for a
   * running job's progress markers (see `Commits.relaxed`).
   */
  private whileFenced(f: Fence, fn: () => void, durable = true): boolean {
    const write = (): boolean => {
      if (!this.hot.fenced(f)) return false;
      fn();
      return true;
    };
    return durable ? this.commits.immediate(write) : this.commits.relaxed(write);
  }

  isCurrent(f: Fence): boolean {
    return this.hot.fenced(f) !== undefined;
  }

  /** A progress marker: written without an fsync (see `Commits.relaxed`). */
  setStage(f: Fence, stage: Stage, now: number): boolean {
    return this.whileFenced(
      f,
      () => {
        this.cached(`UPDATE jobs SET stage = ?, updated_at = ? WHERE id = ?`).run(stage, now, f.jobId);
      },
      false,
    );
  }

  /** A progress marker: written without an fsync (see `Commits.relaxed`); the next durable commit carries it to disk. */
  recordTiming(f: Fence, field: TimingField, ms: number, now: number): boolean {
    return this.whileFenced(
      f,
      () => {
        this.cached(`UPDATE jobs SET ${jobs[field].name} = ?, updated_at = ? WHERE id = ?`).run(
          Math.round(ms),
          now,
          f.jobId,
        );
      },
      false,
    );
  }

  /** Attaches a routed job (and its user message) to its task. */
  assignTask(f: Fence, taskId: string, now: number): boolean {
    return this.whileFenced(f, () => {
      const job = this.mustGet(f.jobId);
      this.db.update(jobs).set({ taskId, updatedAt: now }).where(eq(jobs.id, f.jobId)).run();
      this.db.update(messages).set({ taskId }).where(eq(messages.id, job.messageId)).run();
    });
  }

  /**
   * True when an earlier job of the same task is still ahead of this one (running, or queued before it).
   * A freshly routed job in that case goes back to the queue and keeps its place.
   */
  taskBusyFor(jobId: string, taskId: string): boolean {
    const r = this.cached(
      `SELECT 1 FROM jobs o WHERE o.task_id = ? AND o.id <> ?
         AND (o.state = 'running' OR (o.state = 'queued' AND o.id < ?)) LIMIT 1`,
    ).get(taskId, jobId, jobId);
    return r !== undefined;
  }

  /**
   * Puts a running job back in the queue without counting the attempt (routed but its task is busy; or shutdown).
   * An answered job is not re-queued: it is complete (the one rule, see `settleAnswered`).
   */
  yieldBack(f: Fence, now: number, reason: string | null): Transition {
    return this.transition(f, now, () => {
      this.db
        .update(jobs)
        .set({
          state: 'queued',
          stage: null,
          attempt: f.attempt - 1,
          nextRunAt: now,
          updatedAt: now,
          ...(reason ? { errorMessage: reason } : {}),
        })
        .where(eq(jobs.id, f.jobId))
        .run();
      return 'queued';
    });
  }

  /**
   * The one rule of exactly-once (invariant 9, docs/architecture.md): a job whose reply is stored has
   * answered. Every fenced transition of a running job goes through here; for an answered job it writes
   * `succeeded` instead of what was asked (a retry, a re-queue, a failure or a cancel), so nothing can execute
   * the job again. Returns the state written, or null when the fence no longer held.
   */
  private transition(f: Fence, now: number, write: () => JobState): Transition {
    return this.commits.immediate(() => {
      const job = this.hot.fenced(f);
      if (!job) return null;
      if (job.reply !== null) {
        this.settleAnswered(f.jobId, job.createdAt, now);
        return 'succeeded';
      }
      return write();
    });
  }

  private settleAnswered(jobId: string, createdAt: number, now: number): void {
    this.db
      .update(jobs)
      .set({
        state: 'succeeded',
        stage: null,
        errorClass: null,
        errorMessage: null,
        finishedAt: now,
        totalMs: now - createdAt,
        updatedAt: now,
      })
      .where(eq(jobs.id, jobId))
      .run();
  }

  /**
   * Stores the agent's reply: the assistant message, the task's session id and summary, and the job's reply
   * pointer, in one transaction. Fenced: a late reply from an older attempt is dropped. A job whose cancel was
   * requested before this commit stores nothing (null): it ends canceled, never canceled *and* answered.
   * `nextStage` ('close' when a closer follows) is set in the same commit, so whoever is woken by the reply
   * already reads the stage the job is in.
   */
  storeReply(
    f: Fence,
    p: {
      taskId: string;
      content: string;
      sessionId: string | null;
      summary: string;
      usageJson: string | null;
      /** The run's refused tool uses, JSON (null: none). */
      denialsJson?: string | null;
      executeMs: number;
      channelId: string;
      userId: string;
      nextStage?: Stage;
      now: number;
    },
  ): MessageRow | null {
    let stored: MessageRow | null = null;
    this.whileFenced(f, () => {
      if (this.cancelRequested(f.jobId)) return;
      const msg: MessageRow = {
        id: newId('m'),
        taskId: p.taskId,
        role: 'assistant',
        content: p.content,
        jobId: f.jobId,
        channelId: p.channelId,
        userId: p.userId,
        sessionId: null,
        createdAt: p.now,
      };
      this.db.insert(messages).values(msg).run();
      this.db
        .update(jobs)
        .set({
          replyMessageId: msg.id,
          repliedAt: p.now,
          executeMs: Math.round(p.executeMs),
          usageJson: p.usageJson,
          denialsJson: p.denialsJson ?? null,
          errorClass: null,
          errorMessage: null,
          ...(p.nextStage ? { stage: p.nextStage } : {}),
          updatedAt: p.now,
        })
        .where(eq(jobs.id, f.jobId))
        .run();
      this.db
        .update(tasks)
        .set({ sessionId: p.sessionId, summary: p.summary, updatedAt: p.now })
        .where(eq(tasks.id, p.taskId))
        .run();
      stored = msg;
    });
    return stored;
  }

  /**
   * Terminal transition of a running job. Fenced. An answered job asked to fail or cancel ends `succeeded`
   * (its reply stands; a cancel after the reply only means "don't close").
   */
  finish(
    f: Fence,
    p: {
      state: 'succeeded' | 'failed' | 'canceled';
      now: number;
      errorClass?: ErrorClass | null;
      errorMessage?: string | null;
      stderrTail?: string | null;
      /** A system message stored in the task saying what failed and how to retry. */
      systemNote?: string | null;
    },
  ): Transition {
    return this.transition(f, p.now, () => {
      const job = this.mustGet(f.jobId);
      this.db
        .update(jobs)
        .set({
          state: p.state,
          stage: null,
          finishedAt: p.now,
          totalMs: p.now - job.createdAt,
          updatedAt: p.now,
          ...(p.state === 'succeeded'
            ? {}
            : {
                errorClass: p.errorClass ?? null,
                errorMessage: p.errorMessage ?? null,
                stderrTail: p.stderrTail ?? null,
              }),
        })
        .where(eq(jobs.id, f.jobId))
        .run();
      if (p.systemNote && job.taskId) {
        this.db
          .insert(messages)
          .values({
            id: newId('m'),
            taskId: job.taskId,
            role: 'system',
            content: p.systemNote,
            jobId: job.id,
            channelId: job.channelId,
            userId: job.userId,
            sessionId: null,
            createdAt: p.now,
          })
          .run();
      }
      return p.state;
    });
  }

  /** A retryable failure with attempts left: back to the queue after the backoff. Fenced; an answered job ends `succeeded`. */
  scheduleRetry(
    f: Fence,
    p: { nextRunAt: number; now: number; errorClass: ErrorClass; errorMessage: string; stderrTail: string | null },
  ): Transition {
    return this.transition(f, p.now, () => {
      this.db
        .update(jobs)
        .set({
          state: 'queued',
          stage: null,
          nextRunAt: p.nextRunAt,
          errorClass: p.errorClass,
          errorMessage: p.errorMessage,
          stderrTail: p.stderrTail,
          updatedAt: p.now,
        })
        .where(eq(jobs.id, f.jobId))
        .run();
      return 'queued';
    });
  }

  /**
   * Cancel: a queued job is canceled at once; a running one is marked so its worker aborts it and records the
   * outcome. Terminal jobs → ConflictError.
   */
  requestCancel(id: string, now: number): { job: JobRow; immediate: boolean } {
    return this.commits.immediate(() => {
      const job = this.mustGet(id);
      if (job.state === 'queued') {
        this.db
          .update(jobs)
          .set({
            state: 'canceled',
            stage: null,
            errorClass: 'canceled',
            errorMessage: 'canceled by the owner before it ran',
            finishedAt: now,
            totalMs: now - job.createdAt,
            updatedAt: now,
          })
          .where(eq(jobs.id, id))
          .run();
        return { job: this.mustGet(id), immediate: true };
      }
      if (job.state === 'running') {
        this.db.update(jobs).set({ cancelRequested: true, updatedAt: now }).where(eq(jobs.id, id)).run();
        return { job: this.mustGet(id), immediate: false };
      }
      throw new ConflictError(`job ${id} is already ${job.state}; only queued or running jobs can be canceled`);
    });
  }

  /**
   * Retry of a failed or canceled job: a new job for the same message, in the same task. Idempotent: a job is
   * retried once; asking again answers with that first retry. A job that answered is never retried.
   */
  retry(id: string, now: number, opts: { maxAttempts?: number } = {}): RetryResult {
    return this.commits.immediate(() => {
      const job = this.mustGet(id);
      if (job.replyMessageId !== null) {
        throw new ConflictError(
          `job ${id} already answered (reply ${job.replyMessageId}); a retry would run the agent's turn again. Send a new message to continue its task`,
        );
      }
      if (job.state !== 'failed' && job.state !== 'canceled') {
        throw new ConflictError(`job ${id} is ${job.state}; only failed or canceled jobs can be retried`);
      }
      const earlier = this.db.select().from(jobs).where(eq(jobs.retryOf, id)).orderBy(jobs.id).limit(1).get();
      if (earlier) return { job: earlier, created: false };
      const row = this.newJobRow({
        id: newId('j'),
        messageId: job.messageId,
        taskId: job.taskId,
        requestedTaskId: job.requestedTaskId,
        lane: job.lane,
        maxAttempts: opts.maxAttempts ?? job.maxAttempts,
        timeoutS: job.timeoutS,
        channelId: job.channelId,
        userId: job.userId,
        sessionId: job.sessionId,
        retryOf: job.id,
        // A retry is announced like the job it retries; it goes to the task that job had.
        notify: job.notify,
        routeHint: null,
        now,
      });
      this.db.insert(jobs).values(row).run();
      return { job: row, created: true };
    });
  }

  /**
   * Invariant 1: a `running` job that no worker holds is an orphan — at boot, every running job (the previous
   * process died with them); while serving, the pool's watchdog passes the jobs its workers hold, and the rest
   * (say an outcome write failed and the pool gave up on it) are handed back here. One that already stored its
   * reply is complete; one whose cancel was requested is canceled; others are re-queued with the attempt counted,
   * or failed as interrupted when out of attempts.
   */
  recoverOrphans(now: number, opts: { held?: ReadonlySet<string>; why?: string } = {}): RecoveryReport {
    const why = opts.why ?? 'the service stopped';
    return this.commits.immediate(() => {
      const report: RecoveryReport = { requeued: [], failed: [], completed: [] };
      const orphans = this.db
        .select()
        .from(jobs)
        .where(eq(jobs.state, 'running'))
        .all()
        .filter((j) => !opts.held?.has(j.id));
      const update = (id: string, patch: Partial<JobRow>): void => {
        this.db
          .update(jobs)
          .set({ stage: null, updatedAt: now, ...patch })
          .where(eq(jobs.id, id))
          .run();
      };
      const ended = (j: JobRow) => ({ finishedAt: now, totalMs: now - j.createdAt });
      for (const j of orphans) {
        if (j.replyMessageId !== null) {
          this.settleAnswered(j.id, j.createdAt, now);
          report.completed.push(j.id);
        } else if (j.cancelRequested) {
          update(j.id, {
            state: 'canceled',
            errorClass: 'canceled',
            errorMessage: `canceled by the owner (${why} while canceling)`,
            ...ended(j),
          });
          report.failed.push(j.id);
        } else if (j.attempt < j.maxAttempts) {
          update(j.id, {
            state: 'queued',
            nextRunAt: now,
            errorClass: 'internal',
            errorMessage: `interrupted: ${why} during attempt ${j.attempt} of ${j.maxAttempts}; re-queued`,
          });
          report.requeued.push(j.id);
        } else {
          update(j.id, {
            state: 'failed',
            errorClass: 'internal',
            errorMessage: `interrupted: ${why} during the last attempt (${j.attempt} of ${j.maxAttempts}); retry it with \`alter0 retry ${j.id}\``,
            ...ended(j),
          });
          report.failed.push(j.id);
        }
      }
      return report;
    });
  }

  cancelRequested(id: string): boolean {
    return this.db.select({ c: jobs.cancelRequested }).from(jobs).where(eq(jobs.id, id)).get()?.c === true;
  }

  stats(now: number): {
    depth: Record<Lane, number>;
    oldestQueuedAgeMs: Record<Lane, number | null>;
    running: number;
    byState: Record<JobState, number>;
  } {
    const depth: Record<Lane, number> = { interactive: 0, background: 0 };
    const oldest: Record<Lane, number | null> = { interactive: null, background: null };
    for (const r of this.sqlite
      .prepare(`SELECT lane, count(*) AS n, min(created_at) AS oldest FROM jobs WHERE state = 'queued' GROUP BY lane`)
      .all() as { lane: Lane; n: number; oldest: number }[]) {
      depth[r.lane] = r.n;
      oldest[r.lane] = now - r.oldest;
    }
    const byState: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0 };
    for (const r of this.sqlite.prepare(`SELECT state, count(*) AS n FROM jobs GROUP BY state`).all() as {
      state: JobState;
      n: number;
    }[]) {
      byState[r.state] = r.n;
    }
    return { depth, oldestQueuedAgeMs: oldest, running: byState.running, byState };
  }

  countMessages(): number {
    return (
      this.db
        .select({ n: sql<number>`count(*)` })
        .from(messages)
        .get()?.n ?? 0
    );
  }

  /** Failed jobs since `since`, grouped by error class: count, latest time, latest message and job. */
  failureSummary(
    since: number,
  ): { errorClass: ErrorClass; count: number; lastAt: number; lastMessage: string; lastJobId: string }[] {
    return this.sqlite
      .prepare(
        `SELECT error_class AS errorClass, count(*) AS count, max(finished_at) AS lastAt,
                (SELECT error_message FROM jobs j2 WHERE j2.state = 'failed' AND j2.error_class = j.error_class ORDER BY finished_at DESC LIMIT 1) AS lastMessage,
                (SELECT id FROM jobs j3 WHERE j3.state = 'failed' AND j3.error_class = j.error_class ORDER BY finished_at DESC LIMIT 1) AS lastJobId
         FROM jobs j WHERE state = 'failed' AND finished_at >= ? GROUP BY error_class ORDER BY count DESC`,
      )
      .all(since) as {
      errorClass: ErrorClass;
      count: number;
      lastAt: number;
      lastMessage: string;
      lastJobId: string;
    }[];
  }
}
