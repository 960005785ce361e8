import { and, eq, getTableColumns, getTableName, sql } from 'drizzle-orm';
import type { Column } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type BetterSqlite3 from 'better-sqlite3';
import type { Drizzle } from './db.js';
import { jobs, messages } from './schema.js';
import type { JobRow, MessageRow } from './schema.js';

/**
 * The statements every job runs, prepared once per connection. drizzle's query builder builds the SQL text and
 * better-sqlite3 prepares it again on every call otherwise: in the kernel bench that was a fifth of the daemon's
 * busy time. Reads keep drizzle's typed row mapping (prepared with placeholders); inserts are plain statements
 * built from the drizzle table, so a column added to the schema is in them too.
 */
export function hotStatements(sqlite: BetterSqlite3.Database, db: Drizzle) {
  const jobById = db
    .select()
    .from(jobs)
    .where(eq(jobs.id, sql.placeholder('id')))
    .prepare();
  const messageById = db
    .select()
    .from(messages)
    .where(eq(messages.id, sql.placeholder('id')))
    .prepare();
  const fencedJob = db
    .select({ reply: jobs.replyMessageId, createdAt: jobs.createdAt })
    .from(jobs)
    .where(
      and(
        eq(jobs.id, sql.placeholder('jobId')),
        eq(jobs.attempt, sql.placeholder('attempt')),
        eq(jobs.state, 'running'),
      ),
    )
    .prepare();
  return {
    job: (id: string): JobRow | undefined => jobById.get({ id }),
    message: (id: string): MessageRow | undefined => messageById.get({ id }),
    /** The running attempt `f` names, or undefined when the fence no longer holds. */
    fenced: (f: { jobId: string; attempt: number }) => fencedJob.get({ jobId: f.jobId, attempt: f.attempt }),
    insertJob: rowInserter<JobRow>(sqlite, jobs),
    insertMessage: rowInserter<MessageRow>(sqlite, messages),
  };
}

export type HotStatements = ReturnType<typeof hotStatements>;

/** INSERT of a whole row, values converted as drizzle converts them (a boolean column stores 0/1). */
function rowInserter<Row extends object>(sqlite: BetterSqlite3.Database, table: SQLiteTable): (row: Row) => void {
  const columns = Object.entries(getTableColumns(table)) as [string, Column][];
  const names = columns.map(([, c]) => `"${c.name}"`).join(', ');
  const stmt = sqlite.prepare(
    `INSERT INTO "${getTableName(table)}" (${names}) VALUES (${columns.map(() => '?').join(', ')})`,
  );
  return (row) => {
    const values = columns.map(([key, c]) => {
      const v = (row as Record<string, unknown>)[key];
      return v === undefined || v === null ? null : c.mapToDriverValue(v);
    });
    stmt.run(values);
  };
}
