import { useCallback, useEffect, useRef } from 'react';
import type { Approval } from '@alter0/api';
import { useApp } from '../app-context.js';
import { useLoad, type Loaded } from '../ui/use-load.js';

/** Which approvals a view keeps: the waiting ones only (the top bar's count) or all of them (the approvals page). */
export type ApprovalScope = 'pending' | 'all';

/**
 * Approvals carry no updated_at, but they change only once: pending, then decided for good. So a decided copy always
 * wins over a pending one, and a slow list that still says pending never brings a decided approval back.
 */
export function newerApproval(a: Approval | null | undefined, b: Approval): Approval {
  if (!a || a.id !== b.id) return b;
  return a.state !== 'pending' && b.state === 'pending' ? a : b;
}

const MAX_REMEMBERED = 500;

/** A live approval event applied to a list: a known one replaced, a new one added; the pending scope keeps pending ones only. */
export function applyApprovalEvent(list: Approval[], event: Approval, scope: ApprovalScope): Approval[] {
  const known = list.find((a) => a.id === event.id);
  const next = newerApproval(known, event);
  const rest = known ? list.map((a) => (a.id === next.id ? next : a)) : [next, ...list];
  return scope === 'pending' ? rest.filter((a) => a.state === 'pending') : rest;
}

/**
 * Approvals fetched once (again on refresh and after a live reconnect) and then kept current by `approval` events.
 * 'all' asks for the pending ones too: the daemon's full list holds only the latest 100, and no waiting one may be
 * missing from the page.
 */
export function useLiveApprovals(scope: ApprovalScope): Loaded<Approval[]> & { apply(a: Approval): void } {
  const { api, bus } = useApp();
  const load = useCallback(
    async (signal: AbortSignal): Promise<Approval[]> => {
      if (scope === 'pending') return api.listApprovals({ state: 'pending' }, { signal });
      const [pending, all] = await Promise.all([
        api.listApprovals({ state: 'pending' }, { signal }),
        api.listApprovals({ state: 'all' }, { signal }),
      ]);
      const byId = new Map(all.map((a) => [a.id, a]));
      for (const a of pending) byId.set(a.id, newerApproval(byId.get(a.id), a));
      return [...byId.values()];
    },
    [api, scope],
  );
  // Decisions seen live, even before the first list arrived: a list that was read before one of them never undoes it.
  const decided = useRef(new Map<string, Approval>());
  const merge = useCallback(
    (prev: Approval[] | null, next: Approval[]): Approval[] => {
      const known = new Map((prev ?? []).map((a) => [a.id, a]));
      const merged = next.map((a) => newerApproval(decided.current.get(a.id) ?? known.get(a.id), a));
      return scope === 'pending' ? merged.filter((a) => a.state === 'pending') : merged;
    },
    [scope],
  );
  const loaded = useLoad(load, merge);
  const { setData } = loaded;
  const apply = useCallback(
    (a: Approval) => {
      if (a.state !== 'pending') {
        decided.current.set(a.id, a);
        // A console left open for weeks sees many: remember the recent ones (a Map keeps insertion order).
        if (decided.current.size > MAX_REMEMBERED) {
          const oldest = decided.current.keys().next();
          if (!oldest.done) decided.current.delete(oldest.value);
        }
      }
      setData((list) => (list ? applyApprovalEvent(list, a, scope) : list));
    },
    [setData, scope],
  );
  useEffect(() => bus.onApproval(apply), [bus, apply]);
  return { ...loaded, apply };
}
