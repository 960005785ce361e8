import { afterEach, describe, expect, it } from 'vitest';
import type { MessageDone } from '@alter0/api';
import type { LiveApi } from './live-harness.js';
import { liveApiUnderTest } from './live-harness.js';

// Invariant 12 (docs/architecture.md): on the happy path a job costs three durable commits — accepted, reply
// stored, outcome — through the real intake, worker pool and pipeline (route decision, close decision and the
// stage markers are relaxed commits).
let api: LiveApi | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

async function send(a: LiveApi, body: Record<string, unknown>): Promise<MessageDone> {
  const r = await a.post('/api/message', { wait_ms: 10_000, ...body });
  expect(r.status).toBe(200);
  return (await r.json()) as MessageDone;
}

describe('commits per job', () => {
  it('a routed message and a follow-up to its task each cost three durable commits, the closer included', async () => {
    const a = liveApiUnderTest();
    api = a;
    const counts = () => a.store.commitCounts();
    let before = counts();
    const first = await send(a, { content: 'start something' });
    // The closer's decision lands after the answer: wait for the job's outcome.
    const settled = async (id: string) => {
      for (let i = 0; i < 200 && a.store.jobs.mustGet(id).state !== 'succeeded'; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(a.store.jobs.mustGet(id).state).toBe('succeeded');
    };
    await settled(first.job_id);
    let after = counts();
    expect(after.durable - before.durable, 'durable commits of a routed job').toBe(3);
    expect(after.relaxed - before.relaxed, 'relaxed commits of a routed job').toBeGreaterThanOrEqual(4);

    before = counts();
    const second = await send(a, { content: 'go on', task_id: first.task_id });
    await settled(second.job_id);
    after = counts();
    expect(after.durable - before.durable, 'durable commits of a job with an explicit task').toBe(3);
    expect(a.store.decisions.routeForJob(second.job_id)).toBeDefined();
  });
});
