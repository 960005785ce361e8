import fs from 'node:fs';
import { Alter0Error } from '@alter0/core';
import type { Config } from '@alter0/config';
import { parseDuration } from '@alter0/config';
import type { CleanupReport, Retention } from './protocol.js';
import { withPool } from './pool.js';
import type { MaintenancePool } from './pool.js';

export interface CleanupOptions {
  dbFile: string;
  /** Epoch milliseconds the ages count back from. */
  now: number;
  retention: Retention;
  dryRun: boolean;
  /** Ids per write transaction (default 1000). */
  batchSize?: number;
  /** Pause between write transactions on the worker (default 10 ms). */
  pauseMs?: number;
  signal?: AbortSignal;
  pool?: MaintenancePool;
  busyTimeoutMs?: number;
}

/**
 * Retention on a worker thread: closed tasks closed longer ago than `closed_tasks` (with their messages, jobs,
 * decisions and unpinned memory; a pinned entry keeps the task's row), decisions, events, finished jobs, the
 * owner's unpinned notes (`memory`, unless null) and the hourly stats history (`stats`) older than their ages. Never touches a queued or
 * running job, a message of an open task, or the latest job of a task. A dry run returns the counts only.
 */
export async function cleanup(opts: CleanupOptions): Promise<CleanupReport> {
  if (!fs.existsSync(opts.dbFile)) {
    throw new Alter0Error(
      'not_found',
      `there is no database at ${opts.dbFile}; check --data (or data_dir in the config)`,
    );
  }
  for (const [k, v] of Object.entries(opts.retention)) {
    // memory alone may be null: the owner's notes are kept until removed.
    if (k === 'memory' && v === null) continue;
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new Alter0Error(
        'invalid_request',
        `retention.${k} must be a positive age in milliseconds${k === 'memory' ? ' (or null: never)' : ''}, got ${String(v)}`,
      );
    }
  }
  return withPool(opts.pool, (pool) =>
    pool.run(
      {
        op: 'cleanup',
        dbFile: opts.dbFile,
        now: opts.now,
        retention: opts.retention,
        dryRun: opts.dryRun,
        batchSize: opts.batchSize ?? 1000,
        pauseMs: opts.pauseMs ?? 10,
        busyTimeoutMs: opts.busyTimeoutMs ?? 10_000,
      },
      opts.signal,
    ),
  );
}

/** The `retention` config table in milliseconds. */
export function retentionFromConfig(config: Pick<Config, 'retention'>): Retention {
  return {
    closed_tasks: parseDuration(config.retention.closed_tasks),
    decisions: parseDuration(config.retention.decisions),
    events: parseDuration(config.retention.events),
    finished_jobs: parseDuration(config.retention.finished_jobs),
    memory: config.retention.memory === 'never' ? null : parseDuration(config.retention.memory),
    stats: parseDuration(config.retention.stats),
  };
}

export function formatCleanupReport(r: CleanupReport): string {
  const parts = Object.entries(r.counts).map(([k, v]) => `${k} ${v}`);
  return (
    `${r.dryRun ? 'would delete' : 'deleted'}: ${parts.join(', ')}` +
    (r.dryRun
      ? ''
      : ` (${r.transactions} transaction(s)${r.skipped ? `, ${r.skipped} kept because they changed meanwhile` : ''})`) +
    ` in ${r.ms} ms`
  );
}
