import { Store } from '@alter0/store';
import { rankCandidates } from '@alter0/routing';
import { loadCandidatePool } from './candidate-pool.js';

/**
 * Runs on a worker thread (tinypool): loads the open and recently closed tasks with their recent lines over its own
 * read-only connection and ranks them, so a database with thousands of them never stalls the daemon's event loop.
 */
export interface RankTask {
  dbFile: string;
  message: string;
  nowMs: number;
  limit: number;
  perTask: number;
  /** Tasks closed at or after this time (ms) are candidates too; null: open tasks only. */
  closedSinceMs: number | null;
}

export interface RankedCandidateWire {
  id: string;
  title: string;
  summary: string;
  updatedAtMs: number;
  recent: { role: 'user' | 'assistant' | 'system'; content: string }[];
  /** Set for a closed task: when (ms) and why it closed. */
  closed: { atMs: number; reason: string } | null;
}

let store: Store | null = null;
let storeFile: string | null = null;

export default function rank(task: RankTask): RankedCandidateWire[] {
  if (store === null || storeFile !== task.dbFile) {
    store?.close();
    store = Store.open({ file: task.dbFile, readonly: true, migrate: false });
    storeFile = task.dbFile;
  }
  const all = loadCandidatePool(store, { perTask: task.perTask, closedSince: task.closedSinceMs });
  return rankCandidates(task.message, all, { now: new Date(task.nowMs), limit: task.limit }).map((c) => ({
    id: c.id,
    title: c.title,
    summary: c.summary,
    updatedAtMs: c.updatedAt.getTime(),
    recent: c.recent.map((r) => ({ role: r.role, content: r.content })),
    closed: c.closed === undefined ? null : { atMs: c.closed.at.getTime(), reason: c.closed.reason },
  }));
}
