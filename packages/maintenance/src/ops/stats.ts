import { performance } from 'node:perf_hooks';
import { rollupStats } from '@alter0/store';
import type { StatsRollupResult, StatsRollupTask } from '../protocol.js';
import { openLive } from './connection.js';

/** The stats rollup on the worker's own connection: which hours and what goes in them is the store's (stats.ts). */
export function statsRollup(task: StatsRollupTask): StatsRollupResult {
  const started = performance.now();
  const db = openLive(task.dbFile, task.busyTimeoutMs);
  try {
    const report = rollupStats(db, { now: task.now, samples: task.samples });
    return { ...report, ms: Math.round(performance.now() - started) };
  } finally {
    db.close();
  }
}
