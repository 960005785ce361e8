import type BetterSqlite3 from 'better-sqlite3';

/*
 * Retention's SQL: which rows of alter0's tables may go, and the guarded delete. The maintenance worker decides
 * when and how fast (batches, pauses between transactions) and calls these on its own connection.
 */

/** The tables retention deletes from, children before parents (the FK-safe order). */
export const RETENTION_TABLES = [
  'route_decisions',
  'close_decisions',
  'memory',
  'outbox',
  'channel_refs',
  'approvals',
  'task_allow_rules',
  'schedule_runs',
  'jobs',
  'messages',
  'tasks',
  'events',
  'stats_hourly',
  'usage_hourly',
] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

/**
 * Cut-off times, epoch ms: rows older than these go (`tasks` for closed tasks, `jobs` for finished jobs, `memory`
 * for the owner's unpinned notes by their last change; null: notes never age out; `stats` for the hourly history
 * by the hour it describes).
 */
export interface RetentionCutoffs {
  tasks: number;
  decisions: number;
  events: number;
  jobs: number;
  memory: number | null;
  stats: number;
}

/** The column a planned row is known by: `id`, or the rowid of the hourly history (keyed by hour). */
const KEY: Partial<Record<RetentionTable, string>> = { stats_hourly: 'rowid', usage_hourly: 'rowid' };

const TERMINAL = `('succeeded','failed','canceled')`;

/*
 * What goes, per table, as one SELECT of ids over a temp table of the closed tasks to purge (`purge_tasks`).
 * Parameters: :tasks, :decisions, :events, :jobs, :memory, :stats are the cut-off times (rows older than them go; a
 * null :memory matches nothing).
 */
const PLAN: Record<RetentionTable, string> = {
  route_decisions: `
    SELECT id FROM route_decisions WHERE task_id IN (SELECT id FROM purge_tasks)
       OR job_id IN (SELECT id FROM jobs WHERE task_id IN (SELECT id FROM purge_tasks))
    UNION SELECT id FROM route_decisions WHERE created_at < :decisions`,
  close_decisions: `
    SELECT id FROM close_decisions WHERE task_id IN (SELECT id FROM purge_tasks)
    UNION SELECT id FROM close_decisions WHERE created_at < :decisions`,
  // A purged task's entries (its summary, notes bound to it) go with it unless pinned; the owner's unpinned notes
  // go once unchanged for retention.memory.
  memory: `
    SELECT id FROM memory WHERE pinned = 0 AND task_id IN (SELECT id FROM purge_tasks)
    UNION SELECT id FROM memory WHERE pinned = 0 AND kind = 'note' AND updated_at < :memory`,
  // Delivered or given-up notices, and chat message ids, age out with the finished jobs they belong to.
  outbox: `SELECT id FROM outbox WHERE state <> 'pending' AND created_at < :jobs`,
  channel_refs: `SELECT id FROM channel_refs WHERE created_at < :jobs`,
  // Decided approvals age out with the finished jobs; a task's "always allow" rules go with the task.
  approvals: `SELECT id FROM approvals WHERE state <> 'pending' AND created_at < :jobs`,
  task_allow_rules: `SELECT id FROM task_allow_rules WHERE task_id IN (SELECT id FROM purge_tasks)`,
  // A schedule's ended firings age out with the finished jobs; its latest one stays (its last result).
  schedule_runs: `
    SELECT r.id FROM schedule_runs r WHERE r.result IS NOT NULL AND r.ended_at < :jobs
       AND r.id <> (SELECT max(o.id) FROM schedule_runs o WHERE o.schedule_id = r.schedule_id)`,
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
  // A pinned entry keeps its task's row (only the row: its messages, jobs and decisions go).
  tasks: `SELECT id FROM purge_tasks p WHERE NOT EXISTS (SELECT 1 FROM memory y WHERE y.task_id = p.id AND y.pinned = 1)`,
  events: `SELECT id FROM events WHERE created_at < :events`,
  // The hourly history outlives the jobs it was computed from: it goes by the hour it describes.
  stats_hourly: `SELECT rowid AS id FROM stats_hourly WHERE hour < :stats`,
  usage_hourly: `SELECT rowid AS id FROM usage_hourly WHERE hour < :stats`,
};

/*
 * Re-checked at delete time, inside each write transaction: the plan was read earlier and the daemon may have
 * reopened a task or retried a job since. A row that no longer qualifies stays (counted as skipped).
 */
const GUARD: Record<RetentionTable, string> = {
  route_decisions: `(created_at < :decisions OR task_id IS NULL OR task_id NOT IN (SELECT id FROM tasks WHERE state = 'open'))`,
  close_decisions: `(created_at < :decisions OR task_id IN (SELECT id FROM tasks WHERE state = 'closed'))`,
  // Pinned or edited since the plan, or its task reopened (or closed again) since: it stays.
  memory: `pinned = 0
           AND (task_id IN (SELECT id FROM tasks WHERE state = 'closed' AND closed_at < :tasks)
                OR (kind = 'note' AND updated_at < :memory))`,
  outbox: `state <> 'pending'`,
  channel_refs: '1',
  approvals: `state <> 'pending'`,
  task_allow_rules: `task_id NOT IN (SELECT id FROM tasks WHERE state = 'open')`,
  schedule_runs: `result IS NOT NULL`,
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
  stats_hourly: '1',
  usage_hourly: '1',
};

/**
 * Every row retention would delete, per table, read in one snapshot: closed tasks closed before `tasks` with
 * everything of theirs (nothing of them still waiting or running; a pinned memory entry and the task's row stay),
 * decisions, events, finished jobs and unpinned notes older than their cut-offs, and messages never routed whose
 * jobs all finished before `jobs`.
 */
export function planRetention(
  db: BetterSqlite3.Database,
  cutoffs: RetentionCutoffs,
): Record<RetentionTable, (string | number)[]> {
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
    ).run({ tasks: cutoffs.tasks });
    // Messages never routed to a task (canceled or failed before routing) whose every job finished long enough ago.
    db.prepare(
      `INSERT INTO purge_unrouted (id)
       SELECT m.id FROM messages m WHERE m.task_id IS NULL AND m.created_at < :jobs
         AND EXISTS (SELECT 1 FROM jobs j WHERE j.message_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.message_id = m.id
                          AND (j.state NOT IN ${TERMINAL} OR j.finished_at IS NULL OR j.finished_at >= :jobs))`,
    ).run({ jobs: cutoffs.jobs });
    const plan = {} as Record<RetentionTable, (string | number)[]>;
    for (const table of RETENTION_TABLES) {
      const stmt = db.prepare(PLAN[table]).pluck();
      plan[table] = stmt.all(paramsFor(stmt, cutoffs)) as (string | number)[];
    }
    return plan;
  })();
}

/**
 * Deletes planned ids of one table in one IMMEDIATE transaction per call, each row only if it still qualifies
 * (see GUARD); returns how many rows went. Deleting jobs also clears `messages.job_id` of kept messages (a
 * reply, a note) that pointed at them.
 */
export function retentionDeleter(
  db: BetterSqlite3.Database,
  cutoffs: RetentionCutoffs,
): (table: RetentionTable, ids: readonly (string | number)[]) => number {
  const unlinkMessages = db.prepare(
    `UPDATE messages SET job_id = NULL WHERE job_id IN (SELECT value FROM json_each(:ids))
       AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = messages.job_id)`,
  );
  const deletes = new Map<RetentionTable, BetterSqlite3.Statement>();
  return (table, ids) => {
    let del = deletes.get(table);
    if (del === undefined) {
      const key = KEY[table] ?? 'id';
      del = db.prepare(`DELETE FROM ${table} WHERE ${key} IN (SELECT value FROM json_each(:ids)) AND ${GUARD[table]}`);
      deletes.set(table, del);
    }
    const statement = del;
    return db
      .transaction(() => {
        const n = statement.run({ ids: JSON.stringify(ids), ...paramsFor(statement, cutoffs) }).changes;
        if (table === 'jobs') unlinkMessages.run({ ids: JSON.stringify(ids) });
        return n;
      })
      .immediate();
  };
}

/** better-sqlite3 refuses named parameters a statement does not use: pass only the ones it has. */
function paramsFor(stmt: BetterSqlite3.Statement, cutoffs: RetentionCutoffs): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const k of Object.keys(cutoffs) as (keyof RetentionCutoffs)[]) {
    if (stmt.source.includes(`:${k}`)) out[k] = cutoffs[k];
  }
  return out;
}
