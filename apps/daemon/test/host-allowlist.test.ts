import { afterEach, describe, expect, it } from 'vitest';
import type { ApiUnderTest } from './api-harness.js';
import { apiUnderTest, errorOf } from './api-harness.js';

let api: ApiUnderTest | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

describe('foreign Host', () => {
  it('says which host was refused and how to allow it, without listing the allowed names', async () => {
    api = apiUnderTest({ allowedHosts: new Set(['localhost', '127.0.0.1', 'secret-name.lan']) });
    const res = await api.request('/api/status', { headers: { host: 'evil.example:7070' } });
    expect(res.status).toBe(403);
    const err = await errorOf(res);
    expect(err.code).toBe('host_not_allowed');
    expect(err.message).toContain('"evil.example"');
    expect(err.message).toContain('allowed_hosts');
    expect(err.message).toContain('public_url');
    for (const allowed of ['localhost', '127.0.0.1', 'secret-name.lan']) expect(err.message).not.toContain(allowed);
  });
});
