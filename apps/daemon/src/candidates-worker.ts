import { Store } from '@alter0/store';
import { rankCandidates } from '@alter0/routing';
import type { CandidateTask } from '@alter0/routing';

/**
 * Runs on a worker thread (tinypool): loads the open tasks with their recent lines over its own read-only
 * connection and ranks them, so a database with thousands of open tasks never stalls the daemon's event loop.
 */
export interface RankTask {
  dbFile: string;
  message: string;
  nowMs: number;
  limit: number;
  perTask: number;
}

export interface RankedCandidateWire {
  id: string;
  title: string;
  summary: string;
  updatedAtMs: number;
  recent: { role: 'user' | 'assistant' | 'system'; content: string }[];
}

let store: Store | null = null;
let storeFile: string | null = null;

export default function rank(task: RankTask): RankedCandidateWire[] {
  if (store === null || storeFile !== task.dbFile) {
    store?.close();
    store = Store.open({ file: task.dbFile, readonly: true, migrate: false });
    storeFile = task.dbFile;
  }
  const open = store.tasks.open();
  const recent = store.tasks.recentMessages(
    open.map((t) => t.id),
    task.perTask,
  );
  const all: CandidateTask[] = open.map((t) => ({
    id: t.id,
    title: t.title,
    summary: t.summary,
    updatedAt: new Date(t.updatedAt),
    recent: (recent.get(t.id) ?? []).map((m) => ({ role: m.role, content: m.content })),
  }));
  return rankCandidates(task.message, all, { now: new Date(task.nowMs), limit: task.limit }).map((c) => ({
    id: c.id,
    title: c.title,
    summary: c.summary,
    updatedAtMs: c.updatedAt.getTime(),
    recent: c.recent.map((r) => ({ role: r.role, content: r.content })),
  }));
}
