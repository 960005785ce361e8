// The token path: a daemon listening beyond loopback wants `Authorization: Bearer`, which the browser's
// EventSource cannot send, so the console reads the stream over fetch.
import { describe, expect, it } from 'vitest';
import { ApiRequestError } from '@alter0/api';
import { createConsoleApi, errorMessage } from '../src/api/client.js';
import type { TokenStore } from '../src/api/token.js';
import { openFetchEventSource } from '../src/live/fetch-source.js';

function memoryToken(initial: string | null): TokenStore {
  let t = initial;
  return { get: () => t, set: (v) => (t = v) };
}

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(enc.encode(c));
      controller.close();
    },
  });
}

describe('openFetchEventSource', () => {
  it('sends the headers, fires open and events across chunk borders, then ends CLOSED with error', async () => {
    let sent: Headers | null = null;
    const fetchFn: typeof fetch = async (_url, init) => {
      sent = new Headers(init?.headers);
      return new Response(streamOf(['event: hello\ndata: {}\n\nevent: job\ndata: {"id":', '"j1"}\n\n']), {
        status: 200,
      });
    };
    const seen: string[] = [];
    const es = openFetchEventSource('/api/events', { Authorization: 'Bearer s3cret' }, fetchFn);
    const closed = new Promise<void>((resolve) => es.addEventListener('error', () => resolve()));
    for (const type of ['open', 'hello', 'job']) es.addEventListener(type, (ev) => seen.push(`${type}:${ev.data}`));
    await closed;
    expect(sent).not.toBeNull();
    expect((sent as Headers | null)?.get('authorization')).toBe('Bearer s3cret');
    expect(seen).toEqual(['open:', 'hello:{}', 'job:{"id":"j1"}']);
    expect(es.readyState).toBe(2);
  });

  it('reports the status of a refused stream', async () => {
    const statuses: number[] = [];
    const es = openFetchEventSource(
      '/api/events',
      {},
      async () => new Response('{}', { status: 401 }),
      (s) => statuses.push(s),
    );
    await new Promise<void>((resolve) => es.addEventListener('error', () => resolve()));
    expect(statuses).toEqual([401]);
  });
});

describe('createConsoleApi', () => {
  it('sends the bearer token when one is set, and reports 401 with the server message', async () => {
    const auth: (string | null)[] = [];
    let unauthorized = 0;
    const fetchFn: typeof fetch = async (_url, init) => {
      const h = new Headers(init?.headers);
      auth.push(h.get('authorization'));
      return h.get('authorization') === 'Bearer good'
        ? Response.json({ tasks: [] })
        : Response.json({ error: { code: 'unauthorized', message: 'missing or wrong bearer token' } }, { status: 401 });
    };
    const token = memoryToken(null);
    const api = createConsoleApi({ fetchFn, token, onUnauthorized: () => unauthorized++ });
    const err = await api.listTasks({ state: 'open' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiRequestError);
    expect(err).toMatchObject({ code: 'unauthorized', status: 401, message: 'missing or wrong bearer token' });
    expect(unauthorized).toBe(1);
    token.set('good');
    await expect(api.listTasks({ state: 'open' })).resolves.toEqual([]);
    expect(auth).toEqual([null, 'Bearer good']);
  });

  it('turns a network failure into a message that says what to check', async () => {
    const api = createConsoleApi({ fetchFn: async () => Promise.reject(new TypeError('Failed to fetch')) });
    const err = await api.status().catch((e: unknown) => e);
    expect(errorMessage(err)).toBe('Could not reach the alter0 daemon (/api/status): Failed to fetch. Is it running?');
  });
});
