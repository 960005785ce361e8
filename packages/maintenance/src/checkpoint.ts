import type { CheckpointResult } from './protocol.js';
import { withPool } from './pool.js';
import type { MaintenancePool } from './pool.js';

/** `PRAGMA wal_checkpoint(TRUNCATE)` on a worker thread's own connection. */
export async function checkpointWal(opts: {
  dbFile: string;
  signal?: AbortSignal;
  pool?: MaintenancePool;
  busyTimeoutMs?: number;
}): Promise<CheckpointResult> {
  return withPool(opts.pool, (pool) =>
    pool.run({ op: 'checkpoint', dbFile: opts.dbFile, busyTimeoutMs: opts.busyTimeoutMs ?? 10_000 }, opts.signal),
  );
}
