import { Hono } from 'hono';
import type * as v from 'valibot';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { Alter0Error, ValidationError, isTerminalJobState } from '@alter0/core';
import type { Lane } from '@alter0/core';
import type { Store } from '@alter0/store';
import type { Logger, Metrics } from '@alter0/obs';
import type { Bus } from './bus.js';
import { sendError, statusFor } from './errors.js';
import { ChannelHeader, CloseInput, DecisionsQuery, EmptyInput, JobInput, JobsQuery, MessageInput, TasksQuery, parseInput } from './inputs.js';
import { bearerToken, crossOriginProtection, hostAllowlist, requireJson, sameOrigin } from './security.js';
import { noStore, securityHeaders } from './response-headers.js';
import { StreamSlots } from './stream-slots.js';
import { closeDecisionView, jobView, messageView, routeDecisionView, taskView } from './views.js';

export interface ApiDeps {
  store: Store;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  allowedHosts: ReadonlySet<string>;
  token: string | null;
  defaults: { waitMs: number; maxWaitMs: number; bodyLimitBytes: number; timeoutS: number; maxAttempts: number };
  limits: {
    /** Concurrent `GET /api/events` streams (api.max_event_streams). */
    eventStreams: number;
    /** Queued jobs beyond which new messages are refused (queue.max_depth). */
    queueDepth: number;
  };
  /** Wakes the workers of a lane after new work was committed. */
  wake(lane: Lane): void;
  /** Aborts a running job in this process (after the cancel was recorded). */
  cancelRunning(jobId: string): void;
  /** Manual close/reopen: the same rule as the closer's. */
  closeTask(taskId: string, reason: string): void;
  reopenTask(taskId: string): void;
  status(): Promise<unknown>;
  accepting(): boolean;
  now(): number;
  /** Mounted last: the console's static files. */
  staticHandler?: (app: Hono) => void;
  metricsText?(): Promise<{ contentType: string; body: string }>;
}

export function createApi(deps: ApiDeps): Hono {
  const { store, bus } = deps;
  const app = new Hono();
  const eventStreams = new StreamSlots(deps.limits.eventStreams);

  app.onError((err, c) => {
    if (err instanceof Alter0Error) return sendError(c, statusFor(err), err.code, err.message);
    deps.logger.error('request failed', { err, path: c.req.path, method: c.req.method });
    return sendError(c, 500, 'internal', `internal error while handling ${c.req.method} ${c.req.path}; see the service log`);
  });
  app.notFound((c) => sendError(c, 404, 'not_found', `no such endpoint: ${c.req.method} ${c.req.path} (see docs/api.md)`));

  // First, so every answer carries them, including the refusals of the middleware below.
  app.use('*', securityHeaders());
  app.use('/api/*', noStore());
  app.use('*', hostAllowlist(deps.allowedHosts));
  app.use('*', crossOriginProtection());
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', (c) =>
    deps.accepting() ? c.json({ ready: true }) : c.json({ ready: false, error: { code: 'unavailable', message: 'shutting down' } }, 503),
  );
  if (deps.token) {
    app.use('/api/*', bearerToken(deps.token));
    app.use('/metrics', bearerToken(deps.token));
  }
  app.use('/api/*', requireJson());
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: deps.defaults.bodyLimitBytes,
      onError: (c) => sendError(c, 413, 'too_large', `request body is larger than ${deps.defaults.bodyLimitBytes} bytes (api.body_limit_bytes)`),
    }),
  );
  // New work is refused (503) while shutting down; reads keep working until the listener closes.
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'POST' && !deps.accepting()) {
      return sendError(c, 503, 'unavailable', 'alter0 is shutting down and accepts no new work; retry once it is back');
    }
    await next();
  });

  const accept = (c: Context, body: v.InferOutput<typeof JobInput>, lane: Lane) => {
    const channelHeader = parseInput(ChannelHeader, c.req.header('x-alter0-channel'), 'x-alter0-channel header');
    const { job } = store.jobs.accept({
      content: body.content,
      channelId: body.channel_id ?? (channelHeader || 'http'),
      userId: body.user_id ?? 'owner',
      sessionId: body.session_id ?? null,
      taskId: body.task_id ?? null,
      lane,
      maxAttempts: body.max_attempts ?? deps.defaults.maxAttempts,
      timeoutS: body.timeout_s ?? deps.defaults.timeoutS,
      now: deps.now(),
      // Checked in the accept transaction: a refused message leaves nothing behind.
      maxQueued: deps.limits.queueDepth,
    });
    // Committed above: only now is the client answered and the workers woken.
    deps.metrics.accepted(job.channelId);
    deps.wake(lane);
    bus.job(job.id);
    return job;
  };

  app.post('/api/message', async (c) => {
    const body = parseInput(MessageInput, await readJson(c), 'message');
    const job = accept(c, body, 'interactive');
    const waitMs = Math.min(body.wait_ms ?? deps.defaults.waitMs, deps.defaults.maxWaitMs);
    const done = await waitForReply(deps, job.id, waitMs, c.req.raw.signal);
    const row = store.jobs.mustGet(job.id);
    if (!done) return c.json({ job_id: row.id, state: row.state }, 202);
    const v = jobView(store, row);
    return c.json(
      { job_id: v.id, task_id: v.task_id, state: v.state, stage: v.stage, reply: v.reply, route: v.route, timings: v.timings, error: v.error },
      200,
    );
  });

  app.post('/api/jobs', async (c) => {
    const body = parseInput(JobInput, await readJson(c), 'job');
    const job = accept(c, body, body.lane ?? 'interactive');
    return c.json({ job_id: job.id, state: 'queued' }, 202);
  });

  app.get('/api/jobs', (c) => {
    const q = parseInput(JobsQuery, c.req.query(), 'query');
    const rows = store.jobs.list({ state: q.state, taskId: q.task_id, limit: q.limit });
    return c.json({ jobs: rows.map((r) => jobView(store, r)) });
  });

  app.get('/api/jobs/:id', (c) => c.json(jobView(store, store.jobs.mustGet(c.req.param('id')))));

  app.post('/api/jobs/:id/cancel', async (c) => {
    parseInput(EmptyInput, await readJson(c, {}), 'cancel request');
    const id = c.req.param('id');
    const r = store.jobs.requestCancel(id, deps.now());
    if (!r.immediate) deps.cancelRunning(id);
    bus.job(id);
    return c.json(jobView(store, store.jobs.mustGet(id)));
  });

  app.post('/api/jobs/:id/retry', async (c) => {
    parseInput(EmptyInput, await readJson(c, {}), 'retry request');
    // Idempotent: a second request for the same job answers with the first retry (200) instead of a new one.
    const { job, created } = store.jobs.retry(c.req.param('id'), deps.now());
    if (created) {
      deps.wake(job.lane);
      bus.job(job.id);
    }
    return c.json({ job_id: job.id, state: job.state, retry_of: job.retryOf, created }, created ? 202 : 200);
  });

  app.get('/api/tasks', (c) => {
    const q = parseInput(TasksQuery, c.req.query(), 'query');
    return c.json({ tasks: store.tasks.list({ state: q.state ?? 'open', q: q.q, limit: q.limit }).map(taskView) });
  });

  app.get('/api/tasks/:id', (c) => {
    const task = store.tasks.mustGet(c.req.param('id'));
    return c.json({
      ...taskView(task),
      messages: store.tasks.messages(task.id).map(messageView),
      jobs: store.jobs.list({ taskId: task.id, limit: 200 }).map((j) => jobView(store, j)),
      decisions: {
        route: store.decisions.routeForTask(task.id).map(routeDecisionView),
        close: store.tasks.closeDecisions(task.id).map(closeDecisionView),
      },
    });
  });

  app.post('/api/tasks/:id/close', async (c) => {
    const body = parseInput(CloseInput, await readJson(c, {}), 'close request');
    const id = c.req.param('id');
    deps.closeTask(id, body.reason?.trim() || 'closed by the owner');
    return c.json(taskView(store.tasks.mustGet(id)));
  });

  app.post('/api/tasks/:id/reopen', async (c) => {
    parseInput(EmptyInput, await readJson(c, {}), 'reopen request');
    const id = c.req.param('id');
    deps.reopenTask(id);
    return c.json(taskView(store.tasks.mustGet(id)));
  });

  app.get('/api/decisions', (c) => {
    const q = parseInput(DecisionsQuery, c.req.query(), 'query');
    const kinds = q.kind ? [q.kind] : (['route', 'close'] as const);
    return c.json({
      route: kinds.includes('route') ? store.decisions.list({ kind: 'route', taskId: q.task_id, limit: q.limit }).map(routeDecisionView) : [],
      close: kinds.includes('close') ? store.decisions.list({ kind: 'close', taskId: q.task_id, limit: q.limit }).map(closeDecisionView) : [],
    });
  });

  app.get('/api/status', async (c) => c.json(await deps.status()));

  app.get('/api/events', (c) => {
    // A foreign page must not read the stream (nor hold its slots): the same rule as for state changes.
    if (!sameOrigin(c.req.header('sec-fetch-site'), c.req.header('origin'), c.req.header('host'))) {
      return sendError(c, 403, 'cross_origin', 'cross-origin request refused: the event stream is only available to the console itself and to non-browser clients');
    }
    const release = eventStreams.take();
    if (!release) {
      return sendError(
        c,
        503,
        'too_many_streams',
        `${eventStreams.max} event streams are already open (api.max_event_streams); close a console tab or another /api/events client, or raise api.max_event_streams`,
      );
    }
    return streamSSE(c, async (stream) => {
      const queue: string[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = bus.subscribe((e) => {
        queue.push(`${e.type}:${e.id}`);
        wake?.();
      });
      const closed = new Promise<void>((resolve) => stream.onAbort(resolve));
      let open = true;
      void closed.then(() => {
        open = false;
        wake?.();
      });
      try {
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ at: new Date(deps.now()).toISOString() }) });
        while (open) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, 15_000);
            });
            wake = null;
            if (queue.length === 0 && open) await stream.write(': keep-alive\n\n');
            continue;
          }
          // Coalesce bursts: one frame per changed object, read after commit.
          const batch = [...new Set(queue.splice(0))];
          for (const key of batch) {
            const [type, id] = key.split(':') as ['job' | 'task', string];
            if (type === 'job') {
              const row = store.jobs.get(id);
              if (row) await stream.writeSSE({ event: 'job', data: JSON.stringify(jobView(store, row)) });
            } else {
              const row = store.tasks.get(id);
              if (row) await stream.writeSSE({ event: 'task', data: JSON.stringify(taskView(row)) });
            }
          }
        }
      } finally {
        unsubscribe();
        release();
      }
    });
  });

  if (deps.metricsText) {
    const render = deps.metricsText;
    app.get('/metrics', async (c) => {
      const m = await render();
      return c.body(m.body, 200, { 'content-type': m.contentType });
    });
  }
  app.all('/api/*', (c) => sendError(c, 404, 'not_found', `no such endpoint: ${c.req.method} ${c.req.path} (see docs/api.md)`));
  deps.staticHandler?.(app);
  return app;
}

async function readJson(c: Context, fallback?: unknown): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (fallback !== undefined) return fallback;
    throw new ValidationError('the request body is empty; send a JSON object');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ValidationError(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Resolves true once the job has a reply or is terminal, false after `ms` (the job carries on either way). */
function waitForReply(deps: ApiDeps, jobId: string, ms: number, signal: AbortSignal): Promise<boolean> {
  const ready = (): boolean => {
    const j = deps.store.jobs.get(jobId);
    return j !== undefined && (j.repliedAt !== null || isTerminalJobState(j.state));
  };
  if (ready()) return Promise.resolve(true);
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (v: boolean): void => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = (): void => finish(false);
    const timer = setTimeout(() => finish(false), ms);
    const unsubscribe = deps.bus.subscribe((e) => {
      if (e.type === 'job' && e.id === jobId && ready()) finish(true);
    });
    signal.addEventListener('abort', onAbort);
  });
}

