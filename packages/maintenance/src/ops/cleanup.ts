import { performance } from 'node:perf_hooks';
import { RETENTION_TABLES, planRetention, retentionDeleter } from '@alter0/store';
import type { RetentionTable } from '@alter0/store';
import type { CleanupReport, CleanupTask } from '../protocol.js';
import { openLive } from './connection.js';

/**
 * Retention: plans every row to delete in one read snapshot (a dry run stops there and returns the counts), then
 * deletes in FK-safe order (children before parents), `batchSize` ids per IMMEDIATE transaction with a pause
 * between transactions, so the database's write lock is never held for long. Which rows go is the store's
 * (planRetention, retentionDeleter); the batching and pacing are this worker's.
 */
export function cleanupDatabase(task: CleanupTask, hooks: { afterPlan?: () => void } = {}): CleanupReport {
  const started = performance.now();
  const cutoffs = {
    closed_tasks: task.now - task.retention.closed_tasks,
    decisions: task.now - task.retention.decisions,
    events: task.now - task.retention.events,
    finished_jobs: task.now - task.retention.finished_jobs,
    memory: task.retention.memory === null ? null : task.now - task.retention.memory,
    stats: task.now - task.retention.stats,
  };
  const params = {
    tasks: cutoffs.closed_tasks,
    decisions: cutoffs.decisions,
    events: cutoffs.events,
    jobs: cutoffs.finished_jobs,
    memory: cutoffs.memory,
    stats: cutoffs.stats,
  };
  const db = openLive(task.dbFile, task.busyTimeoutMs);
  try {
    const plan = planRetention(db, params);
    hooks.afterPlan?.();
    const counts = Object.fromEntries(RETENTION_TABLES.map((t) => [t, task.dryRun ? plan[t].length : 0])) as Record<
      RetentionTable,
      number
    >;
    let skipped = 0;
    let transactions = 0;
    if (!task.dryRun) {
      const size = Math.max(1, Math.floor(task.batchSize));
      const deleteBatch = retentionDeleter(db, params);
      for (const table of RETENTION_TABLES) {
        const ids = plan[table];
        for (let i = 0; i < ids.length; i += size) {
          if (transactions > 0) pause(task.pauseMs);
          const chunk = ids.slice(i, i + size);
          const changes = deleteBatch(table, chunk);
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

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this worker thread only (never the daemon's event loop) so waiting writers get the lock. */
function pause(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}
