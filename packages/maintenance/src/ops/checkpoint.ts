import type { CheckpointResult, CheckpointTask } from '../protocol.js';
import { openLive } from './connection.js';

/** Moves the WAL into the main file and truncates it, so the WAL cannot grow without bound between restarts. */
export function checkpoint(task: CheckpointTask): CheckpointResult {
  const db = openLive(task.dbFile, task.busyTimeoutMs);
  try {
    // First what needs no lock: copy back every frame no reader needs; the TRUNCATE below then has little left.
    db.pragma('wal_checkpoint(PASSIVE)');
    const row = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    const r = row[0] ?? { busy: 0, log: 0, checkpointed: 0 };
    return { busy: r.busy, logFrames: r.log, checkpointedFrames: r.checkpointed };
  } finally {
    db.close();
  }
}
