import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApiContractError, ApiRequestError, ApiUnreachableError, createApiClient } from '../src/index.js';
import { job, json, stubFetch, task } from './fixtures.js';

const BASE = 'http://127.0.0.1:7070';

describe('createApiClient', () => {
  it('sends JSON with the token and the path of each method, and returns the validated answer', async () => {
    const s = stubFetch(() => json(200, job));
    const c = createApiClient({
      baseUrl: `${BASE}/`,
      token: 'tok',
      fetch: s.fetch,
      headers: { 'x-alter0-channel': 'cli' },
    });
    expect(await c.getJob(job.id)).toEqual(job);
    expect(await c.cancelJob(job.id)).toEqual(job);
    expect(s.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${BASE}/api/jobs/${job.id}`,
      `POST ${BASE}/api/jobs/${job.id}/cancel`,
    ]);
    const post = s.seen[1]!;
    expect(post.headers.get('authorization')).toBe('Bearer tok');
    expect(post.headers.get('content-type')).toBe('application/json');
    expect(post.headers.get('x-alter0-channel')).toBe('cli');
    expect(post.body).toBe('{}');
  });

  it('puts filters in the query, limit as a string, and leaves out what is unset', async () => {
    const s = stubFetch(() => json(200, { jobs: [job] }));
    const c = createApiClient({ baseUrl: BASE, fetch: s.fetch });
    expect(await c.listJobs({ state: 'succeeded', limit: 5, task_id: undefined })).toEqual([job]);
    expect(s.seen[0]!.url).toBe(`${BASE}/api/jobs?state=succeeded&limit=5`);
  });

  it('tells 200 from 202 for a message and created from found for a retry', async () => {
    const pending = { job_id: job.id, state: 'queued' };
    let answer = json(202, pending);
    const c = createApiClient({ baseUrl: BASE, fetch: stubFetch(() => answer).fetch });
    expect(await c.sendMessage({ content: 'hi', wait_ms: 0 })).toEqual({ status: 202, body: pending });
    const done = {
      job_id: job.id,
      task_id: job.task_id,
      state: 'succeeded',
      stage: null,
      reply: 'hi',
      route: job.route,
      timings: job.timings,
      error: null,
    };
    answer = json(200, done);
    expect(await c.sendMessage({ content: 'hi' })).toEqual({ status: 200, body: done });
    answer = json(200, { job_id: job.id, state: 'queued', retry_of: 'j_01m8tf3n1x24jdhvhd98sazqt7', created: false });
    expect((await c.retryJob('j_01m8tf3n1x24jdhvhd98sazqt7')).created).toBe(false);
  });

  it('readyz: 503 is an answer, not an error', async () => {
    const c = createApiClient({
      baseUrl: BASE,
      fetch: stubFetch(() => json(503, { ready: false, error: { code: 'unavailable', message: 'shutting down' } }))
        .fetch,
    });
    expect(await c.readyz()).toEqual({
      status: 503,
      body: { ready: false, error: { code: 'unavailable', message: 'shutting down' } },
    });
  });

  it('an error envelope is an ApiRequestError with status, code and message', async () => {
    const c = createApiClient({
      baseUrl: BASE,
      fetch: stubFetch(() => json(409, { error: { code: 'conflict', message: 'task t_x is already closed' } })).fetch,
    });
    const err = await c.closeTask(task.id, { reason: 'done' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiRequestError);
    expect(err).toMatchObject({ status: 409, code: 'conflict', message: 'task t_x is already closed' });
  });

  it('an error without an envelope (a proxy page) still says which endpoint and status', async () => {
    const c = createApiClient({
      baseUrl: BASE,
      fetch: stubFetch(() => new Response('<html>bad gateway</html>', { status: 502 })).fetch,
    });
    const err = (await c.status().catch((e: unknown) => e)) as ApiRequestError;
    expect(err).toBeInstanceOf(ApiRequestError);
    expect(err.code).toBe('http_error');
    expect(err.message).toContain('GET /api/status answered 502');
  });

  it('an answer that breaks the contract is an ApiContractError naming the endpoint and the field', async () => {
    const broken = { ...job, state: 'exploded', timings: { ...job.timings, total_ms: 'ten' } };
    const c = createApiClient({ baseUrl: BASE, fetch: stubFetch(() => json(200, broken)).fetch });
    const err = (await c.getJob(job.id).catch((e: unknown) => e)) as ApiContractError;
    expect(err).toBeInstanceOf(ApiContractError);
    expect(err.endpoint).toBe('GET /api/jobs/{id}');
    expect(err.issues.map((i) => i.path)).toEqual(['state', 'timings.total_ms']);
    expect(err.message).toContain('GET /api/jobs/{id}');
    // validate: false hands the answer over as it came.
    const lax = createApiClient({ baseUrl: BASE, validate: false, fetch: stubFetch(() => json(200, broken)).fetch });
    expect(await lax.getJob(job.id)).toEqual(broken);
  });

  it('a daemon that is not there is an ApiUnreachableError that says what to do', async () => {
    // A port that was just free: nothing listens on it.
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const c = createApiClient({ baseUrl: `http://127.0.0.1:${port}` });
    const err = (await c.healthz().catch((e: unknown) => e)) as ApiUnreachableError;
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect(err.message).toContain(`cannot reach alter0 at http://127.0.0.1:${port}/healthz`);
    expect(err.message).toContain('is `alter0 serve` running at');
  });

  it("a relative base (the console's same-origin '') asks relative paths, and unreachable still explains itself", async () => {
    const s = stubFetch(() => json(200, { ok: true }));
    expect(await createApiClient({ baseUrl: '', fetch: s.fetch }).healthz()).toEqual({ ok: true });
    expect(s.seen[0]!.url).toBe('/healthz');
    const down = createApiClient({ baseUrl: '', fetch: () => Promise.reject(new TypeError('Failed to fetch')) });
    const err = (await down.status().catch((e: unknown) => e)) as ApiUnreachableError;
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect(err.message).toContain('cannot reach alter0 at /api/status (Failed to fetch)');
  });

  it('an abort by the caller surfaces as the abort, not as unreachable', async () => {
    const ctl = new AbortController();
    const c = createApiClient({
      baseUrl: BASE,
      fetch: (_url, init) =>
        new Promise((_, reject) =>
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
        ),
    });
    const pending = c.listTasks({}, { signal: ctl.signal }).catch((e: unknown) => e);
    ctl.abort(new Error('user left'));
    expect(await pending).toEqual(new Error('user left'));
  });

  it('works against a real server on 127.0.0.1 with the global fetch', async () => {
    const server = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url === '/api/tasks?state=all' ? { tasks: [task] } : { ok: true }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = createApiClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      expect(await c.listTasks({ state: 'all' })).toEqual([task]);
      expect(await c.healthz()).toEqual({ ok: true });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
