import { afterEach, describe, expect, it } from 'vitest';
import { startAnthropicFake } from '../src/anthropic.js';
import {
  hang,
  malformed,
  overloaded,
  rateLimited,
  reply,
  streamError,
  truncated,
  unauthorized,
} from '../src/behaviour.js';
import type { ModelFake } from '../src/server.js';
import { parseSse, postJson } from './sse.js';

let fake: ModelFake | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

const body = (stream: boolean): unknown => ({
  model: 'claude-test',
  max_tokens: 100,
  stream,
  messages: [{ role: 'user', content: 'hi' }],
});

describe('anthropic fake', () => {
  it('streams a reply as the Messages API event sequence and records the parsed request', async () => {
    fake = await startAnthropicFake();
    fake.script([reply('Hello there, friend', { chunks: 3 })]);
    const res = await postJson(`${fake.url}/v1/messages?beta=true`, body(true));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const events = parseSse(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const text = events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (JSON.parse(e.data) as { delta: { text: string } }).delta.text)
      .join('');
    expect(text).toBe('Hello there, friend');
    const start = JSON.parse(events[0]?.data ?? '{}') as { message: { model: string } };
    expect(start.message.model).toBe('claude-test');
    expect(fake.modelCalls()).toHaveLength(1);
    expect(fake.requests[0]?.query).toBe('beta=true');
    expect(fake.requests[0]?.body).toEqual(body(true));
  });

  it('answers a non-streaming request with one message object', async () => {
    fake = await startAnthropicFake();
    fake.script([reply('plain')]);
    const res = await postJson(`${fake.url}/v1/messages`, body(false));
    const msg = (await res.json()) as { type: string; content: { text: string }[]; stop_reason: string };
    expect(msg.type).toBe('message');
    expect(msg.content[0]?.text).toBe('plain');
    expect(msg.stop_reason).toBe('end_turn');
  });

  it('refuses like the real API: 401, 429 with retry-after, 529 overloaded', async () => {
    fake = await startAnthropicFake();
    fake.script([unauthorized(), rateLimited(7), overloaded()]);
    const r401 = await postJson(`${fake.url}/v1/messages`, body(true));
    expect(r401.status).toBe(401);
    expect(await r401.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const r429 = await postJson(`${fake.url}/v1/messages`, body(true));
    expect(r429.status).toBe(429);
    expect(r429.headers.get('retry-after')).toBe('7');
    expect(await r429.json()).toMatchObject({ error: { type: 'rate_limit_error' } });
    const r529 = await postJson(`${fake.url}/v1/messages`, body(true));
    expect(r529.status).toBe(529);
    expect(await r529.json()).toMatchObject({ error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  it('sends broken streams: malformed data, an in-stream error, a cut connection', async () => {
    fake = await startAnthropicFake();
    fake.script([malformed(), streamError('overloaded'), truncated()]);
    const bad = parseSse(await (await postJson(`${fake.url}/v1/messages`, body(true))).text());
    expect((): unknown => JSON.parse(bad[1]?.data ?? '')).toThrow();
    const err = parseSse(await (await postJson(`${fake.url}/v1/messages`, body(true))).text());
    expect(err.map((e) => e.event)).toEqual(['message_start', 'error']);
    const cut = await postJson(`${fake.url}/v1/messages`, body(true));
    await expect(cut.text()).rejects.toThrow();
  });

  it('refuses with a 400 naming the problem when the script is used up', async () => {
    fake = await startAnthropicFake();
    const res = await postJson(`${fake.url}/v1/messages`, body(true));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringMatching(/no scripted behaviour left/) },
    });
  });

  it('counts tokens and answers unknown paths with 404 without consuming the script', async () => {
    fake = await startAnthropicFake();
    fake.script([reply('kept')]);
    const count = await postJson(`${fake.url}/v1/messages/count_tokens`, body(false));
    expect(await count.json()).toMatchObject({ input_tokens: expect.any(Number) });
    const unknown = await fetch(`${fake.url}/v1/nothing`);
    expect(unknown.status).toBe(404);
    expect(fake.pending()).toBe(1);
    expect(fake.modelCalls()).toHaveLength(0);
    expect(fake.requests).toHaveLength(2);
  });

  it('holds a hanging answer open until close() ends it', async () => {
    fake = await startAnthropicFake();
    fake.script([hang()]);
    const pending = postJson(`${fake.url}/v1/messages`, body(true));
    await fake.waitForModelCalls(1, { timeoutMs: 5_000 });
    const started = Date.now();
    await fake.close();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('delays a reply by delayMs', async () => {
    fake = await startAnthropicFake();
    fake.script([reply('late', { delayMs: 300 })]);
    const started = Date.now();
    await (await postJson(`${fake.url}/v1/messages`, body(false))).json();
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('closes when its signal aborts', async () => {
    const ac = new AbortController();
    fake = await startAnthropicFake({ signal: ac.signal });
    const url = fake.url;
    ac.abort();
    await fake.close();
    await expect(fetch(`${url}/v1/messages`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});
