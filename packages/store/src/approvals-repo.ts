import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { ConflictError, NotFoundError, newId } from '@alter0/core';
import type { Drizzle } from './db.js';
import { approvals, taskAllowRules } from './schema.js';
import type { ApprovalRow, ApprovalState } from './schema.js';
import type { Commits } from './tx.js';

export interface NewApproval {
  jobId: string;
  attempt: number;
  taskId: string | null;
  agent: string;
  tool: string;
  /** Already redacted. */
  inputJson: string;
  now: number;
  expiresAt: number;
  /** Decided at once (by policy): the state and why; absent: pending. */
  decided?: { state: 'allowed' | 'denied'; reason: string; by: string };
}

export interface Decision {
  state: 'allowed' | 'denied' | 'expired';
  reason: string | null;
  by: string;
  now: number;
  /** Also allow `rule` for the rest of the task (only with allowed). */
  alwaysRule?: string | null;
}

/** Approvals of tool use and the per-task rules the owner granted. Every decision is one durable commit. */
export class ApprovalsRepo {
  constructor(
    private readonly db: Drizzle,
    private readonly commits: Commits,
  ) {}

  create(a: NewApproval): ApprovalRow {
    const row: ApprovalRow = {
      id: newId('a'),
      jobId: a.jobId,
      attempt: a.attempt,
      taskId: a.taskId,
      agent: a.agent,
      tool: a.tool,
      inputJson: a.inputJson,
      state: a.decided?.state ?? 'pending',
      reason: a.decided?.reason ?? null,
      decidedBy: a.decided?.by ?? null,
      always: false,
      createdAt: a.now,
      expiresAt: a.expiresAt,
      decidedAt: a.decided ? a.now : null,
    };
    this.commits.immediate(() => this.db.insert(approvals).values(row).run());
    return row;
  }

  get(id: string): ApprovalRow | undefined {
    return this.db.select().from(approvals).where(eq(approvals.id, id)).get();
  }

  mustGet(id: string): ApprovalRow {
    const a = this.get(id);
    if (!a) throw new NotFoundError('approval', id);
    return a;
  }

  list(filter: { state?: ApprovalState; jobId?: string; taskId?: string; limit?: number } = {}): ApprovalRow[] {
    const conds = [
      filter.state ? eq(approvals.state, filter.state) : undefined,
      filter.jobId ? eq(approvals.jobId, filter.jobId) : undefined,
      filter.taskId ? eq(approvals.taskId, filter.taskId) : undefined,
    ].filter((c) => c !== undefined);
    return this.db
      .select()
      .from(approvals)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(approvals.id))
      .limit(Math.min(Math.max(filter.limit ?? 100, 1), 1000))
      .all();
  }

  /** Decides a pending approval; one already decided is a ConflictError naming how it was decided. */
  decide(id: string, d: Decision): ApprovalRow {
    return this.commits.immediate(() => {
      const a = this.mustGet(id);
      if (a.state !== 'pending') {
        throw new ConflictError(
          `approval ${id} was already ${a.state}${a.decidedBy ? ` (${a.decidedBy})` : ''}; it cannot be decided again`,
        );
      }
      const always = d.state === 'allowed' && Boolean(d.alwaysRule) && a.taskId !== null;
      this.db
        .update(approvals)
        .set({ state: d.state, reason: d.reason, decidedBy: d.by, decidedAt: d.now, always })
        .where(eq(approvals.id, id))
        .run();
      if (always && a.taskId !== null && d.alwaysRule) {
        this.db
          .insert(taskAllowRules)
          .values({ id: newId('a'), taskId: a.taskId, rule: d.alwaysRule, approvalId: id, createdAt: d.now })
          .onConflictDoNothing()
          .run();
      }
      return this.mustGet(id);
    });
  }

  /** Pending approvals of these jobs (all pending ones when `jobIds` is null). */
  pendingOf(jobIds: readonly string[] | null): ApprovalRow[] {
    return this.db
      .select()
      .from(approvals)
      .where(
        jobIds === null
          ? eq(approvals.state, 'pending')
          : and(eq(approvals.state, 'pending'), inArray(approvals.jobId, [...jobIds])),
      )
      .all();
  }

  taskRules(taskId: string): string[] {
    return this.db
      .select({ rule: taskAllowRules.rule })
      .from(taskAllowRules)
      .where(eq(taskAllowRules.taskId, taskId))
      .orderBy(asc(taskAllowRules.createdAt))
      .all()
      .map((r) => r.rule);
  }
}
