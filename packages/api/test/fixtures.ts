import type { Job, Task } from '../src/index.js';

/** Answers as the daemon writes them (one of each object), for the client's tests. */

export const job: Job = {
  id: 'j_01m8tf3n1x24jdhvhd98sazqt6',
  message_id: 'm_01m8tf3n1yh4tfbmcnfynjhb0z',
  task_id: 't_01m8tf3n2eafz0faptvhqgggrd',
  lane: 'interactive',
  state: 'succeeded',
  stage: null,
  attempt: 1,
  max_attempts: 3,
  timeout_s: 1800,
  content: 'hello',
  reply: 'hi',
  error: null,
  route: {
    decision: 'new',
    task_id: 't_01m8tf3n2eafz0faptvhqgggrd',
    confidence: 0.2,
    reason: 'no open tasks',
    fallback: 'no_candidates',
  },
  timings: { queue_wait_ms: 1, route_ms: 2, execute_ms: 3, close_ms: 4, total_ms: 10 },
  usage: { inputTokens: 3, outputTokens: 5 },
  permission_denials: [],
  memory: null,
  retry_of: null,
  cancel_requested: false,
  channel_id: 'http',
  user_id: 'owner',
  session_id: null,
  created_at: '2026-12-02T04:09:36.627Z',
  updated_at: '2026-12-02T04:09:37.733Z',
  started_at: '2026-12-02T04:09:36.633Z',
  replied_at: '2026-12-02T04:09:37.700Z',
  finished_at: '2026-12-02T04:09:37.733Z',
  next_run_at: null,
};

export const task: Task = {
  id: 't_01m8tf3n2eafz0faptvhqgggrd',
  title: 'hello',
  summary: '',
  state: 'open',
  executor: 'claude',
  session_id: 's-1',
  workspace: '/data/workspaces/t_01m8tf3n2eafz0faptvhqgggrd',
  created_at: '2026-12-02T04:09:36.627Z',
  updated_at: '2026-12-02T04:09:37.733Z',
  closed_at: null,
  closed_by: null,
  close_reason: null,
  close_confidence: null,
};

export interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
}

/** A fetch that answers `respond(request)` and records what was asked. */
export function stubFetch(respond: (r: Seen) => Response | Promise<Response>): {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  seen: Seen[];
} {
  const seen: Seen[] = [];
  return {
    seen,
    fetch: async (url, init) => {
      const r: Seen = {
        url,
        method: init.method ?? 'GET',
        headers: new Headers(init.headers),
        body: typeof init.body === 'string' ? init.body : null,
      };
      seen.push(r);
      return respond(r);
    },
  };
}

export const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
