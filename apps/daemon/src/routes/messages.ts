import { Hono } from 'hono';
import { errorMessage } from '@alter0/core';
import type { JobAccepted, MessageDone, MessagePending } from '@alter0/api';
import { JobInput, MessageInput } from '@alter0/api';
import type { ApiDeps } from '../api.js';
import { parseInput, readJson } from '../inputs.js';
import { jobView } from '../views.js';
import { acceptMessage, waitForReply } from './accept.js';

/**
 * The caller of a sync request stopped waiting: the job's end is announced from now on. A database that refuses
 * the mark leaves it unannounced (logged): the caller has its 202 and the job id either way.
 */
function markUnwaited(deps: ApiDeps, jobId: string): void {
  try {
    deps.store.outbox.markNotify(jobId);
    deps.announce(jobId);
  } catch (err) {
    deps.logger.child({ job_id: jobId }).warn('could not mark the job to be announced', { err: errorMessage(err) });
  }
}

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
      markUnwaited(deps, job.id);
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
