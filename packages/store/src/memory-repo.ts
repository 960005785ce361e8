import { and, asc, eq, isNull, or } from 'drizzle-orm';
import type BetterSqlite3 from 'better-sqlite3';
import type { ClosedBy } from '@alter0/core';
import { NotFoundError, ValidationError, newId } from '@alter0/core';
import type { Drizzle } from './db.js';
import { jobs, memory, tasks } from './schema.js';
import type { MemoryKind, MemoryRow, TaskRow } from './schema.js';
import type { Commits } from './tx.js';

/** What `list` and `search` narrow to: one task's entries (null: the global ones), one kind. */
export interface MemoryFilter {
  taskId?: string | null;
  kind?: MemoryKind;
}

/** A search's cap: single-user scale, the best matches are what anyone reads. */
const MEMORY_SEARCH_LIMIT = 50;
/** A task summary's length in characters (the first line and the start of the task's rolling summary). */
const TASK_SUMMARY_CHARS = 600;

/** The owner's memory entries: global, or bound to one task. Each change is one durable commit. */
export class MemoryRepo {
  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly db: Drizzle,
    private readonly commits: Commits,
  ) {}

  list(filter: MemoryFilter = {}): MemoryRow[] {
    const where = and(
      filter.taskId === undefined
        ? undefined
        : filter.taskId === null
          ? isNull(memory.taskId)
          : eq(memory.taskId, filter.taskId),
      filter.kind === undefined ? undefined : eq(memory.kind, filter.kind),
    );
    return this.db.select().from(memory).where(where).orderBy(asc(memory.createdAt), asc(memory.id)).all();
  }

  /**
   * The entries matching every word of `query` (case-insensitive, over the content and the title of the entry's
   * task), best first: more occurrences of the words, then the most recently changed. At most `limit`.
   */
  search(query: string, filter: MemoryFilter = {}, limit = MEMORY_SEARCH_LIMIT): MemoryRow[] {
    const words = searchWords(query);
    if (words.length === 0) throw new ValidationError('the search needs at least one word');
    const conds: string[] = [];
    const params: unknown[] = [];
    // SQLite's lower() folds ASCII only: words with other letters are matched below, in JS, on the candidates.
    for (const w of words.filter((x) => /^[\x20-\x7e]+$/.test(x))) {
      conds.push(`instr(lower(m.content || char(10) || coalesce(t.title, '')), ?) > 0`);
      params.push(w);
    }
    if (filter.taskId !== undefined) {
      conds.push(filter.taskId === null ? 'm.task_id IS NULL' : 'm.task_id = ?');
      if (filter.taskId !== null) params.push(filter.taskId);
    }
    if (filter.kind !== undefined) {
      conds.push('m.kind = ?');
      params.push(filter.kind);
    }
    const rows = this.sqlite
      .prepare(
        `SELECT m.id, m.task_id AS taskId, m.kind, m.content, m.pinned, m.created_at AS createdAt,
                m.updated_at AS updatedAt, coalesce(t.title, '') AS title
           FROM memory m LEFT JOIN tasks t ON t.id = m.task_id
          ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''}`,
      )
      .all(...params) as (Omit<MemoryRow, 'pinned'> & { pinned: number; title: string })[];
    const scored: { row: MemoryRow; score: number }[] = [];
    for (const { title, pinned, ...r } of rows) {
      const text = r.content.toLowerCase();
      const head = title.toLowerCase();
      // The title makes a word match (once) where the content lacks it; a summary repeats its title anyway.
      const counts = words.map((w) => occurrences(text, w) || (head.includes(w) ? 1 : 0));
      if (counts.some((n) => n === 0)) continue;
      scored.push({ row: { ...r, pinned: pinned === 1 }, score: counts.reduce((a, b) => a + b, 0) });
    }
    scored.sort((a, b) => b.score - a.score || b.row.updatedAt - a.row.updatedAt || (a.row.id < b.row.id ? 1 : -1));
    return scored.slice(0, Math.max(1, limit)).map((s) => s.row);
  }

  /** What a new session of `taskId` is given: the global entries and the task's own, oldest first. */
  forTask(taskId: string): MemoryRow[] {
    return this.db
      .select()
      .from(memory)
      .where(and(eq(memory.kind, 'note'), or(isNull(memory.taskId), eq(memory.taskId, taskId))))
      .orderBy(asc(memory.createdAt), asc(memory.id))
      .all();
  }

  get(id: string): MemoryRow | undefined {
    return this.db.select().from(memory).where(eq(memory.id, id)).get();
  }

  add(p: { content: string; taskId: string | null; now: number }): MemoryRow {
    return this.commits.immediate(() => {
      if (p.taskId !== null && !this.db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, p.taskId)).get()) {
        throw new NotFoundError('task', p.taskId);
      }
      const row: MemoryRow = {
        id: newId('r'),
        taskId: p.taskId,
        kind: 'note',
        content: p.content,
        pinned: false,
        createdAt: p.now,
        updatedAt: p.now,
      };
      this.db.insert(memory).values(row).run();
      return row;
    });
  }

  /**
   * Changes an entry's content and/or its pin. A new content is a change (`updated_at`, which
   * `retention.memory` ages notes by); pinning or unpinning alone is not.
   */
  edit(id: string, patch: { content?: string; pinned?: boolean }, now: number): MemoryRow {
    return this.commits.immediate(() => {
      const set = {
        ...(patch.content === undefined ? {} : { content: patch.content, updatedAt: now }),
        ...(patch.pinned === undefined ? {} : { pinned: patch.pinned }),
      };
      if (Object.keys(set).length === 0) throw new ValidationError('nothing to change: give content and/or pinned');
      const changed = this.db.update(memory).set(set).where(eq(memory.id, id)).run();
      if (changed.changes === 0) throw new NotFoundError('memory entry', id);
      return this.get(id) as MemoryRow;
    });
  }

  remove(id: string): void {
    this.commits.immediate(() => {
      if (this.db.delete(memory).where(eq(memory.id, id)).run().changes === 0) {
        throw new NotFoundError('memory entry', id);
      }
    });
  }

  /** Records on a running job what its new session was given (a progress marker: relaxed, with the reply's commit). */
  recordUse(jobId: string, useJson: string): void {
    this.commits.relaxed(() => this.db.update(jobs).set({ memoryJson: useJson }).where(eq(jobs.id, jobId)).run());
  }
}

/**
 * Keeps what a closed task did as its one `task_summary` entry: called inside the close's own transaction with
 * the task as it is now closed. A task closed again after a reopen gets its summary rewritten (same id, same pin).
 */
export function writeTaskSummary(db: Drizzle, task: TaskRow, now: number): MemoryRow {
  const content = taskSummaryText(task);
  const existing = db
    .select()
    .from(memory)
    .where(and(eq(memory.taskId, task.id), eq(memory.kind, 'task_summary')))
    .orderBy(asc(memory.createdAt), asc(memory.id))
    .get();
  if (existing) {
    db.update(memory).set({ content, updatedAt: now }).where(eq(memory.id, existing.id)).run();
    return { ...existing, content, updatedAt: now };
  }
  const row: MemoryRow = {
    id: newId('r'),
    taskId: task.id,
    kind: 'task_summary',
    content,
    pinned: false,
    createdAt: now,
    updatedAt: now,
  };
  db.insert(memory).values(row).run();
  return row;
}

/** `<title> — closed <YYYY-MM-DD> (<auto|manual|stale>): <reason>`, then the task's rolling summary; clipped. */
function taskSummaryText(
  task: Pick<TaskRow, 'id' | 'title' | 'summary' | 'closedAt' | 'closedBy' | 'closeReason'>,
): string {
  const day = new Date(task.closedAt ?? 0).toISOString().slice(0, 10);
  const by: ClosedBy | 'unknown' = task.closedBy ?? 'unknown';
  const head =
    `${oneLine(task.title) || `Task ${task.id}`} — closed ${day} (${by}): ${oneLine(task.closeReason ?? '')}`.trimEnd();
  const summary = task.summary.trim();
  return clipChars(summary ? `${head}\n${summary}` : head, TASK_SUMMARY_CHARS);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** At most `max` characters (code points), with an ellipsis when cut. */
function clipChars(s: string, max: number): string {
  const chars = Array.from(s);
  if (chars.length <= max) return s;
  return `${chars
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}

/** The distinct lower-cased words of a query. */
function searchWords(query: string): string[] {
  return [...new Set(query.toLowerCase().split(/\s+/).filter(Boolean))];
}

function occurrences(hay: string, word: string): number {
  let n = 0;
  for (let i = hay.indexOf(word); i !== -1; i = hay.indexOf(word, i + word.length)) n++;
  return n;
}
