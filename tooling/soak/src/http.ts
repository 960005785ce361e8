/** What the harness reads of a Job (docs/api.md). */
export interface JobView {
  id: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
  task_id: string | null;
  attempt: number;
  max_attempts: number;
  timeout_s: number;
  error_class: string | null;
  retry_of: string | null;
}

export const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export interface Answer {
  status: number;
  body: unknown;
}

/** A JSON client for the daemon on 127.0.0.1; every request has a time bound and the run's signal. */
export class Api {
  constructor(
    private readonly base: () => string,
    private readonly signal: AbortSignal,
  ) {}

  async call(method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<Answer> {
    const res = await fetch(this.base() + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any([this.signal, AbortSignal.timeout(timeoutMs)]),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  }
}

function rec(x: unknown): Record<string, unknown> | null {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
}

export function field(x: unknown, key: string): unknown {
  return rec(x)?.[key];
}

export function str(x: unknown): string | null {
  return typeof x === 'string' ? x : null;
}

export function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

export function asJob(x: unknown): JobView | null {
  const r = rec(x);
  const id = str(r?.id);
  const state = str(r?.state);
  if (r === null || id === null || state === null || !['queued', 'running', 'succeeded', 'failed', 'canceled'].includes(state)) return null;
  return {
    id,
    state: state as JobView['state'],
    task_id: str(r.task_id),
    attempt: num(r.attempt) ?? 0,
    max_attempts: num(r.max_attempts) ?? 0,
    timeout_s: num(r.timeout_s) ?? 0,
    error_class: str(field(r.error, 'class')),
    retry_of: str(r.retry_of),
  };
}

export function asJobs(x: unknown): JobView[] {
  const list = field(x, 'jobs');
  if (!Array.isArray(list)) return [];
  return list.map(asJob).filter((j): j is JobView => j !== null);
}
