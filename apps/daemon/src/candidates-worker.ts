import { getHeapStatistics } from 'node:v8';
import type { WorkerHeap } from '@alter0/obs';
import { Store } from '@alter0/store';
import { RANKING, scoreCandidates } from '@alter0/routing';
import { loadCandidates } from './candidate-pool.js';

/**
 * Runs on a worker thread (tinypool): ranks the open and recently closed tasks over its own read-only connection, so
 * a database with thousands of them never stalls the daemon's event loop.
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

/** The best candidates, and this thread's heap after ranking them (its isolate's, for /metrics). */
export interface RankResult {
  candidates: RankedCandidateWire[];
  heap: WorkerHeap;
}

let store: Store | null = null;
let storeFile: string | null = null;

export default function rank(task: RankTask): RankResult {
  if (store === null || storeFile !== task.dbFile) {
    store?.close();
    store = Store.open({ file: task.dbFile, readonly: true, migrate: false });
    storeFile = task.dbFile;
  }
  // Ranked as a stream of texts (each one's term counts kept, its text dropped), then only the best `limit` are
  // read whole: the thread's memory stays flat however many tasks the lookback holds.
  const texts = store.tasks.rankTexts({
    closedSince: task.closedSinceMs,
    recent: RANKING.recentMessages,
    charsEach: RANKING.recentCharsEach,
  });
  const best = scoreCandidates(task.message, texts, { now: new Date(task.nowMs), limit: task.limit });
  const candidates = loadCandidates(
    store,
    best.map((b) => b.id),
    task.perTask,
  ).map((c) => ({
    id: c.id,
    title: c.title,
    summary: c.summary,
    updatedAtMs: c.updatedAt.getTime(),
    recent: c.recent.map((r) => ({ role: r.role, content: r.content })),
    closed: c.closed === undefined ? null : { atMs: c.closed.at.getTime(), reason: c.closed.reason },
  }));
  const h = getHeapStatistics();
  return { candidates, heap: { usedBytes: h.used_heap_size, totalBytes: h.total_heap_size } };
}
