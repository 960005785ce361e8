import type { WorkerResults, WorkerTask } from './protocol.js';
import { copyDatabase } from './ops/copy.js';
import { checkFile } from './ops/check.js';
import { verifyDatabase } from './ops/verify.js';
import { cleanupDatabase } from './ops/cleanup.js';
import { checkpoint } from './ops/checkpoint.js';
import { statsRollup } from './ops/stats.js';

/**
 * Entry of the tinypool worker thread. better-sqlite3 is synchronous: the slow database work runs here, on its
 * own connection, so the daemon's event loop keeps answering meanwhile.
 */
export default function run(task: WorkerTask): WorkerResults[WorkerTask['op']] {
  switch (task.op) {
    case 'copy':
      return copyDatabase(task);
    case 'check':
      return checkFile(task);
    case 'verify':
      return verifyDatabase(task);
    case 'cleanup':
      return cleanupDatabase(task);
    case 'checkpoint':
      return checkpoint(task);
    case 'stats_rollup':
      return statsRollup(task);
  }
}
