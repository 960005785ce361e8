import { LOCK_HOLDING_WAIT_MS } from '@alter0/store';
import type { CheckpointResult } from './protocol.js';
import { withPool } from './pool.js';
import type { MaintenancePool } from './pool.js';

/**
 * `PRAGMA wal_checkpoint(TRUNCATE)` on a worker thread's own connection. It holds the write lock while it waits
 * for readers, so it waits at most LOCK_HOLDING_WAIT_MS (well inside the daemon's busy timeout) and reports
 * `busy` instead: a long `db verify` or `db backup` then delays the checkpoint, never the daemon's writes.
 */
export async function checkpointWal(opts: {
  dbFile: string;
  signal?: AbortSignal;
  pool?: MaintenancePool;
  busyTimeoutMs?: number;
}): Promise<CheckpointResult> {
  return withPool(opts.pool, (pool) =>
    pool.run(
      {
        op: 'checkpoint',
        dbFile: opts.dbFile,
        busyTimeoutMs: Math.min(opts.busyTimeoutMs ?? LOCK_HOLDING_WAIT_MS, LOCK_HOLDING_WAIT_MS),
      },
      opts.signal,
    ),
  );
}
