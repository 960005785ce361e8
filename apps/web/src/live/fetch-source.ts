import { readSseFrames } from '@alter0/api';
import type { EventSourceLike } from './connect.js';

type Listener = (ev: MessageEvent<string>) => void;

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

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
      const res = await fetchFn(url, {
        headers: { Accept: 'text/event-stream', ...headers },
        signal: ac.signal,
        cache: 'no-store',
      });
      onStatus?.(res.status);
      if (!res.ok || !res.body) return fail();
      readyState = OPEN;
      fire('open');
      // Frames are split by @alter0/api's SSE reader; connectLive validates the ones it listens to.
      for await (const frame of readSseFrames(res.body, ac.signal)) fire(frame.event, frame.data);
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
