import { Hono } from 'hono';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { SSEStreamingApi } from 'hono/streaming';
import type { EventName } from '@alter0/api';
import type { ApiDeps } from '../api.js';
import type { BusEvent } from '../bus.js';
import { sendError } from '../errors.js';
import { sameOrigin } from '../security.js';
import { StreamSlots } from '../stream-slots.js';
import { approvalView, jobView, taskView } from '../views.js';

/** A comment line this often keeps proxies and browsers from dropping an idle stream. */
const HEARTBEAT_MS = 15_000;

/** GET /api/events: server-sent `hello`, then `job` and `task` as they change (docs/api.md). */
export function eventRoutes(deps: ApiDeps): Hono {
  const app = new Hono();
  const slots = new StreamSlots(deps.limits.eventStreams);

  app.get('/api/events', (c) => {
    // A foreign page must not read the stream (nor hold its slots): the same rule as for state changes.
    if (!sameOrigin(c.req.header('sec-fetch-site'), c.req.header('origin'), c.req.header('host'))) {
      return sendError(
        c,
        403,
        'cross_origin',
        'cross-origin request refused: the event stream is only available to the console itself and to non-browser clients',
      );
    }
    const release = slots.take();
    if (!release) {
      return sendError(
        c,
        503,
        'too_many_streams',
        `${slots.max} event streams are already open (api.max_event_streams); close a console tab or another /api/events client, or raise api.max_event_streams`,
      );
    }
    return streamEvents(c, deps, release);
  });

  return app;
}

/**
 * One client's stream until it leaves: `hello`, then the changed jobs and tasks read after commit (a burst of
 * changes to one object is one frame), with a heartbeat comment when idle. `release` frees the stream's slot.
 */
function streamEvents(c: Context, deps: Pick<ApiDeps, 'store' | 'bus' | 'now'>, release: () => void): Response {
  return streamSSE(c, async (stream) => {
    const queue: string[] = [];
    let wake: (() => void) | null = null;
    const unsubscribe = deps.bus.subscribe((e: BusEvent) => {
      queue.push(`${e.type}:${e.id}`);
      wake?.();
    });
    let open = true;
    stream.onAbort(() => {
      open = false;
      wake?.();
    });
    try {
      await send(stream, 'hello', { at: new Date(deps.now()).toISOString() });
      while (open) {
        if (queue.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, HEARTBEAT_MS);
          });
          wake = null;
          if (queue.length === 0 && open) await stream.write(': keep-alive\n\n');
          continue;
        }
        for (const key of new Set(queue.splice(0))) await sendChange(stream, deps, key);
      }
    } finally {
      unsubscribe();
      release();
    }
  });
}

async function sendChange(stream: SSEStreamingApi, deps: Pick<ApiDeps, 'store'>, key: string): Promise<void> {
  const [type, id] = key.split(':') as [BusEvent['type'], string];
  if (type === 'job') {
    const row = deps.store.jobs.get(id);
    if (row) await send(stream, 'job', jobView(deps.store, row));
  } else if (type === 'approval') {
    const row = deps.store.approvals.get(id);
    if (row) await send(stream, 'approval', approvalView(row));
  } else {
    const row = deps.store.tasks.get(id);
    if (row) await send(stream, 'task', taskView(row));
  }
}

function send(stream: SSEStreamingApi, event: EventName, data: unknown): Promise<void> {
  return stream.writeSSE({ event, data: JSON.stringify(data) });
}
