import { performance } from 'node:perf_hooks';
import type BetterSqlite3 from 'better-sqlite3';
import { CLEANUP_TABLES } from '../protocol.js';
import type { CleanupReport, CleanupTable, CleanupTask } from '../protocol.js';
import { openLive } from './connection.js';

const TERMINAL = `('succeeded','failed','canceled')`;

/*
 * What goes, per table, as one SELECT of ids over a temp table of the closed tasks to purge (`purge_tasks`).
 * Parameters: :tasks, :decisions, :events, :jobs are the cut-off times (rows older than them go).
 */
const PLAN: Record<CleanupTable, string> = {
  route_decisions: `
    SELECT id FROM route_decisions WHERE task_id IN (SELECT id FROM purge_tasks)
       OR job_id IN (SELECT id FROM jobs WHERE task_id IN (SELECT id FROM purge_tasks))
    UNION SELECT id FROM route_decisions WHERE created_at < :decisions`,
  close_decisions: `
    SELECT id FROM close_decisions WHERE task_id IN (SELECT id FROM purge_tasks)
    UNION SELECT id FROM close_decisions WHERE created_at < :decisions`,
  memory: `SELECT id FROM memory WHERE task_id IN (SELECT id FROM purge_tasks)`,
  jobs: `
    SELECT id FROM jobs WHERE task_id IN (SELECT id FROM purge_tasks)
       OR message_id IN (SELECT id FROM messages WHERE task_id IN (SELECT id FROM purge_tasks))
    UNION
    -- Finished jobs of routed messages; the latest job of each task stays (its outcome is the task's last word).
    SELECT j.id FROM jobs j JOIN messages m ON m.id = j.message_id
     WHERE j.state IN ${TERMINAL} AND j.finished_at < :jobs AND m.task_id IS NOT NULL
       AND (j.task_id IS NULL OR j.id <> (SELECT max(o.id) FROM jobs o WHERE o.task_id = j.task_id))
    UNION
    SELECT j.id FROM jobs j WHERE j.message_id IN (SELECT id FROM purge_unrouted)`,
  messages: `
    SELECT id FROM messages WHERE task_id IN (SELECT id FROM purge_tasks)
    UNION SELECT id FROM purge_unrouted`,
  tasks: `SELECT id FROM purge_tasks`,
  events: `SELECT id FROM events WHERE created_at < :events`,
};

/*
 * Re-checked at delete time, inside each write transaction: the plan was read earlier and the daemon may have
 * reopened a task or retried a job since. A row that no longer qualifies stays (counted as skipped).
 */
const GUARD: Record<CleanupTable, string> = {
  route_decisions: `(created_at < :decisions OR task_id IS NULL OR task_id NOT IN (SELECT id FROM tasks WHERE state = 'open'))`,
  close_decisions: `(created_at < :decisions OR task_id IN (SELECT id FROM tasks WHERE state = 'closed'))`,
  memory: `task_id IN (SELECT id FROM tasks WHERE state = 'closed')`,
  // A job of a task that is open now (reopened since the plan) goes only by its own age rule.
  jobs: `state IN ${TERMINAL}
         AND (task_id IS NULL OR task_id NOT IN (SELECT id FROM tasks WHERE state = 'open')
              OR (finished_at < :jobs AND id <> (SELECT max(o.id) FROM jobs o WHERE o.task_id = jobs.task_id)))`,
  messages: `NOT EXISTS (SELECT 1 FROM jobs j WHERE j.message_id = messages.id)
             AND (task_id IS NULL OR task_id IN (SELECT id FROM tasks WHERE state = 'closed'))`,
  tasks: `state = 'closed'
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.task_id = tasks.id)
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.task_id = tasks.id)
          AND NOT EXISTS (SELECT 1 FROM close_decisions c WHERE c.task_id = tasks.id)
          AND NOT EXISTS (SELECT 1 FROM memory y WHERE y.task_id = tasks.id)`,
  events: '1',
};

/**
 * Retention: plans every row to delete in one read snapshot (a dry run stops there and returns the counts), then
 * deletes in FK-safe order (children before parents), `batchSize` ids per IMMEDIATE transaction with a pause
 * between transactions, so the database's write lock is never held for long.
 */
export function cleanupDatabase(task: CleanupTask, hooks: { afterPlan?: () => void } = {}): CleanupReport {
  const started = performance.now();
  const cutoffs = {
    closed_tasks: task.now - task.retention.closed_tasks,
    decisions: task.now - task.retention.decisions,
    events: task.now - task.retention.events,
    finished_jobs: task.now - task.retention.finished_jobs,
  };
  const params = { tasks: cutoffs.closed_tasks, decisions: cutoffs.decisions, events: cutoffs.events, jobs: cutoffs.finished_jobs };
  const db = openLive(task.dbFile, task.busyTimeoutMs);
  try {
    const plan = planOf(db, params);
    hooks.afterPlan?.();
    const counts = Object.fromEntries(CLEANUP_TABLES.map((t) => [t, task.dryRun ? plan[t].length : 0])) as Record<CleanupTable, number>;
    let skipped = 0;
    let transactions = 0;
    if (!task.dryRun) {
      const size = Math.max(1, Math.floor(task.batchSize));
      const unlinkMessages = db.prepare(
        `UPDATE messages SET job_id = NULL WHERE job_id IN (SELECT value FROM json_each(:ids))
           AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = messages.job_id)`,
      );
      for (const table of CLEANUP_TABLES) {
        const del = db.prepare(
          `DELETE FROM ${table} WHERE id IN (SELECT value FROM json_each(:ids)) AND ${GUARD[table]}`,
        );
        const ids = plan[table];
        for (let i = 0; i < ids.length; i += size) {
          if (transactions > 0) pause(task.pauseMs);
          const chunk = ids.slice(i, i + size);
          const changes = db
            .transaction(() => {
              const n = del.run({ ids: JSON.stringify(chunk), ...paramsFor(del, params) }).changes;
              // A kept message (a reply, a note) no longer points at a job that is gone.
              if (table === 'jobs') unlinkMessages.run({ ids: JSON.stringify(chunk) });
              return n;
            })
            .immediate();
          counts[table] += changes;
          skipped += chunk.length - changes;
          transactions++;
        }
      }
    }
    return { dryRun: task.dryRun, counts, skipped, transactions, cutoffs, ms: Math.round(performance.now() - started) };
  } finally {
    db.close();
  }
}

type Params = { tasks: number; decisions: number; events: number; jobs: number };

function planOf(db: BetterSqlite3.Database, params: Params): Record<CleanupTable, string[]> {
  // TEMP tables live in this connection's own temp database: building them takes no lock on alter0.db.
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS purge_tasks (id TEXT PRIMARY KEY);
           CREATE TEMP TABLE IF NOT EXISTS purge_unrouted (id TEXT PRIMARY KEY);
           DELETE FROM purge_tasks; DELETE FROM purge_unrouted;`);
  return db.transaction(() => {
    // Closed long enough, and nothing of it still waiting or running (by task, or through one of its messages).
    db.prepare(
      `INSERT INTO purge_tasks (id)
       SELECT t.id FROM tasks t WHERE t.state = 'closed' AND t.closed_at < :tasks
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.task_id = t.id AND j.state NOT IN ${TERMINAL})
         AND NOT EXISTS (SELECT 1 FROM jobs j JOIN messages m ON m.id = j.message_id
                          WHERE m.task_id = t.id AND j.state NOT IN ${TERMINAL})`,
    ).run({ tasks: params.tasks });
    // Messages never routed to a task (canceled or failed before routing) whose every job finished long enough ago.
    db.prepare(
      `INSERT INTO purge_unrouted (id)
       SELECT m.id FROM messages m WHERE m.task_id IS NULL AND m.created_at < :jobs
         AND EXISTS (SELECT 1 FROM jobs j WHERE j.message_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.message_id = m.id
                          AND (j.state NOT IN ${TERMINAL} OR j.finished_at IS NULL OR j.finished_at >= :jobs))`,
    ).run({ jobs: params.jobs });
    const plan = {} as Record<CleanupTable, string[]>;
    for (const table of CLEANUP_TABLES) {
      const stmt = db.prepare(PLAN[table]).pluck();
      plan[table] = stmt.all(paramsFor(stmt, params)) as string[];
    }
    return plan;
  })();
}

/** better-sqlite3 refuses named parameters a statement does not use: pass only the ones it has. */
function paramsFor(stmt: BetterSqlite3.Statement, params: Params): Partial<Params> {
  const src = stmt.source;
  const out: Partial<Params> = {};
  for (const k of Object.keys(params) as (keyof Params)[]) {
    if (src.includes(`:${k}`)) out[k] = params[k];
  }
  return out;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this worker thread only (never the daemon's event loop) so waiting writers get the lock. */
function pause(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}
