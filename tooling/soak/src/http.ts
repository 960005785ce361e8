import { ApiContractError, ApiRequestError, ApiUnreachableError } from '@alter0/api';
import type { ApiClient, CallOptions, Job } from '@alter0/api';

/** What the harness reads of a Job (docs/api.md). */
export interface JobView {
  id: string;
  state: Job['state'];
  task_id: string | null;
  attempt: number;
  max_attempts: number;
  timeout_s: number;
  error_class: string | null;
  retry_of: string | null;
}

export const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export function viewOf(j: Job): JobView {
  return {
    id: j.id,
    state: j.state,
    task_id: j.task_id,
    attempt: j.attempt,
    max_attempts: j.max_attempts,
    timeout_s: j.timeout_s,
    error_class: j.error?.class ?? null,
    retry_of: j.retry_of,
  };
}

/**
 * What one request came to when the daemon answered: the validated answer, a refusal (an error envelope), or an
 * answer that does not match the contract (a drift, already reported through `onDrift`).
 */
export type Answer<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'refused'; status: number; code: string }
  | { kind: 'drift'; status: number | null; error: ApiContractError };

/** No answer at all: the daemon is down, restarting or was killed mid-request, or the request timed out. */
export class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
}

/** The daemon's answer as text, for messages: its status, or what broke the contract. */
export function describe(a: Exclude<Answer<unknown>, { kind: 'ok' }>): string {
  return a.kind === 'refused'
    ? `${a.status} (${a.code})`
    : `${a.status ?? '?'} with an answer that breaks the contract`;
}

/**
 * The daemon's API through @alter0/api's client (which validates every answer), for a daemon that is killed on
 * purpose: every request has a time bound and the run's signal; no answer throws NoAnswerError (the callers count
 * it as a connection error, as a fetch that fails); a contract drift is reported and returned, never thrown.
 */
export class Api {
  constructor(
    /** The current daemon's client; null between a kill and the next start. */
    private readonly client: () => ApiClient | null,
    private readonly signal: AbortSignal,
    private readonly onDrift: (e: ApiContractError) => void,
  ) {}

  async call<T>(fn: (c: ApiClient, o: CallOptions) => Promise<T>, timeoutMs = 15_000): Promise<Answer<T>> {
    const c = this.client();
    if (c === null) throw new NoAnswerError('no daemon is running');
    const signal = AbortSignal.any([this.signal, AbortSignal.timeout(timeoutMs)]);
    try {
      return { kind: 'ok', value: await fn(c, { signal }) };
    } catch (e) {
      if (e instanceof ApiRequestError) return { kind: 'refused', status: e.status, code: e.code };
      if (e instanceof ApiContractError) {
        this.onDrift(e);
        return { kind: 'drift', status: e.status, error: e };
      }
      // The run's own end surfaces as itself; anything else here is a request that got no answer.
      if (this.signal.aborted) throw e;
      if (e instanceof ApiUnreachableError) throw new NoAnswerError(e.message, { cause: e });
      if (signal.aborted) throw new NoAnswerError(`no answer within ${timeoutMs} ms`, { cause: e });
      throw e;
    }
  }

  /** GET /metrics (Prometheus text, outside the JSON contract); null when it does not answer 200. */
  async metrics(url: string, timeoutMs = 15_000): Promise<string | null> {
    try {
      const res = await fetch(`${url}/metrics`, {
        signal: AbortSignal.any([this.signal, AbortSignal.timeout(timeoutMs)]),
      });
      const text = await res.text();
      return res.status === 200 ? text : null;
    } catch (e) {
      if (this.signal.aborted) throw e;
      throw new NoAnswerError(`GET /metrics: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}
