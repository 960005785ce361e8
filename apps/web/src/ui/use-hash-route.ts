import { useEffect, useState } from 'react';

export type Route =
  | { page: 'tasks'; taskId: string | null }
  | { page: 'jobs'; jobId?: string }
  | { page: 'approvals' }
  | { page: 'memory' }
  | { page: 'schedules' }
  | { page: 'activity' }
  | { page: 'status' };

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'jobs') return parts[1] ? { page: 'jobs', jobId: parts[1] } : { page: 'jobs' };
  if (parts[0] === 'approvals') return { page: 'approvals' };
  if (parts[0] === 'memory') return { page: 'memory' };
  if (parts[0] === 'schedules') return { page: 'schedules' };
  if (parts[0] === 'activity') return { page: 'activity' };
  if (parts[0] === 'status') return { page: 'status' };
  return { page: 'tasks', taskId: parts[0] === 'tasks' && parts[1] ? parts[1] : null };
}

/** Where a job is shown on its own: its card, followed live (linked from the schedules page). */
export function jobHref(id: string): string {
  return `#/jobs/${encodeURIComponent(id)}`;
}

/** Hash routing: the daemon serves one static index.html, so paths after # never reach it. */
export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
