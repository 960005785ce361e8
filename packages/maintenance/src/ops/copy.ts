import fs from 'node:fs';
import type { CopyResult, CopyTask } from '../protocol.js';
import { fsyncFileSync } from '../fsync.js';
import { openLive } from './connection.js';

/**
 * VACUUM INTO writes a consistent, compacted snapshot (a read transaction: the daemon keeps writing meanwhile).
 * The copy comes out in rollback-journal mode, a single self-contained file.
 */
export function copyDatabase(task: CopyTask): CopyResult {
  const db = openLive(task.dbFile, task.busyTimeoutMs);
  try {
    db.prepare('VACUUM INTO ?').run(task.dest);
  } finally {
    db.close();
  }
  fsyncFileSync(task.dest);
  return { bytes: fs.statSync(task.dest).size };
}
