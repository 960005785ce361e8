import * as v from 'valibot';
import { timestamp } from './fields.js';
import { Job, Task } from './objects.js';
import { Approval } from './approvals.js';
import { ApiContractError } from './errors.js';
import { issuesOf } from './issues.js';

/**
 * GET /api/events (server-sent events): `hello` on connect, then `job`, `task` and `approval` whenever one changed, with the
 * object as it is after the commit. Lines starting with `:` are heartbeats. `parseEvent` validates one event; it
 * works with a browser `EventSource` (`parseEvent(e.type, e.data)`) and with `readEvents` over a fetch stream.
 */

export const HelloEvent = v.object({ at: timestamp });

export const EventSchemas = { hello: HelloEvent, job: Job, task: Task, approval: Approval } as const;
export type EventName = keyof typeof EventSchemas;
export const EVENT_NAMES = Object.keys(EventSchemas) as EventName[];

export type ApiEvent =
  | { event: 'hello'; data: v.InferOutput<typeof HelloEvent> }
  | { event: 'job'; data: Job }
  | { event: 'task'; data: Task }
  | { event: 'approval'; data: Approval };

const isEventName = (name: string): name is EventName => Object.hasOwn(EventSchemas, name);

/**
 * One event of the stream, validated. An unknown event name is null (a newer daemon may add events; skip them);
 * data that is not JSON or does not match the event's schema is an ApiContractError.
 */
export function parseEvent(name: string, data: string): ApiEvent | null {
  if (!isEventName(name)) return null;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (err) {
    throw new ApiContractError(`event ${name}`, [{ path: '', message: `data is not JSON: ${(err as Error).message}` }]);
  }
  const r = v.safeParse(EventSchemas[name], json);
  if (!r.success) throw new ApiContractError(`event ${name}`, issuesOf(r.issues));
  return { event: name, data: r.output } as ApiEvent;
}

/** A raw server-sent event: its name (`message` when the frame names none) and its data lines joined. */
export interface SseFrame {
  event: string;
  data: string;
}

/** Splits an SSE byte stream into frames (the WHATWG rules we need: `event:`, `data:`, comments, blank line ends). */
export async function* readSseFrames(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseFrame> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const onAbort = (): void => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  let buffer = '';
  let event = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r\n|\r|\n/)) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const raw = colon === -1 ? '' : line.slice(colon + 1);
        const val = raw.startsWith(' ') ? raw.slice(1) : raw;
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // A consumer that stops early closes the stream (after the end this does nothing).
    await reader.cancel().catch(() => undefined);
  }
}

/** The validated events of an `/api/events` answer body (unknown event names skipped). */
export async function* readEvents(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<ApiEvent> {
  for await (const frame of readSseFrames(body, signal)) {
    const e = parseEvent(frame.event, frame.data);
    if (e) yield e;
  }
}
