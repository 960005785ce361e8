import type { Store, TaskRow } from '@alter0/store';
import type { CandidateTask } from '@alter0/routing';

/** What the router may choose from: the open tasks, and the tasks closed at or after `closedSince` (ms; null: none). */
interface PoolQuery {
  perTask: number;
  closedSince: number | null;
}

/**
 * Reads the candidate pool (a few small indexed queries): every open task and every task closed since the cut-off,
 * each with its last `perTask` lines; a closed one is marked with when and why it closed. Shared by the inline path
 * and the candidates worker, so both offer the same pool.
 */
export function loadCandidatePool(store: Store, q: PoolQuery): CandidateTask[] {
  const rows: TaskRow[] = [
    ...store.tasks.open(),
    ...(q.closedSince === null ? [] : store.tasks.closedSince(q.closedSince)),
  ];
  return candidatesOf(store, rows, q.perTask);
}

/** The tasks `ids` as candidates, in that order (a task gone since is left out). */
export function loadCandidates(store: Store, ids: readonly string[], perTask: number): CandidateTask[] {
  return candidatesOf(
    store,
    ids.flatMap((id) => store.tasks.get(id) ?? []),
    perTask,
  );
}

function candidatesOf(store: Store, rows: readonly TaskRow[], perTask: number): CandidateTask[] {
  const recent = store.tasks.recentMessages(
    rows.map((t) => t.id),
    perTask,
  );
  return rows.map((t) => ({
    id: t.id,
    title: t.title,
    summary: t.summary,
    updatedAt: new Date(t.updatedAt),
    recent: (recent.get(t.id) ?? []).map((m) => ({ role: m.role, content: m.content })),
    ...(t.state === 'closed'
      ? { closed: { at: new Date(t.closedAt ?? t.updatedAt), reason: t.closeReason ?? '' } }
      : {}),
  }));
}

/** How many tasks the pool holds, without reading them (decides inline or worker). */
export function candidatePoolSize(store: Store, q: Pick<PoolQuery, 'closedSince'>): number {
  return store.tasks.countByState().open + (q.closedSince === null ? 0 : store.tasks.countClosedSince(q.closedSince));
}
