import { Hono } from 'hono';
import type { JobList, RetryAnswer } from '@alter0/api';
import { EmptyInput, JobsQuery } from '@alter0/api';
import type { ApiDeps } from '../api.js';
import { parseInput, readJson } from '../inputs.js';
import { jobView } from '../views.js';
import { cancelJob, retryJob } from '../job-actions.js';

/** GET /api/jobs, GET /api/jobs/{id}, POST /api/jobs/{id}/cancel and /retry. */
export function jobRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const app = new Hono();

  app.get('/api/jobs', (c) => {
    const q = parseInput(JobsQuery, c.req.query(), 'query');
    const rows = store.jobs.list({ state: q.state, taskId: q.task_id, limit: q.limit });
    return c.json({ jobs: rows.map((r) => jobView(store, r)) } satisfies JobList);
  });

  app.get('/api/jobs/:id', (c) => c.json(jobView(store, store.jobs.mustGet(c.req.param('id')))));

  app.post('/api/jobs/:id/cancel', async (c) => {
    parseInput(EmptyInput, await readJson(c, {}), 'cancel request');
    return c.json(jobView(store, cancelJob(deps, c.req.param('id'))));
  });

  app.post('/api/jobs/:id/retry', async (c) => {
    parseInput(EmptyInput, await readJson(c, {}), 'retry request');
    const id = c.req.param('id');
    // Idempotent: a second request for the same job answers with the first retry (200) instead of a new one.
    const { job, created } = retryJob(deps, id);
    // The retry made (or found) is the one whose retry_of is this job.
    const answer = { job_id: job.id, state: job.state, retry_of: id, created } satisfies RetryAnswer;
    return c.json(answer, created ? 202 : 200);
  });

  return app;
}
