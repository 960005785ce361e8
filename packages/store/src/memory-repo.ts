import { and, asc, eq, isNull, or } from 'drizzle-orm';
import { NotFoundError, newId } from '@alter0/core';
import type { Drizzle } from './db.js';
import { jobs, memory, tasks } from './schema.js';
import type { MemoryRow } from './schema.js';
import type { Commits } from './tx.js';

/** The owner's memory entries: global, or bound to one task. Each change is one durable commit. */
export class MemoryRepo {
  constructor(
    private readonly db: Drizzle,
    private readonly commits: Commits,
  ) {}

  list(filter: { taskId?: string | null } = {}): MemoryRow[] {
    const where =
      filter.taskId === undefined
        ? undefined
        : filter.taskId === null
          ? isNull(memory.taskId)
          : eq(memory.taskId, filter.taskId);
    return this.db.select().from(memory).where(where).orderBy(asc(memory.createdAt), asc(memory.id)).all();
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

  edit(id: string, content: string, now: number): MemoryRow {
    return this.commits.immediate(() => {
      const changed = this.db.update(memory).set({ content, updatedAt: now }).where(eq(memory.id, id)).run();
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
