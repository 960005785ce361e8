import type { Config } from '@alter0/config';
import { parseDuration } from '@alter0/config';
import { backup } from './backup.js';
import { checkpointWal } from './checkpoint.js';
import { cleanup, retentionFromConfig } from './cleanup.js';
import { dbFileFor } from './paths.js';
import type { DepthSample } from '@alter0/store';
import type { Retention } from './protocol.js';
import { statsRollup } from './stats-rollup.js';
import type { MaintenancePool } from './pool.js';
import type { ScheduledJob } from './scheduler.js';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** Scheduled online backup (reason `scheduled`), keeping the newest `keep`. */
export function backupJob(opts: {
  dbFile: string;
  backupDir: string;
  every: number | string;
  keep: number;
  pool: MaintenancePool;
  now?: () => Date;
}): ScheduledJob {
  return {
    name: 'backup',
    every: opts.every,
    run: async (signal) => {
      const r = await backup({
        dbFile: opts.dbFile,
        backupDir: opts.backupDir,
        reason: 'scheduled',
        keep: opts.keep,
        pool: opts.pool,
        signal,
        now: opts.now,
      });
      return { path: r.path, bytes: r.bytes, ms: r.ms, pruned: r.pruned.length };
    },
  };
}

/** Retention cleanup (daily by default). */
export function retentionJob(opts: {
  dbFile: string;
  retention: Retention;
  every?: number | string;
  pool: MaintenancePool;
  now?: () => number;
}): ScheduledJob {
  const now = opts.now ?? Date.now;
  return {
    name: 'retention',
    every: opts.every ?? DAY_MS,
    run: async (signal) => {
      const r = await cleanup({
        dbFile: opts.dbFile,
        now: now(),
        retention: opts.retention,
        dryRun: false,
        pool: opts.pool,
        signal,
      });
      return { counts: r.counts, skipped: r.skipped, ms: r.ms };
    },
  };
}

/** `wal_checkpoint(TRUNCATE)` (hourly by default), so the WAL file stays small between restarts. */
export function checkpointJob(opts: { dbFile: string; every?: number | string; pool: MaintenancePool }): ScheduledJob {
  return {
    name: 'wal_checkpoint',
    every: opts.every ?? HOUR_MS,
    run: (signal) => checkpointWal({ dbFile: opts.dbFile, pool: opts.pool, signal }),
  };
}

/**
 * The stats rollup (every `stats.rollup_every`): the current and previous hour of the hourly history, and any hours
 * missed. `depthSamples` hands it the daemon's queue depth samples (it may take a fresh one first). Its first run
 * comes at most one interval after start.
 */
export function statsRollupJob(opts: {
  dbFile: string;
  every: number;
  pool: MaintenancePool;
  now?: () => number;
  depthSamples?: () => DepthSample[];
}): ScheduledJob {
  const now = opts.now ?? Date.now;
  return {
    name: 'stats_rollup',
    every: opts.every,
    startDelayMs: opts.every,
    run: async (signal) => {
      const samples = opts.depthSamples?.() ?? [];
      return statsRollup({ dbFile: opts.dbFile, now: now(), samples, pool: opts.pool, signal });
    },
  };
}

/**
 * The standard jobs for a configuration: backup (backup.interval, backup.keep, backup.dir), retention
 * (maintenance.retention_every), checkpoint (maintenance.checkpoint_every), the stats rollup (stats.rollup_every; `depthSamples`: the daemon's queue depth samples).
 */
export function maintenanceJobs(
  config: Config,
  pool: MaintenancePool,
  opts: { now?: () => number; depthSamples?: () => DepthSample[] } = {},
): ScheduledJob[] {
  const dbFile = dbFileFor(config.data_dir);
  const now = opts.now ?? Date.now;
  return [
    backupJob({
      dbFile,
      backupDir: config.backup.dir,
      every: parseDuration(config.backup.interval),
      keep: config.backup.keep,
      pool,
      now: () => new Date(now()),
    }),
    retentionJob({
      dbFile,
      retention: retentionFromConfig(config),
      every: parseDuration(config.maintenance.retention_every),
      pool,
      now,
    }),
    checkpointJob({ dbFile, every: parseDuration(config.maintenance.checkpoint_every), pool }),
    statsRollupJob({
      dbFile,
      every: parseDuration(config.stats.rollup_every),
      pool,
      now,
      depthSamples: opts.depthSamples,
    }),
  ];
}
