import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApprovalList, ApprovalRaised } from '@alter0/api';
import { AllowInput, ApprovalInput, ApprovalsQuery, ApprovalWaitQuery, ChannelHeader, DenyInput } from '@alter0/api';
import { NotFoundError } from '@alter0/core';
import type { ApiDeps } from '../api.js';
import type { RunRef } from '../approvals/service.js';
import { sendError } from '../errors.js';
import { parseInput, readJson } from '../inputs.js';
import { approvalView } from '../views.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The run whose approval token the request carries (set by `runTokens`). */
    run: RunRef;
  }
}

const RUN_ONLY = 'an agent run raises approvals with its own ALTER0_APPROVAL_TOKEN as the bearer token';

/**
 * A bearer token that is a run's approval token makes the request that run's: it may raise an approval for its own
 * job and read that job's approvals, nothing else (and it needs no API token). Any other request goes on to the
 * API token check as before.
 */
export function runTokens(deps: Pick<ApiDeps, 'approvals'>): MiddlewareHandler {
  return async (c, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    const run = m?.[1] ? deps.approvals.runOf(m[1]) : null;
    if (!run) return next();
    const own =
      (c.req.method === 'POST' && c.req.path === '/api/approvals') ||
      (c.req.method === 'GET' && /^\/api\/approvals\/[^/]+$/.test(c.req.path));
    if (!own) return sendError(c, 403, 'forbidden', `a run token only raises and reads its own approvals; ${RUN_ONLY}`);
    c.set('run', run);
    return next();
  };
}

/** Whether the request is a run's (see runTokens). */
function isRunRequest(c: Context): boolean {
  return (c.get('run') as RunRef | undefined) !== undefined;
}

/** `mw` (the API token check) for every request but a run's: a run's token stands in for it on its own routes. */
export function exceptRuns(mw: MiddlewareHandler): MiddlewareHandler {
  return (c, next) => (isRunRequest(c) ? next() : mw(c, next));
}

/** GET/POST /api/approvals, GET /api/approvals/{id}, POST /api/approvals/{id}/allow and /deny. */
export function approvalRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const app = new Hono();
  const by = (c: Context): string =>
    parseInput(ChannelHeader, c.req.header('x-alter0-channel'), 'x-alter0-channel header') || 'api';
  const refuseRun = (c: Context): Response | null =>
    isRunRequest(c) ? sendError(c, 403, 'forbidden', `only the owner answers approvals; ${RUN_ONLY}`) : null;

  app.get('/api/approvals', (c) => {
    const q = parseInput(ApprovalsQuery, c.req.query(), 'query');
    const rows = store.approvals.list({
      ...(q.state === 'pending' ? { state: 'pending' as const } : {}),
      ...(q.job_id ? { jobId: q.job_id } : {}),
      ...(q.task_id ? { taskId: q.task_id } : {}),
    });
    return c.json({ approvals: rows.map(approvalView) } satisfies ApprovalList);
  });

  app.post('/api/approvals', async (c) => {
    const run = c.get('run');
    if (!run) return sendError(c, 401, 'unauthorized', `no valid run token: ${RUN_ONLY}`);
    const body = parseInput(ApprovalInput, await readJson(c), 'approval request');
    if (body.job_id !== run.jobId) {
      return sendError(c, 403, 'forbidden', `this run token belongs to job ${run.jobId}, not ${body.job_id}`);
    }
    const a = deps.approvals.raise(run, body.tool, body.input);
    return c.json({ approval_id: a.id, state: a.state } satisfies ApprovalRaised, 201);
  });

  app.get('/api/approvals/:id', async (c) => {
    const q = parseInput(ApprovalWaitQuery, c.req.query(), 'query');
    const id = c.req.param('id');
    const run = c.get('run');
    const found = store.approvals.get(id);
    // A run sees its own job's approvals only; another's is as if it did not exist.
    if (!found || (run && found.jobId !== run.jobId)) throw new NotFoundError('approval', id);
    const a = await deps.approvals.wait(id, (q.wait_s ?? 0) * 1000, c.req.raw.signal);
    return c.json(approvalView(a));
  });

  app.post('/api/approvals/:id/allow', async (c) => {
    const refused = refuseRun(c);
    if (refused) return refused;
    const body = parseInput(AllowInput, await readJson(c, {}), 'allow');
    return c.json(
      approvalView(deps.approvals.decide(c.req.param('id'), { allow: true, by: by(c), always: body.always ?? false })),
    );
  });

  app.post('/api/approvals/:id/deny', async (c) => {
    const refused = refuseRun(c);
    if (refused) return refused;
    const body = parseInput(DenyInput, await readJson(c, {}), 'deny');
    return c.json(
      approvalView(deps.approvals.decide(c.req.param('id'), { allow: false, by: by(c), reason: body.reason ?? null })),
    );
  });

  return app;
}
