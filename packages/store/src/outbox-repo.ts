import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lte, min, or, sql } from 'drizzle-orm';
import { newId } from '@alter0/core';
import type { Drizzle } from './db.js';
import { jobs, outbox } from './schema.js';
import type { JobRow, OutboxRow } from './schema.js';
import type { Commits } from './tx.js';

export interface NoticeInput {
  dedupKey: string;
  channel: string;
  target: string;
  event: string;
  payload: unknown;
}

export interface OutboxSummary {
  pending: number;
  dead: number;
  oldestPendingAt: number | null;
  /** Why the pending notice retried last failed (null when none failed). */
  lastError: string | null;
}

/**
 * The outbox (at-least-once delivery of notices): which ended jobs still have to be announced, the notices
 * queued for them, and each notice's delivery attempts.
 */
export class OutboxRepo {
  constructor(
    private readonly db: Drizzle,
    private readonly commits: Commits,
  ) {}

  /** Jobs nobody waited for whose end (a stored reply, or a failure or cancel) has not been announced yet. */
  toAnnounce(limit = 100): JobRow[] {
    return this.db
      .select()
      .from(jobs)
      .where(
        and(
          eq(jobs.notify, true),
          isNull(jobs.notifiedAt),
          or(isNotNull(jobs.replyMessageId), inArray(jobs.state, ['succeeded', 'failed', 'canceled'])),
        ),
      )
      .orderBy(asc(jobs.updatedAt))
      .limit(limit)
      .all();
  }

  /**
   * Queues a job's notices and marks the job announced, in one durable transaction: after a crash either both are
   * there or neither (the job is then announced again). Returns false when it was announced already.
   */
  announce(jobId: string, notices: readonly NoticeInput[], now: number): boolean {
    return this.commits.immediate(() => {
      const row = this.db.select({ at: jobs.notifiedAt }).from(jobs).where(eq(jobs.id, jobId)).get();
      if (!row || row.at !== null) return false;
      for (const n of notices) {
        this.db
          .insert(outbox)
          .values({
            id: newId('n'),
            dedupKey: n.dedupKey,
            channel: n.channel,
            target: n.target,
            jobId,
            event: n.event,
            payloadJson: JSON.stringify(n.payload),
            state: 'pending',
            nextAttemptAt: now,
            createdAt: now,
          })
          .onConflictDoNothing()
          .run();
      }
      this.db.update(jobs).set({ notifiedAt: now }).where(eq(jobs.id, jobId)).run();
      return true;
    });
  }

  /**
   * A sync caller stopped waiting (its request answered 202): announce the job's end from now on. A job that ended
   * before this commit is announced by the next scan, like any other.
   */
  markNotify(jobId: string): void {
    this.commits.immediate(() => {
      this.db
        .update(jobs)
        .set({ notify: true })
        .where(and(eq(jobs.id, jobId), isNull(jobs.notifiedAt)))
        .run();
    });
  }

  /**
   * Due notices, the first waiting one of each receiver only (ids grow with time: the oldest goes first).
   * `horizonMs`: the longest wait the dispatcher sets; a notice due further ahead than that is due now.
   */
  due(now: number, limit = 50, horizonMs = Number.MAX_SAFE_INTEGER): OutboxRow[] {
    return this.db
      .select()
      .from(outbox)
      .where(
        and(
          eq(outbox.state, 'pending'),
          // Due further ahead than the longest wait the dispatcher ever sets: set by a clock that has since stepped
          // back, so due now rather than after the step (the queue's claimNext does the same).
          or(
            lte(outbox.nextAttemptAt, now),
            gt(outbox.nextAttemptAt, Math.min(Number.MAX_SAFE_INTEGER, now + horizonMs)),
          ),
          // Only the first pending notice of each receiver: a later one never overtakes one that is being retried.
          sql`NOT EXISTS (SELECT 1 FROM outbox o WHERE o.state = 'pending' AND o.channel = ${outbox.channel}
                            AND o.target = ${outbox.target} AND o.id < ${outbox.id})`,
        ),
      )
      .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id))
      .limit(limit)
      .all();
  }

  /** When the next pending notice is due, or null when none is pending. */
  nextDueAt(): number | null {
    return (
      this.db
        .select({ at: min(outbox.nextAttemptAt) })
        .from(outbox)
        .where(eq(outbox.state, 'pending'))
        .get()?.at ?? null
    );
  }

  get(id: string): OutboxRow | undefined {
    return this.db.select().from(outbox).where(eq(outbox.id, id)).get();
  }

  /**
   * Delivery bookkeeping is committed without an fsync (`Commits.relaxed`): losing it to a power cut only means a
   * notice is delivered again, which at-least-once allows (the dedup key lets the receiver drop it).
   */
  progressed(id: string, parts: number): void {
    this.commits.relaxed(() => this.db.update(outbox).set({ progress: parts }).where(eq(outbox.id, id)).run());
  }

  sent(id: string, now: number): void {
    this.commits.relaxed(() =>
      this.db
        .update(outbox)
        .set({ state: 'sent', sentAt: now, lastError: null, attempts: sql`${outbox.attempts} + 1` })
        .where(eq(outbox.id, id))
        .run(),
    );
  }

  /** A failed attempt: retried at `nextAttemptAt`, or given up (`dead`) when that is null. */
  failed(id: string, p: { error: string; nextAttemptAt: number | null; now: number }): void {
    this.commits.relaxed(() =>
      this.db
        .update(outbox)
        .set({
          attempts: sql`${outbox.attempts} + 1`,
          lastError: p.error,
          ...(p.nextAttemptAt === null ? { state: 'dead' as const } : { nextAttemptAt: p.nextAttemptAt }),
        })
        .where(eq(outbox.id, id))
        .run(),
    );
  }

  list(filter: { jobId?: string; limit?: number } = {}): OutboxRow[] {
    return this.db
      .select()
      .from(outbox)
      .where(filter.jobId ? eq(outbox.jobId, filter.jobId) : undefined)
      .orderBy(asc(outbox.createdAt), asc(outbox.id))
      .limit(filter.limit ?? 500)
      .all();
  }

  summary(): OutboxSummary {
    const rows = this.db
      .select({ state: outbox.state, n: sql<number>`count(*)`, oldest: min(outbox.createdAt) })
      .from(outbox)
      .where(inArray(outbox.state, ['pending', 'dead']))
      .groupBy(outbox.state)
      .all();
    const of = (s: string) => rows.find((r) => r.state === s);
    const failing = this.db
      .select({ error: outbox.lastError })
      .from(outbox)
      .where(and(eq(outbox.state, 'pending'), isNotNull(outbox.lastError)))
      .orderBy(desc(outbox.nextAttemptAt))
      .limit(1)
      .get();
    return {
      pending: of('pending')?.n ?? 0,
      dead: of('dead')?.n ?? 0,
      oldestPendingAt: of('pending')?.oldest ?? null,
      lastError: failing?.error ?? null,
    };
  }
}
