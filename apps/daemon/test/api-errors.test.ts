/**
 * Refusals of the API in-process (app.request): each status docs/api.md lists that other files do not already
 * check — 400 wording, 401, 404 for a wrong method, 413, 503 while shutting down — with the error envelope,
 * the security headers and no-store on every one. (200/202/409 per endpoint: contract.test.ts; 403 and 429:
 * limits.test.ts and host-allowlist.test.ts; 415 and headers: response-headers.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiUnderTest } from './api-harness.js';
import { apiUnderTest } from './api-harness.js';
import { expectError } from './contract-check.js';
import { Store } from '@alter0/store';

let api: ApiUnderTest | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

const raw = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });

/** Security headers on every answer; `Cache-Control: no-store` on every /api/* one. */
function expectGuarded(res: Response, what: string, apiPath = true): void {
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('content-security-policy'), what).toContain("default-src 'self'");
  if (apiPath) expect(res.headers.get('cache-control'), what).toBe('no-store');
}

describe('400 invalid_request names what is wrong', () => {
  it('for a body that is empty, not JSON, has an unknown field, or a malformed id', async () => {
    api = apiUnderTest();
    const cases: [string, Promise<Response>, string][] = [
      ['empty body', api.request('/api/message', raw('')), 'the request body is empty; send a JSON object'],
      ['not JSON', api.request('/api/jobs', raw('{"content":')), 'the request body is not valid JSON'],
      ['unknown field', api.post('/api/message', { content: 'x', priority: 9 }), 'invalid message: '],
      [
        'malformed task_id',
        api.post('/api/message', { content: 'x', task_id: 'task-1' }),
        'task_id: must be a t_ id such as t_01j…',
      ],
      [
        'content too long',
        api.post('/api/jobs', { content: 'x'.repeat(200_001) }),
        'content must be at most 200000 characters',
      ],
      ['max_attempts', api.post('/api/jobs', { content: 'x', max_attempts: 21 }), 'invalid job: max_attempts'],
      [
        'cancel with fields',
        api.post('/api/jobs/j_00000000000000000000000000/cancel', { force: true }),
        'invalid cancel request',
      ],
      [
        'close reason too long',
        api.post('/api/tasks/t_00000000000000000000000000/close', { reason: 'r'.repeat(2001) }),
        'invalid close request: reason',
      ],
      ['bad limit', api.request('/api/tasks?limit=0'), 'invalid query: limit'],
    ];
    for (const [what, pending, wording] of cases) {
      const res = await pending;
      expectGuarded(res, what);
      expect(await expectError(res, 400, 'invalid_request', what), what).toContain(wording);
    }
    expect(api.store.jobs.countMessages()).toBe(0);
  });

  it('an empty body is {} where the endpoint takes no fields (cancel, retry, reopen, close)', async () => {
    api = apiUnderTest();
    for (const p of [
      '/api/jobs/j_00000000000000000000000000/cancel',
      '/api/jobs/j_00000000000000000000000000/retry',
      '/api/tasks/t_00000000000000000000000000/reopen',
      '/api/tasks/t_00000000000000000000000000/close',
    ]) {
      await expectError(await api.request(p, raw('')), 404, 'not_found', p);
    }
  });
});

describe('404 not_found', () => {
  it('for a method the path does not have (a GET never reaches a state change), naming the method and the doc', async () => {
    api = apiUnderTest();
    const res = await api.request('/api/jobs', { method: 'DELETE' });
    expectGuarded(res, 'DELETE');
    expect(await expectError(res, 404, 'not_found', 'DELETE /api/jobs')).toBe(
      'no such endpoint: DELETE /api/jobs (see docs/api.md)',
    );
    await expectError(
      await api.request('/api/jobs/j_00000000000000000000000000/cancel'),
      404,
      'not_found',
      'GET on a POST path',
    );
  });

  it('for a message to a task that does not exist, storing nothing', async () => {
    api = apiUnderTest();
    const res = await api.post('/api/message', { content: 'x', task_id: 't_00000000000000000000000000' });
    expect(await expectError(res, 404, 'not_found', 'unknown task')).toContain('t_00000000000000000000000000');
    expect(api.store.jobs.countMessages()).toBe(0);
  });
});

describe('no CORS', () => {
  it('no answer invites another origin to read it', async () => {
    api = apiUnderTest();
    const res = await api.request('/api/jobs', { headers: { origin: 'http://localhost' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('413 too_large', () => {
  it('refuses a body over api.body_limit_bytes, naming the limit, and stores nothing', async () => {
    api = apiUnderTest({
      defaults: { waitMs: 0, maxWaitMs: 1000, bodyLimitBytes: 1024, timeoutS: 60, maxAttempts: 1 },
    });
    const res = await api.post('/api/jobs', { content: 'x'.repeat(2000) });
    expectGuarded(res, '413');
    expect(await expectError(res, 413, 'too_large', '413')).toBe(
      'request body is larger than 1024 bytes (api.body_limit_bytes)',
    );
    expect(api.store.jobs.countMessages()).toBe(0);
    expect((await api.post('/api/jobs', { content: 'x'.repeat(500) })).status).toBe(202);
  });
});

describe('401 unauthorized', () => {
  it('every /api/* and /metrics request needs the bearer token when one is set; the probes do not', async () => {
    api = apiUnderTest({
      token: 's3cret',
      metricsText: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
    });
    for (const [what, pending] of [
      ['no token', api.request('/api/status')],
      ['wrong token', api.request('/api/jobs', { headers: { authorization: 'Bearer nope' } })],
      ['POST', api.post('/api/jobs', { content: 'x' })],
      ['metrics', api.request('/metrics')],
    ] as const) {
      const res = await pending;
      expectGuarded(res, what, what !== 'metrics');
      expect(await expectError(res, 401, 'unauthorized', what)).toContain('Authorization: Bearer');
    }
    expect(api.store.jobs.countMessages()).toBe(0);
    expect((await api.request('/api/status', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await api.request('/healthz')).status).toBe(200);
    expect((await api.request('/readyz')).status).toBe(200);
  });
});

describe('a write the database refuses is a clear answer, never a 500, and keeps nothing', () => {
  it('507 storage_full when the disk is full (the database may not grow)', async () => {
    api = apiUnderTest();
    const db = api.store.opened.sqlite;
    // SQLite's own "disk full": the file may not grow past the pages it has.
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
    const before = api.store.jobs.countMessages();
    const res = await api.post('/api/message', { content: 'x'.repeat(200_000) });
    expectGuarded(res, 'disk full');
    expect(await expectError(res, 507, 'storage_full', 'disk full')).toContain('nothing of this request was kept');
    expect(api.store.jobs.countMessages()).toBe(before);
  });

  it('503 storage_busy when another program holds the database past the busy timeout', async () => {
    api = apiUnderTest();
    const holder = Store.open({ file: api.store.file });
    holder.opened.sqlite.exec('BEGIN IMMEDIATE');
    try {
      const res = await api.post('/api/message', { content: 'locked out' });
      expect(await expectError(res, 503, 'storage_busy', 'locked')).toContain('held by another program (SQLITE_BUSY)');
    } finally {
      holder.opened.sqlite.exec('ROLLBACK');
      holder.close();
    }
    expect(api.store.jobs.countMessages()).toBe(0);
  }, 30_000);
});

describe('503 unavailable while shutting down', () => {
  it('refuses every POST with 503 and stores nothing; reads keep working; /readyz says not ready', async () => {
    api = apiUnderTest({ accepting: () => false });
    for (const p of [
      '/api/message',
      '/api/jobs',
      '/api/jobs/j_00000000000000000000000000/cancel',
      '/api/tasks/t_00000000000000000000000000/close',
    ]) {
      const res = await api.post(p, { content: 'x' });
      expectGuarded(res, p);
      expect(await expectError(res, 503, 'unavailable', p)).toContain('shutting down');
    }
    expect(api.store.jobs.countMessages()).toBe(0);
    expect((await api.request('/api/jobs')).status).toBe(200);
    expect((await api.request('/readyz')).status).toBe(503);
  });
});
