import { performance } from 'node:perf_hooks';
import type BetterSqlite3 from 'better-sqlite3';
import { JOB_STATES, TASK_STATES } from '@alter0/core';
import type { JobState, TaskState } from '@alter0/core';
import { schemaState } from '@alter0/store';
import type { InvariantResult, VerifyReport, VerifyTask } from '../protocol.js';
import { errorText, openLive } from './connection.js';

interface InvariantSpec {
  name: string;
  /** Selects the offending ids. */
  sql: string;
  detail: string;
  /** Only meaningful in some situations (e.g. running jobs only matter when no process owns the data). */
  applies?: (task: VerifyTask) => boolean;
}

/** alter0's own rules (docs/architecture.md, "Invariants") that SQLite's constraints cannot express. */
const INVARIANTS: InvariantSpec[] = [
  {
    name: 'no running job without a lock holder',
    sql: `SELECT id FROM jobs WHERE state = 'running' ORDER BY id`,
    detail:
      'jobs are `running` but no alter0 process holds the data directory: they are orphans of a crash. ' +
      'Start alter0 (`alter0 serve`): it recovers them at start (re-queues or fails them as interrupted).',
    applies: (t) => !t.lockHeld,
  },
  {
    name: 'every user message has a task or a job',
    // A routed message has its task; an unrouted one is waiting (queued/running) or failed/canceled before routing
    // and can be retried. One with neither, or whose only jobs succeeded without a task, was lost.
    sql: `SELECT m.id FROM messages m WHERE m.role = 'user' AND m.task_id IS NULL
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.message_id = m.id AND j.state IN ('queued','running','failed','canceled'))
          ORDER BY m.id`,
    detail: 'user messages with no task and no queued, running, failed or canceled job: accepted work that can no longer finish.',
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
    detail: 'messages whose job_id names a deleted job (retention before this version left them); harmless, cleared by the next retention run.',
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

/** integrity_check, foreign_key_check, schema version and alter0's invariants, in one read snapshot. */
export function verifyDatabase(task: VerifyTask): VerifyReport {
  const started = performance.now();
  let db: BetterSqlite3.Database;
  try {
    db = openLive(task.dbFile, task.busyTimeoutMs);
    try {
      // Opening is lazy: reading the schema is what fails on a file that is not a database.
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (err) {
      db.close();
      throw err;
    }
  } catch (err) {
    // Not a database at all (garbage header, truncated file): report it like any integrity failure.
    return unreadable(task, errorText(err), started);
  }
  try {
    const integrity = integrityOf(db);
    const foreignKeys = foreignKeysOf(db);
    let schema: VerifyReport['schema'];
    try {
      schema = { ok: true, state: schemaState(db, task.migrationsFolder), error: null };
    } catch (err) {
      schema = { ok: false, state: null, error: errorText(err) };
    }
    let invariants: InvariantResult[];
    let counts: VerifyReport['counts'];
    try {
      // One read transaction: the invariants and counts describe the same moment even while the daemon writes.
      ({ invariants, counts } = db.transaction(() => ({ invariants: invariantsOf(db, task), counts: countsOf(db) }))());
    } catch (err) {
      // A damaged table can make these queries fail: that is a finding, not a crash.
      invariants = [{ name: 'invariants readable', ok: false, count: 0, detail: `the checks could not read the tables: ${errorText(err)}`, examples: [] }];
      counts = emptyCounts();
    }
    const ok = integrity.ok && foreignKeys.ok && schema.ok && invariants.every((i) => i.ok);
    return {
      ok,
      file: task.dbFile,
      lockHeld: task.lockHeld,
      integrity,
      foreignKeys,
      schema,
      invariants,
      counts,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    db.close();
  }
}

function unreadable(task: VerifyTask, message: string, started: number): VerifyReport {
  return {
    ok: false,
    file: task.dbFile,
    lockHeld: task.lockHeld,
    integrity: { ok: false, messages: [`cannot open the database: ${message}`] },
    foreignKeys: { ok: false, count: 0, examples: [], error: 'not checked: the database cannot be opened' },
    schema: { ok: false, state: null, error: 'not read: the database cannot be opened' },
    invariants: [],
    counts: emptyCounts(),
    ms: Math.round(performance.now() - started),
  };
}

function integrityOf(db: BetterSqlite3.Database): VerifyReport['integrity'] {
  try {
    const rows = db.pragma('integrity_check(100)') as Record<string, unknown>[];
    const messages = rows.map((r) => String(Object.values(r)[0])).filter((s) => s !== 'ok');
    return { ok: messages.length === 0, messages };
  } catch (err) {
    return { ok: false, messages: [errorText(err)] };
  }
}

function foreignKeysOf(db: BetterSqlite3.Database): VerifyReport['foreignKeys'] {
  let rows: { table: string; rowid: number | null; parent: string }[];
  try {
    rows = db.pragma('foreign_key_check') as typeof rows;
  } catch (err) {
    return { ok: false, count: 0, examples: [], error: errorText(err) };
  }
  return {
    ok: rows.length === 0,
    count: rows.length,
    examples: rows.slice(0, EXAMPLES).map((r) => ({ table: r.table, rowid: r.rowid, parent: r.parent })),
    error: null,
  };
}

function emptyCounts(): VerifyReport['counts'] {
  const zero = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  return { jobs: zero(JOB_STATES), tasks: zero(TASK_STATES), messages: 0, events: 0 };
}

function invariantsOf(db: BetterSqlite3.Database, task: VerifyTask): InvariantResult[] {
  return INVARIANTS.map((spec) => {
    if (spec.applies && !spec.applies(task)) {
      return { name: spec.name, ok: true, count: 0, detail: 'not applicable: a process holds the data directory', examples: [] };
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

function countsOf(db: BetterSqlite3.Database): VerifyReport['counts'] {
  const jobs = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  for (const r of db.prepare('SELECT state, count(*) AS n FROM jobs GROUP BY state').all() as { state: JobState; n: number }[]) {
    jobs[r.state] = r.n;
  }
  const tasks = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const r of db.prepare('SELECT state, count(*) AS n FROM tasks GROUP BY state').all() as { state: TaskState; n: number }[]) {
    tasks[r.state] = r.n;
  }
  const count = (table: string): number => Number(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get());
  return { jobs, tasks, messages: count('messages'), events: count('events') };
}
