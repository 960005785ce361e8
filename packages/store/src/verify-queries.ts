import type BetterSqlite3 from 'better-sqlite3';
import { JOB_STATES, TASK_STATES } from '@alter0/core';
import type { JobState, TaskState } from '@alter0/core';

/*
 * The queries `alter0 db verify` runs on alter0's tables: its invariants that SQLite's constraints cannot express,
 * and the row counts. SQLite's own checks (integrity_check, foreign_key_check) stay with the caller.
 */

export interface InvariantResult {
  name: string;
  ok: boolean;
  /** Offending rows. */
  count: number;
  detail: string;
  /** Up to 10 offending ids. */
  examples: string[];
}

export interface TableCounts {
  jobs: Record<JobState, number>;
  tasks: Record<TaskState, number>;
  messages: number;
  events: number;
}

interface InvariantSpec {
  name: string;
  /** Selects the offending ids. */
  sql: string;
  detail: string;
  /** Only meaningful when no process holds the data directory (e.g. running jobs are orphans only then). */
  onlyWithoutLockHolder?: boolean;
}

/** alter0's own rules (docs/architecture.md, "Invariants") that SQLite's constraints cannot express. */
const INVARIANTS: InvariantSpec[] = [
  {
    name: 'no running job without a lock holder',
    sql: `SELECT id FROM jobs WHERE state = 'running' ORDER BY id`,
    detail:
      'jobs are `running` but no alter0 process holds the data directory: they are orphans of a crash. ' +
      'Start alter0 (`alter0 serve`): it recovers them at start (re-queues or fails them as interrupted).',
    onlyWithoutLockHolder: true,
  },
  {
    name: 'every user message has a task or a job',
    // A routed message has its task; an unrouted one is waiting (queued/running) or failed/canceled before routing
    // and can be retried. One with neither, or whose only jobs succeeded without a task, was lost.
    sql: `SELECT m.id FROM messages m WHERE m.role = 'user' AND m.task_id IS NULL
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.message_id = m.id AND j.state IN ('queued','running','failed','canceled'))
          ORDER BY m.id`,
    detail:
      'user messages with no task and no queued, running, failed or canceled job: accepted work that can no longer finish.',
  },
  {
    name: 'assistant and system messages belong to a task',
    sql: `SELECT id FROM messages WHERE role <> 'user' AND task_id IS NULL ORDER BY id`,
    detail: 'replies or notes that are attached to no task.',
  },
  {
    name: 'one running job per task',
    sql: `SELECT task_id FROM jobs WHERE state = 'running' AND task_id IS NOT NULL GROUP BY task_id HAVING count(*) > 1 ORDER BY task_id`,
    detail: 'tasks with more than one running job (jobs of a task must run one at a time, invariant 2).',
  },
  {
    name: 'no job both answered and failed or canceled',
    sql: `SELECT id FROM jobs WHERE reply_message_id IS NOT NULL AND state IN ('failed','canceled') ORDER BY id`,
    detail:
      'jobs that stored a reply but ended failed or canceled (invariant 9: a job whose reply is stored has answered). ' +
      'Versions before this rule could leave them; their replies are in their tasks; do not retry them.',
  },
  {
    name: 'messages point at jobs that exist',
    sql: `SELECT id FROM messages m WHERE m.job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = m.job_id) ORDER BY id`,
    detail:
      'messages whose job_id names a deleted job (retention before this version left them); harmless, cleared by the next retention run.',
  },
  {
    name: 'finished jobs have a finish time',
    sql: `SELECT id FROM jobs WHERE state IN ('succeeded','failed','canceled') AND finished_at IS NULL ORDER BY id`,
    detail: 'terminal jobs without finished_at.',
  },
  {
    name: 'closed tasks have a close time',
    sql: `SELECT id FROM tasks WHERE state = 'closed' AND closed_at IS NULL ORDER BY id`,
    detail: 'closed tasks without closed_at (retention would never remove them).',
  },
];

const EXAMPLES = 10;

/**
 * alter0's invariants and the row counts, read in one transaction so they describe the same moment even while
 * the daemon writes. `lockHeld`: whether some process holds the data directory (running jobs are legitimate then).
 */
export function verifyTables(
  db: BetterSqlite3.Database,
  opts: { lockHeld: boolean },
): { invariants: InvariantResult[]; counts: TableCounts } {
  return db.transaction(() => ({ invariants: invariantsOf(db, opts.lockHeld), counts: countsOf(db) }))();
}

function invariantsOf(db: BetterSqlite3.Database, lockHeld: boolean): InvariantResult[] {
  return INVARIANTS.map((spec) => {
    if (spec.onlyWithoutLockHolder === true && lockHeld) {
      return {
        name: spec.name,
        ok: true,
        count: 0,
        detail: 'not applicable: a process holds the data directory',
        examples: [],
      };
    }
    const ids = db.prepare(spec.sql).pluck().all() as string[];
    return {
      name: spec.name,
      ok: ids.length === 0,
      count: ids.length,
      detail: ids.length === 0 ? 'ok' : spec.detail,
      examples: ids.slice(0, EXAMPLES),
    };
  });
}

/** All counts zero: what a report shows when the tables cannot be read. */
export function emptyTableCounts(): TableCounts {
  const zero = <K extends string>(keys: readonly K[]) =>
    Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  return { jobs: zero(JOB_STATES), tasks: zero(TASK_STATES), messages: 0, events: 0 };
}

function countsOf(db: BetterSqlite3.Database): TableCounts {
  const counts = emptyTableCounts();
  for (const r of db.prepare('SELECT state, count(*) AS n FROM jobs GROUP BY state').all() as {
    state: JobState;
    n: number;
  }[]) {
    counts.jobs[r.state] = r.n;
  }
  for (const r of db.prepare('SELECT state, count(*) AS n FROM tasks GROUP BY state').all() as {
    state: TaskState;
    n: number;
  }[]) {
    counts.tasks[r.state] = r.n;
  }
  counts.messages = Number(db.prepare('SELECT count(*) FROM messages').pluck().get());
  counts.events = Number(db.prepare('SELECT count(*) FROM events').pluck().get());
  return counts;
}
