import { ApiContractError, ApiUnreachableError, createApiClient } from '@alter0/api';
import type { ApiClient } from '@alter0/api';
import type { TokenStore } from './token.js';

export type { ApiClient };

export interface ConsoleApiOptions {
  /** Prefix of every path; '' = same origin (the daemon serves the console). */
  base?: string;
  fetchFn?: typeof fetch;
  /** Bearer token for a daemon that listens beyond loopback; read at every request, so a new one applies at once. */
  token?: TokenStore;
  /** Called on 401: the console asks for the token. */
  onUnauthorized?: () => void;
}

/** Headers that authenticate a request, when a token is set. */
export function authHeaders(token: TokenStore | undefined): Record<string, string> {
  const t = token?.get();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/**
 * An answer to an approval names the console as where it was given (`decided_by: console`). Only those calls carry
 * the header: on a message or job it would also become the job's channel, and the console's jobs stay `http`.
 */
const APPROVAL_DECISION = /\/api\/approvals\/[^/?]+\/(?:allow|deny)(?:\?|$)/;
const CONSOLE_CHANNEL = 'console';

/**
 * @alter0/api's client for the console: same-origin credentials, the current token on every request, and a
 * 401 reported to `onUnauthorized` (the call still fails, with the daemon's message). `fetchFn` is injectable
 * so tests can stub it.
 */
export function createConsoleApi(opts: ConsoleApiOptions = {}): ApiClient {
  const { base = '', fetchFn = (...a: Parameters<typeof fetch>) => fetch(...a), token, onUnauthorized } = opts;
  return createApiClient({
    baseUrl: base,
    fetch: async (url, init) => {
      const headers = new Headers(init.headers);
      for (const [k, v] of Object.entries(authHeaders(token))) headers.set(k, v);
      if (init.method === 'POST' && APPROVAL_DECISION.test(url)) headers.set('x-alter0-channel', CONSOLE_CHANNEL);
      const res = await fetchFn(url, { ...init, headers, credentials: 'same-origin' });
      if (res.status === 401) onUnauthorized?.();
      return res;
    },
  });
}

/** What the console shows for a failed call: the daemon's own message, or what to check when it gave none. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiUnreachableError) {
    const why = e.cause instanceof Error ? e.cause.message : String(e.cause);
    return `Could not reach the alter0 daemon (${e.url.replace(/\?.*$/, '')}): ${why}. Is it running?`;
  }
  if (e instanceof ApiContractError) return `${e.message}. Is the daemon the same version as the console?`;
  if (e instanceof Error) return e.message;
  return String(e);
}
