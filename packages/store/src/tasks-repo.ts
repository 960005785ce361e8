import { and, desc, eq, gte, like, or, sql } from 'drizzle-orm';
import type BetterSqlite3 from 'better-sqlite3';
import type { ClosedBy, CloseSource, ExecutorKind, MessageRole, TaskState } from '@alter0/core';
import { ConflictError, NotFoundError, newId } from '@alter0/core';
import type { Drizzle } from './db.js';
import { closeDecisions, messages, tasks } from './schema.js';
import type { CloseDecisionRow, MessageRow, TaskRow } from './schema.js';
import type { Commits } from './tx.js';
import { writeTaskSummary } from './memory-repo.js';

export interface NewTask {
  title: string;
  executor: ExecutorKind;
  workspaceRoot: string;
  userId: string;
  now: number;
}

/** The fields of one close/keep-open/reopen decision; the same record for auto, manual and stale (invariant 5). */
export interface CloseDecisionInput {
  taskId: string;
  jobId: string | null;
  source: CloseSource;
  action: 'close' | 'keep_open' | 'reopen';
  confidence: number | null;
  reason: string;
  fallback?: string | null;
  rejectCode?: string | null;
  templateId?: string | null;
  templateVersion?: string | null;
  templateHash?: string | null;
  promptChars?: number;
  modelCalled: boolean;
  latencyMs: number;
  rawOutput?: string | null;
  errorClass?: CloseDecisionRow['errorClass'];
  now: number;
}

export interface TaskFilter {
  state?: TaskState | 'all';
  q?: string;
  limit?: number;
}

/** One candidate as `rankTexts` reads it. */
export interface RankTextRow {
  id: string;
  title: string;
  summary: string;
  updatedAtMs: number;
  closed: boolean;
  /** Contents of its last messages, newest first, each cut. */
  recent: string[];
}

interface RankTextSqlRow {
  id: string;
  title: string;
  summary: string;
  updated_at: number;
  state: string;
  recent: string;
}

// The open tasks, then the closed ones the lookback covers (see closedSince for why updated_at bounds them), each
// with its last messages cut in SQL, so long agent replies never reach JavaScript whole.
const RANK_TEXTS_SQL = `
WITH pool AS (
  SELECT * FROM (SELECT id, title, summary, updated_at, state FROM tasks WHERE state = 'open'
                 ORDER BY updated_at DESC LIMIT 5000)
  UNION ALL
  SELECT * FROM (SELECT id, title, summary, updated_at, state FROM tasks
                 WHERE state = 'closed' AND updated_at >= @since AND closed_at >= @since
                 ORDER BY updated_at DESC LIMIT 5000)
)
SELECT p.id, p.title, p.summary, p.updated_at, p.state,
  (SELECT json_group_array(c) FROM (SELECT substr(m.content, 1, @chars) AS c FROM messages m
     WHERE m.task_id = p.id ORDER BY m.created_at DESC, m.id DESC LIMIT @recent)) AS recent
FROM pool p`;

export class TasksRepo {
  private readonly recentStmt;
  private rankTextsStmt: BetterSqlite3.Statement | undefined;
  /** Read on every job's way (route, execute, close): prepared once (see hot.ts). */
  private readonly byId;

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly db: Drizzle,
    private readonly commits: Commits,
  ) {
    this.byId = db
      .select()
      .from(tasks)
      .where(eq(tasks.id, sql.placeholder('id')))
      .prepare();
    this.recentStmt = db
      .select()
      .from(messages)
      .where(eq(messages.taskId, sql.placeholder('taskId')))
      .orderBy(desc(messages.createdAt), desc(messages.id))
      .limit(sql.placeholder('limit'))
      .prepare();
  }

  create(input: NewTask): TaskRow {
    const id = newId('t');
    const row: TaskRow = {
      id,
      title: input.title,
      summary: '',
      state: 'open',
      executor: input.executor,
      sessionId: null,
      workspace: `${input.workspaceRoot}/${id}`,
      userId: input.userId,
      createdAt: input.now,
      updatedAt: input.now,
      closedAt: null,
      closedBy: null,
      closeReason: null,
      closeConfidence: null,
    };
    this.db.insert(tasks).values(row).run();
    return row;
  }

  get(id: string): TaskRow | undefined {
    return this.byId.get({ id });
  }

  mustGet(id: string): TaskRow {
    const t = this.get(id);
    if (!t) throw new NotFoundError('task', id);
    return t;
  }

  list(filter: TaskFilter = {}): TaskRow[] {
    const conds = [];
    if (filter.state && filter.state !== 'all') conds.push(eq(tasks.state, filter.state));
    if (filter.q) {
      const pat = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      conds.push(or(like(tasks.title, pat), like(tasks.summary, pat), eq(tasks.id, filter.q)));
    }
    return this.db
      .select()
      .from(tasks)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(tasks.updatedAt), desc(tasks.id))
      .limit(Math.min(Math.max(filter.limit ?? 100, 1), 1000))
      .all();
  }

  /** Open tasks, most recently updated first: the router's candidate pool. */
  open(limit = 5000): TaskRow[] {
    return this.db
      .select()
      .from(tasks)
      .where(eq(tasks.state, 'open'))
      .orderBy(desc(tasks.updatedAt))
      .limit(limit)
      .all();
  }

  /**
   * Tasks closed at or after `since` (ms), most recently updated first: the router's recently closed candidates.
   * Served by tasks_state_updated: closing a task sets its updated_at to its closed_at and nothing moves it back, so
   * the index's range on updated_at holds every such task and closed_at only sorts out the ones touched since.
   */
  closedSince(since: number, limit = 5000): TaskRow[] {
    return this.db
      .select()
      .from(tasks)
      .where(and(eq(tasks.state, 'closed'), gte(tasks.updatedAt, since), gte(tasks.closedAt, since)))
      .orderBy(desc(tasks.updatedAt))
      .limit(limit)
      .all();
  }

  /** How many tasks `closedSince(since)` would return without its limit. */
  countClosedSince(since: number): number {
    const row = this.db
      .select({ n: sql<number>`count(*)` })
      .from(tasks)
      .where(and(eq(tasks.state, 'closed'), gte(tasks.updatedAt, since), gte(tasks.closedAt, since)))
      .get();
    return row?.n ?? 0;
  }

  /**
   * The candidate pool as text to rank, one task at a time (one statement, iterated): every open task and every
   * task closed since `closedSince` (ms; null: none; the same 5,000 most recent as `closedSince`), each with the
   * contents of its last `recent` messages cut at `charsEach` characters. Nothing is held for the caller: ranking
   * thousands of tasks keeps in memory only what it takes from each. The connection is busy until the iteration
   * ends (or is returned early).
   */
  *rankTexts(q: { closedSince: number | null; recent: number; charsEach: number }): Generator<RankTextRow> {
    this.rankTextsStmt ??= this.sqlite.prepare(RANK_TEXTS_SQL);
    const rows = this.rankTextsStmt.iterate({
      since: q.closedSince ?? Number.MAX_SAFE_INTEGER,
      recent: q.recent,
      chars: q.charsEach,
    }) as IterableIterator<RankTextSqlRow>;
    for (const r of rows)
      yield {
        id: r.id,
        title: r.title,
        summary: r.summary,
        updatedAtMs: r.updated_at,
        closed: r.state === 'closed',
        recent: JSON.parse(r.recent) as string[],
      };
  }

  /**
   * The last `perTask` messages of each task, oldest first. One indexed `LIMIT` lookup per task
   * (messages_task_created), so the cost follows the number of tasks, not the length of their histories.
   */
  recentMessages(taskIds: string[], perTask: number): Map<string, MessageRow[]> {
    const out = new Map<string, MessageRow[]>();
    for (const id of taskIds) {
      const rows = this.recentStmt.all({ taskId: id, limit: perTask });
      if (rows.length > 0) out.set(id, rows.reverse());
    }
    return out;
  }

  messages(taskId: string, limit = 500): MessageRow[] {
    const rows = this.db
      .select()
      .from(messages)
      .where(eq(messages.taskId, taskId))
      .orderBy(desc(messages.createdAt), desc(messages.id))
      .limit(limit)
      .all();
    return rows.reverse();
  }

  addMessage(input: {
    taskId: string | null;
    role: MessageRole;
    content: string;
    jobId: string | null;
    channelId: string;
    userId: string;
    sessionId: string | null;
    now: number;
  }): MessageRow {
    const row: MessageRow = {
      id: newId('m'),
      taskId: input.taskId,
      role: input.role,
      content: input.content,
      jobId: input.jobId,
      channelId: input.channelId,
      userId: input.userId,
      sessionId: input.sessionId,
      createdAt: input.now,
    };
    this.db.insert(messages).values(row).run();
    return row;
  }

  touch(taskId: string, now: number, patch: { sessionId?: string | null; summary?: string } = {}): void {
    this.db
      .update(tasks)
      .set({ updatedAt: now, ...patch })
      .where(eq(tasks.id, taskId))
      .run();
  }

  /**
   * The one close rule (invariant 5): auto, manual and stale closes make the same state change and the same
   * decision record. A keep_open decision only records. Reopen records too.
   *
   * A close also keeps the task's summary as memory (kind task_summary; rewritten by a close after a reopen,
   * which leaves it in place).
   *
   * A task never closes under work: while another job of it is queued or running (the owner asked for more), a
   * manual close is refused and an automatic one is recorded as keep_open with the reason. So is an automatic
   * close judged for a job whose cancel was requested after its reply (cancel then means "don't close").
   */
  applyCloseDecision(input: CloseDecisionInput): { task: TaskRow; decision: CloseDecisionRow } {
    return this.commits.immediate(() => {
      const task = this.mustGet(input.taskId);
      if (input.action === 'close' && task.state === 'closed') {
        throw new ConflictError(`task ${task.id} is already closed; reopen it first if you want to continue it`);
      }
      if (input.action === 'close') {
        const blocker = this.closeBlocker(input.taskId, input.jobId);
        if (blocker !== null && input.source === 'manual') {
          throw new ConflictError(
            `task ${task.id} cannot close: ${blocker}. Cancel that work or wait for it, then close the task`,
          );
        }
        if (blocker !== null)
          input = { ...input, action: 'keep_open', reason: `not closed: ${blocker} (the model said: ${input.reason})` };
      }
      if (input.action === 'reopen' && task.state === 'open') {
        throw new ConflictError(`task ${task.id} is already open`);
      }
      const decision: CloseDecisionRow = {
        id: newId('d'),
        taskId: input.taskId,
        jobId: input.jobId,
        source: input.source,
        action: input.action,
        confidence: input.confidence,
        reason: input.reason,
        fallback: input.fallback ?? null,
        rejectCode: input.rejectCode ?? null,
        templateId: input.templateId ?? null,
        templateVersion: input.templateVersion ?? null,
        templateHash: input.templateHash ?? null,
        promptChars: input.promptChars ?? 0,
        modelCalled: input.modelCalled,
        latencyMs: input.latencyMs,
        rawOutput: input.rawOutput ?? null,
        errorClass: input.errorClass ?? null,
        createdAt: input.now,
      };
      this.db.insert(closeDecisions).values(decision).run();
      if (input.action === 'close') {
        const closedBy: ClosedBy = input.source;
        this.db
          .update(tasks)
          .set({
            state: 'closed',
            closedAt: input.now,
            closedBy,
            closeReason: input.reason,
            closeConfidence: input.confidence,
            updatedAt: input.now,
          })
          .where(eq(tasks.id, input.taskId))
          .run();
        // What the task did, kept as memory in the same commit (docs/memory.md, "Summaries of closed tasks").
        writeTaskSummary(this.db, this.mustGet(input.taskId), input.now);
      } else if (input.action === 'reopen') {
        this.db
          .update(tasks)
          .set({
            state: 'open',
            closedAt: null,
            closedBy: null,
            closeReason: null,
            closeConfidence: null,
            updatedAt: input.now,
          })
          .where(eq(tasks.id, input.taskId))
          .run();
      }
      return { task: this.mustGet(input.taskId), decision };
    });
  }

  /** Why the task may not close now (work waiting, or the judged job canceled), or null. */
  private closeBlocker(taskId: string, jobId: string | null): string | null {
    const pending = this.sqlite
      .prepare(
        `SELECT id, state FROM jobs WHERE task_id = ? AND state IN ('queued', 'running') AND id IS NOT ? ORDER BY id LIMIT 1`,
      )
      .get(taskId, jobId) as { id: string; state: string } | undefined;
    if (pending) return `job ${pending.id} of this task is ${pending.state}`;
    if (jobId !== null) {
      const r = this.sqlite.prepare(`SELECT cancel_requested AS c FROM jobs WHERE id = ?`).get(jobId) as
        { c: number } | undefined;
      if (r?.c) return `the owner canceled job ${jobId} after its reply`;
    }
    return null;
  }

  /**
   * A job is about to execute in this task: if the task is closed, reopen it with a recorded decision (a message
   * never executes in a closed task without one). Returns true when it reopened the task.
   */
  reopenForJob(taskId: string, job: { id: string; messageId: string }, now: number): boolean {
    return this.commits.immediate(() => {
      if (this.mustGet(taskId).state !== 'closed') return false;
      this.applyCloseDecision({
        taskId,
        jobId: job.id,
        source: 'manual',
        action: 'reopen',
        confidence: 1,
        reason: `reopened: message ${job.messageId} (job ${job.id}) was waiting for this task`,
        modelCalled: false,
        latencyMs: 0,
        now,
      });
      return true;
    });
  }

  closeDecisions(taskId: string): CloseDecisionRow[] {
    return this.db
      .select()
      .from(closeDecisions)
      .where(eq(closeDecisions.taskId, taskId))
      .orderBy(closeDecisions.createdAt, closeDecisions.id)
      .all();
  }

  countByState(): Record<TaskState, number> {
    const rows = this.db
      .select({ state: tasks.state, n: sql<number>`count(*)` })
      .from(tasks)
      .groupBy(tasks.state)
      .all();
    const out: Record<TaskState, number> = { open: 0, closed: 0 };
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  /** Open tasks idle since before `before` with no queued or running job: the stale sweep's work. */
  staleOpen(before: number, limit: number): TaskRow[] {
    return this.db
      .select()
      .from(tasks)
      .where(
        and(
          eq(tasks.state, 'open'),
          sql`${tasks.updatedAt} < ${before}`,
          sql`NOT EXISTS (SELECT 1 FROM jobs j WHERE j.task_id = ${tasks.id} AND j.state IN ('queued', 'running'))`,
        ),
      )
      .orderBy(tasks.updatedAt)
      .limit(limit)
      .all();
  }
}
