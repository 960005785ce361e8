import { afterEach, describe, expect, it } from 'vitest';
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
import { startOpenAIFake } from '../src/openai.js';
import type { ModelFake } from '../src/server.js';
import { parseSse, postJson } from './sse.js';

let fake: ModelFake | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

const body = (stream: boolean): unknown => ({
  model: 'gpt-test',
  stream,
  input: [{ type: 'message', role: 'user', content: [] }],
});

describe('openai responses fake', () => {
  it('streams a reply as the Responses API event sequence with increasing sequence numbers', async () => {
    fake = await startOpenAIFake();
    fake.script([reply('Hello there', { chunks: 2 })]);
    const res = await postJson(`${fake.url}/v1/responses`, body(true));
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const datas = events.map((e) => JSON.parse(e.data) as { type: string; sequence_number: number });
    expect(datas.map((d) => d.sequence_number)).toEqual(datas.map((_, i) => i));
    expect(datas.every((d, i) => d.type === events[i]?.event)).toBe(true);
    const completed = datas.at(-1) as unknown as {
      response: { status: string; output: { content: { text: string }[] }[] };
    };
    expect(completed.response.status).toBe('completed');
    expect(completed.response.output[0]?.content[0]?.text).toBe('Hello there');
    expect(fake.modelCalls()[0]?.body).toEqual(body(true));
  });

  it('answers a non-streaming request with one response object', async () => {
    fake = await startOpenAIFake();
    fake.script([reply('plain')]);
    const res = await postJson(`${fake.url}/v1/responses`, body(false));
    expect(await res.json()).toMatchObject({
      object: 'response',
      status: 'completed',
      output: [{ content: [{ text: 'plain' }] }],
    });
  });

  it('refuses like the real API: 401 invalid_api_key, 429 with retry-after, overload as 503', async () => {
    fake = await startOpenAIFake();
    fake.script([unauthorized(), rateLimited(3), overloaded()]);
    const r401 = await postJson(`${fake.url}/v1/responses`, body(true));
    expect(r401.status).toBe(401);
    expect(await r401.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    const r429 = await postJson(`${fake.url}/v1/responses`, body(true));
    expect(r429.status).toBe(429);
    expect(r429.headers.get('retry-after')).toBe('3');
    expect(await r429.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    const r503 = await postJson(`${fake.url}/v1/responses`, body(true));
    expect(r503.status).toBe(503);
  });

  it('sends broken streams: malformed data, response.failed, a cut connection', async () => {
    fake = await startOpenAIFake();
    fake.script([malformed(), streamError('rate_limited'), truncated()]);
    const bad = parseSse(await (await postJson(`${fake.url}/v1/responses`, body(true))).text());
    expect((): unknown => JSON.parse(bad[1]?.data ?? '')).toThrow();
    const failed = parseSse(await (await postJson(`${fake.url}/v1/responses`, body(true))).text());
    expect(failed.map((e) => e.event)).toEqual(['response.created', 'response.failed']);
    expect(JSON.parse(failed[1]?.data ?? '{}')).toMatchObject({
      response: { status: 'failed', error: { code: 'rate_limit_exceeded' } },
    });
    const cut = await postJson(`${fake.url}/v1/responses`, body(true));
    await expect(cut.text()).rejects.toThrow();
  });

  it('holds a hang after the headers open until close() ends it', async () => {
    fake = await startOpenAIFake();
    fake.script([hang({ headers: true })]);
    const res = await postJson(`${fake.url}/v1/responses`, body(true));
    expect(res.status).toBe(200);
    const text = res.text();
    await fake.close();
    await expect(text).rejects.toThrow();
  });

  it('waitForModelCalls times out with a message saying how many arrived', async () => {
    fake = await startOpenAIFake();
    await expect(fake.waitForModelCalls(1, { timeoutMs: 50 })).rejects.toThrow(/got 0/);
  });
});
