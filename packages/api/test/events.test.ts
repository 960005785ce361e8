import { describe, expect, it } from 'vitest';
import { ApiContractError, createApiClient, parseEvent, readEvents } from '../src/index.js';
import { job, json, stubFetch, task } from './fixtures.js';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
}

describe('parseEvent', () => {
  it('validates hello, job and task; skips names it does not know', () => {
    expect(parseEvent('hello', '{"at":"2026-12-02T04:09:36.627Z"}')).toEqual({
      event: 'hello',
      data: { at: '2026-12-02T04:09:36.627Z' },
    });
    expect(parseEvent('job', JSON.stringify(job))).toEqual({ event: 'job', data: job });
    expect(parseEvent('task', JSON.stringify(task))).toEqual({ event: 'task', data: task });
    expect(parseEvent('something-new', '{}')).toBeNull();
  });

  it("data that is not JSON or not the event's shape is an ApiContractError naming the event and field", () => {
    expect(() => parseEvent('job', 'not json')).toThrow(ApiContractError);
    const err = (() => {
      try {
        parseEvent('task', JSON.stringify({ ...task, state: 'gone' }));
      } catch (e) {
        return e as ApiContractError;
      }
    })();
    expect(err?.endpoint).toBe('event task');
    expect(err?.issues[0]?.path).toBe('state');
  });
});

describe('readEvents', () => {
  it('parses frames split anywhere across chunks, skipping comments, CRLF line ends included', async () => {
    const wire = `event: hello\ndata: {"at":"2026-12-02T04:09:36.627Z"}\n\n: keep-alive\n\nevent: job\r\ndata: ${JSON.stringify(job)}\r\n\r\nevent: task\ndata: ${JSON.stringify(task)}\n\n`;
    const chunks = [wire.slice(0, 7), wire.slice(7, 60), wire.slice(60, 61), wire.slice(61)];
    const seen = [];
    for await (const e of readEvents(streamOf(...chunks))) seen.push(e.event);
    expect(seen).toEqual(['hello', 'job', 'task']);
  });

  it('client.events() refuses with the error envelope (e.g. 503 too_many_streams)', async () => {
    const c = createApiClient({
      baseUrl: 'http://127.0.0.1:7070',
      fetch: stubFetch(() =>
        json(503, { error: { code: 'too_many_streams', message: '32 event streams are already open' } }),
      ).fetch,
    });
    await expect(c.events().next()).rejects.toMatchObject({ status: 503, code: 'too_many_streams' });
  });

  it('client.events() yields the validated events and asks for an event stream', async () => {
    const s = stubFetch(
      () =>
        new Response(
          streamOf(
            `event: hello\ndata: {"at":"2026-12-02T04:09:36.627Z"}\n\nevent: task\ndata: ${JSON.stringify(task)}\n\n`,
          ),
          { headers: { 'content-type': 'text/event-stream' } },
        ),
    );
    const c = createApiClient({ baseUrl: 'http://127.0.0.1:7070', fetch: s.fetch });
    const seen = [];
    for await (const e of c.events()) seen.push(e);
    expect(seen).toEqual([
      { event: 'hello', data: { at: '2026-12-02T04:09:36.627Z' } },
      { event: 'task', data: task },
    ]);
    expect(s.seen[0]!.headers.get('accept')).toBe('text/event-stream');
  });
});
