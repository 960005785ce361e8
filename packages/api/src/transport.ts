import * as v from 'valibot';
import { ApiContractError, ApiRequestError, ApiUnreachableError } from './errors.js';
import { issuesOf } from './issues.js';
import { ErrorEnvelope } from './answers.js';

/** How the client talks HTTP: one request, its error envelope, its validation. */

export interface ApiClientOptions {
  /**
   * Where the daemon listens, e.g. `http://127.0.0.1:7070` (a path prefix is kept: `https://host/alter0`); in the
   * console, `''` asks the page's own origin.
   */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` (needed when the daemon listens beyond loopback). */
  token?: string | null;
  /** Defaults to the global fetch (browser, Node 22+); tests pass a stub or a hono app's `request`. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Validate every answer against its schema (default true). */
  validate?: boolean;
  /** Extra headers on every request (e.g. `x-alter0-channel`). */
  headers?: Record<string, string>;
}

export interface Outgoing {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal | undefined;
}

export interface Call<S extends v.GenericSchema> extends Outgoing {
  /** The path as docs/api.md writes it (`/api/jobs/{id}`), for error messages. */
  endpoint: string;
  schema: S;
  /** Statuses that are answers, not errors (default: any 2xx). */
  ok?: readonly number[];
}

export function createTransport(opts: ApiClientOptions) {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? ((url: string, init: RequestInit) => globalThis.fetch(url, init));
  const validate = opts.validate ?? true;

  const urlOf = (path: string, query: Outgoing['query'] = {}): string => {
    const q = new URLSearchParams();
    for (const [k, val] of Object.entries(query)) if (val !== undefined && val !== '') q.set(k, String(val));
    const qs = q.toString();
    return `${base}${path}${qs ? `?${qs}` : ''}`;
  };

  const send = async (r: Outgoing, accept: string): Promise<Response> => {
    const url = urlOf(r.path, r.query);
    const headers: Record<string, string> = { accept, ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (r.method === 'POST' || r.method === 'PATCH') headers['content-type'] = 'application/json';
    try {
      return await doFetch(url, {
        method: r.method,
        headers,
        body: r.method === 'POST' || r.method === 'PATCH' ? JSON.stringify(r.body ?? {}) : undefined,
        signal: r.signal,
      });
    } catch (err) {
      // The caller's own abort is not a connectivity problem: it surfaces as the abort it is.
      if (r.signal?.aborted) throw r.signal.reason ?? err;
      throw new ApiUnreachableError(url, { cause: err });
    }
  };

  const check = <S extends v.GenericSchema>(
    schema: S,
    value: unknown,
    endpoint: string,
    status: number,
  ): v.InferOutput<S> => {
    if (!validate) return value;
    const r = v.safeParse(schema, value);
    if (!r.success) throw new ApiContractError(endpoint, issuesOf(r.issues), status);
    return r.output;
  };

  const call = async <S extends v.GenericSchema>(c: Call<S>): Promise<{ status: number; body: v.InferOutput<S> }> => {
    const res = await send(c, 'application/json');
    const endpoint = `${c.method} ${c.endpoint}`;
    const text = await res.text();
    const isAnswer = c.ok ? c.ok.includes(res.status) : res.ok;
    if (!isAnswer) throw errorOf(endpoint, res.status, text);
    const json = parseJson(text);
    if (json === undefined) {
      throw new ApiContractError(
        endpoint,
        [{ path: '', message: `the ${res.status} answer is not JSON: ${text.slice(0, 200)}` }],
        res.status,
      );
    }
    return { status: res.status, body: check(c.schema, json, endpoint, res.status) };
  };

  return { send, check, call };
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** The error for a non-answer: the envelope's code and message when there is one, else what came back. */
export function errorOf(endpoint: string, status: number, text: string): ApiRequestError {
  const env = v.safeParse(ErrorEnvelope, parseJson(text));
  if (env.success) return new ApiRequestError(status, env.output.error.code, env.output.error.message);
  return new ApiRequestError(
    status,
    'http_error',
    `${endpoint} answered ${status} without an error envelope: ${text.slice(0, 200) || '(empty body)'}`,
  );
}
