import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mountConsole } from '../src/static.js';
import type { ApiUnderTest } from './api-harness.js';
import { apiUnderTest } from './api-harness.js';

let api: ApiUnderTest | null = null;
let webRoot: string | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
  if (webRoot) fs.rmSync(webRoot, { recursive: true, force: true });
  webRoot = null;
});

function expectSecurityHeaders(res: Response, what: string): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp, `${what}: Content-Security-Policy`).toContain("default-src 'self'");
  expect(csp, what).toContain("script-src 'self'");
  expect(csp, what).not.toContain('unsafe-inline');
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-frame-options'), what).toBe('DENY');
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(res.headers.get('strict-transport-security'), `${what}: HSTS is the TLS terminator's call`).toBeNull();
}

describe('security headers', () => {
  it('every API answer carries them and Cache-Control: no-store, errors and refusals included', async () => {
    api = apiUnderTest();
    const cases: [string, Promise<Response>, number][] = [
      ['GET /api/status', api.request('/api/status'), 200],
      ['GET /api/jobs/j_x (404)', api.request('/api/jobs/j_00000000000000000000000000'), 404],
      ['unknown /api path', api.request('/api/nope'), 404],
      ['bad input', api.post('/api/jobs', { content: '' }), 400],
      [
        'non-JSON post',
        api.request('/api/jobs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }),
        415,
      ],
      ['foreign Host', api.request('/api/status', { headers: { host: 'evil.example' } }), 403],
      ['cross-site post', api.post('/api/jobs', { content: 'x' }, { 'sec-fetch-site': 'cross-site' }), 403],
    ];
    for (const [what, pending, status] of cases) {
      const res = await pending;
      expect(res.status, what).toBe(status);
      expectSecurityHeaders(res, what);
      expect(res.headers.get('cache-control'), what).toBe('no-store');
    }
  });

  it("the event stream is no-store too (not the SSE helper's no-cache)", async () => {
    api = apiUnderTest();
    const res = await api.request('/api/events');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(res, 'GET /api/events');
    await res.body?.cancel();
  });

  it('the console gets the same policy, which allows what the built index.html loads', async () => {
    webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-web-'));
    fs.writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>alter0</title><div id="root"></div>');
    const root = webRoot;
    api = apiUnderTest({ staticHandler: (app) => mountConsole(app, root) });
    for (const p of ['/', '/tasks/t_x']) {
      const res = await api.request(p);
      expect(res.status, p).toBe(200);
      expectSecurityHeaders(res, `console ${p}`);
    }
    const csp = (await api.request('/')).headers.get('content-security-policy') ?? '';
    // index.html: a module script, a stylesheet and icons from this origin; the app fetches this origin.
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).toContain("connect-src 'self'");
  });

  it('the web app manifest is served as application/manifest+json and allowed by the policy, as is the worker', async () => {
    webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-web-'));
    fs.writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>alter0</title>');
    fs.writeFileSync(path.join(webRoot, 'manifest.webmanifest'), '{"name":"alter0"}');
    fs.writeFileSync(path.join(webRoot, 'sw.js'), '// caches nothing\n');
    const root = webRoot;
    api = apiUnderTest({ staticHandler: (app) => mountConsole(app, root) });
    const manifest = await api.request('/manifest.webmanifest');
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json\b/);
    await expect(manifest.json()).resolves.toEqual({ name: 'alter0' });
    expectSecurityHeaders(manifest, 'GET /manifest.webmanifest');
    const csp = (await api.request('/')).headers.get('content-security-policy') ?? '';
    expect(csp).toContain("manifest-src 'self'");
    expect(csp).toContain("worker-src 'self'");
    const worker = await api.request('/sw.js');
    expect(worker.status).toBe(200);
    expect(worker.headers.get('content-type')).toMatch(/^(text|application)\/javascript\b/);
  });
});
