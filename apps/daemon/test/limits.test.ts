import { afterEach, describe, expect, it } from 'vitest';
import type { ApiUnderTest } from './api-harness.js';
import { apiUnderTest, errorOf } from './api-harness.js';

let api: ApiUnderTest | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

async function until(fn: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms}ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('GET /api/events', () => {
  it('caps concurrent streams with a 503 that names the limit, and frees a slot when a client leaves', async () => {
    api = apiUnderTest({ limits: { eventStreams: 3, queueDepth: 10_000 } });
    const open: Response[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api.request('/api/events');
      expect(res.status).toBe(200);
      open.push(res);
    }
    const refused = await api.request('/api/events');
    expect(refused.status).toBe(503);
    const err = await errorOf(refused);
    expect(err.code).toBe('too_many_streams');
    expect(err.message).toContain('3 event streams');
    expect(err.message).toContain('api.max_event_streams');
    await open.shift()?.body?.cancel();
    let again: Response | null = null;
    await until(async () => {
      again = await api!.request('/api/events');
      return again.status === 200;
    });
    for (const r of [...open, again as Response | null]) await r?.body?.cancel();
  });

  it('refuses cross-site and same-site fetches (Sec-Fetch-Site) and foreign origins; the console and non-browsers pass', async () => {
    api = apiUnderTest();
    for (const site of ['cross-site', 'same-site']) {
      const res = await api.request('/api/events', { headers: { 'sec-fetch-site': site } });
      expect(res.status, site).toBe(403);
      expect((await errorOf(res)).code).toBe('cross_origin');
    }
    const foreign = await api.request('/api/events', { headers: { origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    for (const headers of [
      { 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'none' },
      {},
      { origin: 'http://localhost' },
    ]) {
      const res = await api.request('/api/events', { headers });
      expect(res.status, JSON.stringify(headers)).toBe(200);
      await res.body?.cancel();
    }
  });
});

describe('state-changing routes', () => {
  it('refuse Sec-Fetch-Site: cross-site and same-site', async () => {
    api = apiUnderTest();
    for (const site of ['cross-site', 'same-site']) {
      for (const p of [
        '/api/message',
        '/api/jobs',
        '/api/jobs/j_00000000000000000000000000/cancel',
        '/api/tasks/t_00000000000000000000000000/close',
      ]) {
        const res = await api.post(p, { content: 'x' }, { 'sec-fetch-site': site });
        expect(res.status, `${site} ${p}`).toBe(403);
      }
    }
    expect(api.store.jobs.countMessages()).toBe(0);
  });
});

describe('queue depth limit', () => {
  it('refuses new messages with 429 naming queue.max_depth, and stores nothing for them', async () => {
    api = apiUnderTest({ limits: { eventStreams: 32, queueDepth: 2 } });
    expect((await api.post('/api/jobs', { content: 'one' })).status).toBe(202);
    expect((await api.post('/api/jobs', { content: 'two', lane: 'background' })).status).toBe(202);
    for (const p of ['/api/jobs', '/api/message']) {
      const res = await api.post(p, { content: 'three' });
      expect(res.status, p).toBe(429);
      const err = await errorOf(res);
      expect(err.code).toBe('queue_full');
      expect(err.message).toContain('queue.max_depth = 2');
    }
    expect(api.store.jobs.countMessages()).toBe(2);
    expect(api.store.jobs.list({}).length).toBe(2);
  });
});

describe('stored identifiers', () => {
  it('x-alter0-channel is held to the 200-character limit of channel_id, with a 400 that names the header', async () => {
    api = apiUnderTest();
    const res = await api.post('/api/jobs', { content: 'x' }, { 'x-alter0-channel': 'c'.repeat(201) });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain('x-alter0-channel header');
    expect(api.store.jobs.countMessages()).toBe(0);
    const ok = await api.post('/api/jobs', { content: 'x' }, { 'x-alter0-channel': 'c'.repeat(200) });
    expect(ok.status).toBe(202);
  });

  it('channel_id, user_id and session_id in the body are held to 200 characters', async () => {
    api = apiUnderTest();
    for (const field of ['channel_id', 'user_id', 'session_id']) {
      const res = await api.post('/api/message', { content: 'x', [field]: 'u'.repeat(201) });
      expect(res.status, field).toBe(400);
      expect((await errorOf(res)).message).toContain(field);
    }
    expect(api.store.jobs.countMessages()).toBe(0);
  });
});

describe('duration fields', () => {
  // Review defect 7: durations beyond Node's timer range made jobs fail at once; the API bounds them with a 400.
  it('refuses wait_ms and timeout_s above 7 days with a 400 naming the field and the limit, storing nothing', async () => {
    api = apiUnderTest();
    for (const body of [
      { content: 'x', wait_ms: 30 * 24 * 3600 * 1000 },
      { content: 'x', timeout_s: 30 * 24 * 3600 },
    ]) {
      const res = await api.post('/api/jobs', body);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(/(wait_ms|timeout_s) must be at most \d+ \(7 days\)/);
    }
    expect(api.store.jobs.countMessages()).toBe(0);
  });
});

describe('POST /api/jobs/{id}/retry', () => {
  // Review defect 4: two retries of one job created two jobs, both executed.
  it('is idempotent: the second request answers 200 with the first retry', async () => {
    api = apiUnderTest();
    const created = (await (await api.post('/api/jobs', { content: 'x' })).json()) as { job_id: string };
    expect((await api.post(`/api/jobs/${created.job_id}/cancel`, {})).status).toBe(200);
    const first = await api.post(`/api/jobs/${created.job_id}/retry`, {});
    expect(first.status).toBe(202);
    const a = (await first.json()) as { job_id: string; created: boolean };
    const second = await api.post(`/api/jobs/${created.job_id}/retry`, {});
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ job_id: a.job_id, created: false, retry_of: created.job_id });
    expect(api.store.jobs.list({ limit: 10 })).toHaveLength(2);
  });
});
