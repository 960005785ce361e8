import { afterEach, describe, expect, it } from 'vitest';
import { ApiRequestError, createApiClient } from '@alter0/api';
import { startDaemon } from '../src/index.js';
import type { Daemon } from '../src/index.js';

const started: Daemon[] = [];
afterEach(async () => {
  for (const d of started.splice(0)) await d.cleanup();
});

// The real `alter0 serve` (apps/cli built); a cold start is seconds on a loaded machine.
describe('startDaemon', () => {
  it('hands back a typed client pointed at the daemon', async () => {
    const d = await startDaemon({ args: ['--executor', 'command', '--command', 'cat'] });
    started.push(d);
    expect(await d.client.healthz()).toEqual({ ok: true });
    const status = await d.client.status();
    expect(status.components.gateway.details.url).toBe(d.url);
    expect(await d.client.listJobs()).toEqual([]);
    await d.cleanup();
    expect(d.alive()).toBe(false);
  }, 60_000);

  it('with a token, the daemon requires it and the client sends it', async () => {
    const token = 'testkit-token-0123456789abcdefghijklmnopqrstuvwxyz';
    const d = await startDaemon({ token, args: ['--executor', 'command', '--command', 'cat'] });
    started.push(d);
    expect(await d.client.listTasks()).toEqual([]);
    const anonymous = createApiClient({ baseUrl: d.url });
    await expect(anonymous.listTasks()).rejects.toSatisfy((e) => e instanceof ApiRequestError && e.status === 401);
  }, 60_000);
});
