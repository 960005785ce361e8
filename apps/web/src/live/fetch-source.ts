import type { EventSourceLike } from './connect.js';

type Listener = (ev: MessageEvent<string>) => void;

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/**
 * Splits a text/event-stream into events (WHATWG "interpreting an event stream"): `event:` names it,
 * `data:` lines join with "\n", a blank line dispatches, `:` lines are comments (heartbeats).
 * Returns the events complete so far and the unfinished tail to prepend to the next chunk.
 */
export function parseEventStream(buffer: string): { events: { type: string; data: string }[]; rest: string } {
  const events: { type: string; data: string }[] = [];
  const normalized = buffer.replace(/\r\n?/g, '\n');
  const blocks = normalized.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let type = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ type, data: data.join('\n') });
  }
  return { events, rest };
}

/**
 * An EventSource over fetch(), for when requests must carry an Authorization header (which the
 * browser's EventSource cannot send). It does not retry by itself: it ends CLOSED and lets
 * connectLive() open a new one, exactly as with a native EventSource that gave up.
 */
export function openFetchEventSource(
  url: string,
  headers: Record<string, string>,
  fetchFn: typeof fetch = (...a) => fetch(...a),
  onStatus?: (status: number) => void,
): EventSourceLike {
  const listeners = new Map<string, Listener[]>();
  const ac = new AbortController();
  let readyState = CONNECTING;
  const fire = (type: string, data = ''): void => {
    for (const fn of listeners.get(type) ?? []) fn(new MessageEvent(type, { data }));
  };
  const fail = (): void => {
    if (readyState === CLOSED) return;
    readyState = CLOSED;
    fire('error');
  };

  void (async () => {
    try {
      const res = await fetchFn(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: ac.signal, cache: 'no-store' });
      onStatus?.(res.status);
      if (!res.ok || !res.body) return fail();
      readyState = OPEN;
      fire('open');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parsed = parseEventStream(buffer + value);
        buffer = parsed.rest;
        for (const e of parsed.events) fire(e.type, e.data);
      }
      fail();
    } catch {
      if (!ac.signal.aborted) fail();
    }
  })();

  return {
    get readyState() {
      return readyState;
    },
    addEventListener(type, fn) {
      listeners.set(type, [...(listeners.get(type) ?? []), fn]);
    },
    close() {
      readyState = CLOSED;
      ac.abort();
    },
  };
}
