// The worker of tooling/bench/ranking-bench.ts: the router's candidate ranking as the daemon's candidates worker ran
// it before (every candidate task with its last messages in memory at once, then rankCandidates) and as it runs now
// (TasksRepo.rankTexts streamed into scoreCandidates), over a read-only connection, run by tinypool.
import v8 from 'node:v8';
import { RANKING, rankCandidates, scoreCandidates } from '@alter0/routing';
import type { CandidateTask } from '@alter0/routing';
import { Store } from '@alter0/store';

export type Method = 'whole' | 'stream';
export interface Call {
  file: string;
  method: Method;
  message: string;
  limit: number;
  nowMs: number;
}
export interface Result {
  best: string[];
  /** This thread's V8 heap after the call: committed, and in use (garbage not yet collected included). */
  heapTotalMiB: number;
  heapUsedMiB: number;
}

const DAY = 86_400_000;
let store: Store | null = null;

function whole(s: Store, c: Call): string[] {
  const rows = [...s.tasks.open(), ...s.tasks.closedSince(c.nowMs - 7 * DAY)];
  const recent = s.tasks.recentMessages(
    rows.map((t) => t.id),
    RANKING.recentMessages,
  );
  const all = rows.map((t): CandidateTask => ({
    id: t.id,
    title: t.title,
    summary: t.summary,
    updatedAt: new Date(t.updatedAt),
    recent: (recent.get(t.id) ?? []).map((m) => ({ role: m.role, content: m.content })),
    ...(t.state === 'closed'
      ? { closed: { at: new Date(t.closedAt ?? t.updatedAt), reason: t.closeReason ?? '' } }
      : {}),
  }));
  return rankCandidates(c.message, all, { now: new Date(c.nowMs), limit: c.limit }).map((r) => r.id);
}

function stream(s: Store, c: Call): string[] {
  const texts = s.tasks.rankTexts({
    closedSince: c.nowMs - 7 * DAY,
    recent: RANKING.recentMessages,
    charsEach: RANKING.recentCharsEach,
  });
  return scoreCandidates(c.message, texts, { now: new Date(c.nowMs), limit: c.limit }).map((r) => r.id);
}

export default function rank(c: Call): Result {
  store ??= Store.open({ file: c.file, readonly: true, migrate: false });
  const best = c.method === 'whole' ? whole(store, c) : stream(store, c);
  const h = v8.getHeapStatistics();
  return { best, heapTotalMiB: h.total_heap_size / 2 ** 20, heapUsedMiB: h.used_heap_size / 2 ** 20 };
}
