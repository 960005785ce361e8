import type { DepthSample } from '@alter0/store';
import type { StatsRollupResult } from './protocol.js';
import { withPool } from './pool.js';
import type { MaintenancePool } from './pool.js';

/**
 * The stats rollup (`stats_hourly`, `usage_hourly`) on the maintenance pool: the previous and current hour, and the
 * hours missed since the last run (first run: up to 31 days of finished jobs). The daemon's queue depth samples
 * are counted in their hours. Reads in a snapshot and writes a day of hours per short transaction.
 */
export async function statsRollup(opts: {
  dbFile: string;
  now: number;
  samples?: DepthSample[];
  signal?: AbortSignal;
  pool?: MaintenancePool;
  busyTimeoutMs?: number;
}): Promise<StatsRollupResult> {
  return withPool(opts.pool, (pool) =>
    pool.run(
      {
        op: 'stats_rollup',
        dbFile: opts.dbFile,
        now: opts.now,
        samples: opts.samples ?? [],
        busyTimeoutMs: opts.busyTimeoutMs ?? 10_000,
      },
      opts.signal,
    ),
  );
}
