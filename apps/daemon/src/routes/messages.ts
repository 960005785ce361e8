import { Hono } from 'hono';
import type { JobAccepted, MessageDone, MessagePending } from '@alter0/api';
import { JobInput, MessageInput } from '@alter0/api';
import type { ApiDeps } from '../api.js';
import { parseInput, readJson } from '../inputs.js';
import { jobView } from '../views.js';
import { acceptMessage, waitForReply } from './accept.js';

/** POST /api/message (wait for the reply up to wait_ms) and POST /api/jobs (queue and answer at once). */
export function messageRoutes(deps: ApiDeps): Hono {
  const app = new Hono();

  app.post('/api/message', async (c) => {
    const body = parseInput(MessageInput, await readJson(c), 'message');
    const job = await acceptMessage(deps, c, body, 'interactive', false);
    const waitMs = Math.min(body.wait_ms ?? deps.defaults.waitMs, deps.defaults.maxWaitMs);
    const done = await waitForReply(deps, job.id, waitMs, c.req.raw.signal);
    if (!done) {
      // The caller stops waiting: from now on the job's end is announced like any job nobody waits for. Marked
      // before answering, so a job that ends right after this 202 is announced too.
      deps.store.outbox.markNotify(job.id);
      deps.announce(job.id);
    }
    const row = deps.store.jobs.mustGet(job.id);
    if (!done) return c.json({ job_id: row.id, state: row.state } satisfies MessagePending, 202);
    const v = jobView(deps.store, row);
    return c.json(
      {
        job_id: v.id,
        task_id: v.task_id,
        state: v.state,
        stage: v.stage,
        reply: v.reply,
        route: v.route,
        timings: v.timings,
        error: v.error,
      } satisfies MessageDone,
      200,
    );
  });

  app.post('/api/jobs', async (c) => {
    const body = parseInput(JobInput, await readJson(c), 'job');
    const job = await acceptMessage(deps, c, body, body.lane ?? 'interactive', true);
    return c.json({ job_id: job.id, state: 'queued' } satisfies JobAccepted, 202);
  });

  return app;
}
