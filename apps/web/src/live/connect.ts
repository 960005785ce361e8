import { ApiContractError, parseEvent } from '@alter0/api';
import type { ApiEvent, Approval, Job, Task } from '@alter0/api';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

export interface LiveHandlers {
  onJob(job: Job): void;
  onTask(task: Task): void;
  /** An approval was raised or decided (optional: a view that shows none needs no handler). */
  onApproval?(approval: Approval): void;
  onState(state: LiveState): void;
  /** The stream came back after a break: events were missed, so lists must be refetched. */
  onReconnected(): void;
}

export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, fn: (ev: MessageEvent<string>) => void): void;
  close(): void;
}

const CLOSED = 2;
const MIN_RETRY_MS = 1_000;
const MAX_RETRY_MS = 15_000;

/**
 * One event checked against the API contract. An event that breaks it is dropped (with a warning for whoever
 * has the developer tools open): the views refetch on the next reload, so a bad event costs freshness only.
 */
function validEvent(name: string, data: string): ApiEvent | null {
  try {
    return parseEvent(name, data);
  } catch (err) {
    if (!(err instanceof ApiContractError)) throw err;
    console.warn(`alter0 console: ${err.message}`);
    return null;
  }
}

/**
 * Subscribes to GET /api/events until `signal` aborts. EventSource retries by itself while the server
 * is unreachable; when it gives up (CLOSED, e.g. the daemon answered 503 during a restart) we open a
 * new one with a capped backoff, so the console always comes back on its own.
 */
export function connectLive(
  url: string,
  handlers: LiveHandlers,
  signal: AbortSignal,
  open: (url: string) => EventSourceLike = (u) => new EventSource(u),
): void {
  let source: EventSourceLike | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let retryMs = MIN_RETRY_MS;
  let broken = false;

  const start = (): void => {
    if (signal.aborted) return;
    const es = open(url);
    source = es;
    const onUp = (): void => {
      if (source !== es) return;
      retryMs = MIN_RETRY_MS;
      handlers.onState('live');
      if (broken) {
        broken = false;
        handlers.onReconnected();
      }
    };
    es.addEventListener('open', onUp);
    es.addEventListener('hello', onUp);
    es.addEventListener('job', (ev) => {
      const e = validEvent('job', ev.data);
      if (e?.event === 'job') handlers.onJob(e.data);
    });
    es.addEventListener('task', (ev) => {
      const e = validEvent('task', ev.data);
      if (e?.event === 'task') handlers.onTask(e.data);
    });
    es.addEventListener('approval', (ev) => {
      const e = validEvent('approval', ev.data);
      if (e?.event === 'approval') handlers.onApproval?.(e.data);
    });
    es.addEventListener('error', () => {
      if (source !== es) return;
      broken = true;
      handlers.onState('reconnecting');
      if (es.readyState === CLOSED) {
        es.close();
        timer = setTimeout(start, retryMs);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
    });
  };

  signal.addEventListener(
    'abort',
    () => {
      clearTimeout(timer);
      source?.close();
      source = null;
    },
    { once: true },
  );
  handlers.onState('connecting');
  start();
}
