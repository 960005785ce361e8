import type {
  Job,
  JobAccepted,
  MessageDone,
  MessageResult,
  StatusDocument,
  Task,
  TaskDetail,
  TaskFilter,
} from './types.js';
import type { TokenStore } from './token.js';

/** A failed API call: `code` is the daemon's error code (or a client-side one), `message` is shown as is. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

export interface SubmitInput {
  content: string;
  task_id?: string;
  wait_ms?: number;
}

export interface ApiClient {
  sendMessage(input: SubmitInput, signal?: AbortSignal): Promise<MessageResult>;
  submitJob(input: SubmitInput & { lane?: 'interactive' | 'background' }, signal?: AbortSignal): Promise<JobAccepted>;
  listJobs(query: { state?: string; task_id?: string; limit?: number }, signal?: AbortSignal): Promise<Job[]>;
  getJob(id: string, signal?: AbortSignal): Promise<Job>;
  cancelJob(id: string, signal?: AbortSignal): Promise<Job>;
  retryJob(id: string, signal?: AbortSignal): Promise<JobAccepted>;
  listTasks(query: { state: TaskFilter; q?: string; limit?: number }, signal?: AbortSignal): Promise<Task[]>;
  getTask(id: string, signal?: AbortSignal): Promise<TaskDetail>;
  closeTask(id: string, reason: string | undefined, signal?: AbortSignal): Promise<Task>;
  reopenTask(id: string, signal?: AbortSignal): Promise<Task>;
  getStatus(signal?: AbortSignal): Promise<StatusDocument>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Pulls `{error:{code,message}}` out of a failed response, falling back to the HTTP status line. */
async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body: unknown = JSON.parse(text);
    if (isRecord(body) && isRecord(body.error) && typeof body.error.message === 'string') {
      const code = typeof body.error.code === 'string' ? body.error.code : 'http_' + res.status;
      return new ApiError(code, res.status, body.error.message);
    }
  } catch {
    // not JSON: a proxy or a crash page; the status line below is the best we have
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(
    'http_' + res.status,
    res.status,
    `The server answered ${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ''}`,
  );
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? '?' + s : '';
}

function field<T>(body: unknown, key: string, what: string): T {
  if (!isRecord(body) || !(key in body)) {
    throw new ApiError('bad_response', 0, `The server's answer to ${what} has no "${key}" field; is the daemon the same version as the console?`);
  }
  return body[key] as T;
}

export interface ApiClientOptions {
  /** Prefix of every path; '' = same origin. */
  base?: string;
  fetchFn?: typeof fetch;
  /** Bearer token for a daemon that listens beyond loopback. */
  token?: TokenStore;
  /** Called on 401: the console asks for the token. */
  onUnauthorized?: () => void;
}

/** Headers that authenticate a request, when a token is set. */
export function authHeaders(token: TokenStore | undefined): Record<string, string> {
  const t = token?.get();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** Same-origin client for the daemon's HTTP API. `fetchFn` is injectable so tests can stub it. */
export function createApiClient(opts: ApiClientOptions = {}): ApiClient {
  const { base = '', fetchFn = (...a: Parameters<typeof fetch>) => fetch(...a), token, onUnauthorized } = opts;
  async function call(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal | undefined): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await fetchFn(base + path, {
        method,
        signal,
        headers: {
          Accept: 'application/json',
          ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}),
          ...authHeaders(token),
        },
        body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
        credentials: 'same-origin',
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new ApiError('network', 0, `Could not reach the alter0 daemon (${method} ${path}): ${e instanceof Error ? e.message : String(e)}. Is it running?`);
    }
    if (res.status === 401) onUnauthorized?.();
    if (!res.ok) throw await toApiError(res);
    const text = await res.text();
    try {
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
    } catch {
      throw new ApiError('bad_response', res.status, `The server's answer to ${method} ${path} is not JSON.`);
    }
  }

  const enc = encodeURIComponent;
  return {
    async sendMessage(input, signal) {
      const r = await call('POST', '/api/message', input, signal);
      return r.status === 202
        ? { status: 202, body: r.body as JobAccepted }
        : { status: 200, body: r.body as MessageDone };
    },
    async submitJob(input, signal) {
      return (await call('POST', '/api/jobs', input, signal)).body as JobAccepted;
    },
    async listJobs(q, signal) {
      const r = await call('GET', '/api/jobs' + query(q), undefined, signal);
      return field<Job[]>(r.body, 'jobs', 'GET /api/jobs');
    },
    async getJob(id, signal) {
      return (await call('GET', `/api/jobs/${enc(id)}`, undefined, signal)).body as Job;
    },
    async cancelJob(id, signal) {
      return (await call('POST', `/api/jobs/${enc(id)}/cancel`, {}, signal)).body as Job;
    },
    async retryJob(id, signal) {
      return (await call('POST', `/api/jobs/${enc(id)}/retry`, {}, signal)).body as JobAccepted;
    },
    async listTasks(q, signal) {
      const r = await call('GET', '/api/tasks' + query(q), undefined, signal);
      return field<Task[]>(r.body, 'tasks', 'GET /api/tasks');
    },
    async getTask(id, signal) {
      const t = (await call('GET', `/api/tasks/${enc(id)}`, undefined, signal)).body as Partial<TaskDetail> & Task;
      // Older daemons may omit a section; an empty one renders as "none" instead of crashing the view.
      return {
        ...t,
        messages: t.messages ?? [],
        jobs: t.jobs ?? [],
        decisions: { route: t.decisions?.route ?? [], close: t.decisions?.close ?? [] },
      };
    },
    async closeTask(id, reason, signal) {
      return (await call('POST', `/api/tasks/${enc(id)}/close`, reason ? { reason } : {}, signal)).body as Task;
    },
    async reopenTask(id, signal) {
      return (await call('POST', `/api/tasks/${enc(id)}/reopen`, {}, signal)).body as Task;
    },
    async getStatus(signal) {
      return (await call('GET', '/api/status', undefined, signal)).body as StatusDocument;
    },
  };
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
