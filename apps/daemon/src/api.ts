import { Hono } from 'hono';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { Alter0Error } from '@alter0/core';
import type { Lane } from '@alter0/core';
import type { StatusDocument } from '@alter0/api';
import type { Store } from '@alter0/store';
import type { Logger, Metrics } from '@alter0/obs';
import type { Bus } from './bus.js';
import type { Intake } from './intake.js';
import { sendError, statusFor, storageRefusal } from './errors.js';
import { bearerToken, crossOriginProtection, hostAllowlist, requireJson } from './security.js';
import { noStore, securityHeaders } from './response-headers.js';
import { decisionRoutes } from './routes/decisions.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { messageRoutes } from './routes/messages.js';
import { metricsRoutes } from './routes/metrics.js';
import { statusRoutes } from './routes/status.js';
import { taskRoutes } from './routes/tasks.js';
import { approvalRoutes, exceptRuns, runTokens } from './routes/approvals.js';
import { memoryRoutes } from './routes/memory.js';
import { scheduleRoutes } from './routes/schedules.js';
import { statsRoutes } from './routes/stats.js';
import type { Approvals } from './approvals/service.js';
import type { ScheduleService } from './schedules/service.js';

export interface ApiDeps {
  store: Store;
  /** Where every accepted message goes: the group commit (invariant 1). */
  intake: Intake;
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
  /** Looks at once whether the job ended and needs announcing (after a sync wait gave up). */
  announce(jobId: string): void;
  /** Tool-use approvals: raised by runs, answered by the owner (approvals/service.ts). */
  approvals: Approvals;
  /** The owner's schedules (schedules/service.ts). */
  schedules: ScheduleService;
  /** Manual close/reopen: the same rule as the closer's. */
  closeTask(taskId: string, reason: string): void;
  reopenTask(taskId: string): void;
  status(): Promise<StatusDocument>;
  accepting(): boolean;
  now(): number;
  /** Mounted last: the console's static files. */
  staticHandler?: (app: Hono) => void;
  metricsText?(): Promise<{ contentType: string; body: string }>;
}

/**
 * The HTTP API (docs/api.md): the middleware every answer passes, in order, then one route module per resource
 * (apps/daemon/src/routes/). Requests and answers are the schemas of @alter0/api.
 */
export function createApi(deps: ApiDeps): Hono {
  const app = new Hono();

  app.onError((err, c) => answerError(deps, err, c));
  app.notFound((c) =>
    sendError(c, 404, 'not_found', `no such endpoint: ${c.req.method} ${c.req.path} (see docs/api.md)`),
  );

  // First, so every answer carries them, including the refusals of the middleware below.
  app.use('*', securityHeaders());
  app.use('/api/*', noStore());
  app.use('*', hostAllowlist(deps.allowedHosts));
  app.use('*', crossOriginProtection());
  // Probes answer without the token (a supervisor's health check has none).
  app.route('/', healthRoutes(deps));
  // A run's approval token opens its own approvals only, and needs no API token (routes/approvals.ts).
  app.use('/api/*', runTokens(deps));
  if (deps.token) {
    const owner = bearerToken(deps.token);
    app.use('/api/*', exceptRuns(owner));
    app.use('/metrics', owner);
  }
  app.use('/api/*', requireJson());
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: deps.defaults.bodyLimitBytes,
      onError: (c) =>
        sendError(
          c,
          413,
          'too_large',
          `request body is larger than ${deps.defaults.bodyLimitBytes} bytes (api.body_limit_bytes)`,
        ),
    }),
  );
  // New work is refused (503) while shutting down; reads keep working until the listener closes.
  app.use('/api/*', async (c: Context, next) => {
    if (c.req.method === 'POST' && !deps.accepting()) {
      return sendError(c, 503, 'unavailable', 'alter0 is shutting down and accepts no new work; retry once it is back');
    }
    await next();
  });

  for (const routes of [
    messageRoutes,
    jobRoutes,
    taskRoutes,
    decisionRoutes,
    statusRoutes,
    eventRoutes,
    approvalRoutes,
    memoryRoutes,
    scheduleRoutes,
    statsRoutes,
  ])
    app.route('/', routes(deps));
  if (deps.metricsText) app.route('/', metricsRoutes(deps.metricsText));
  app.all('/api/*', (c) =>
    sendError(c, 404, 'not_found', `no such endpoint: ${c.req.method} ${c.req.path} (see docs/api.md)`),
  );
  deps.staticHandler?.(app);
  return app;
}

/** An error no route answered: alter0's typed errors as they say, a storage refusal as such, anything else a 500. */
function answerError(deps: ApiDeps, err: Error, c: Context): Response {
  if (err instanceof Alter0Error) return sendError(c, statusFor(err), err.code, err.message);
  const storage = storageRefusal(err);
  if (storage) {
    deps.logger.warn('request refused: the database did not take the write', {
      err,
      path: c.req.path,
      method: c.req.method,
      code: storage.code,
    });
    return sendError(c, storage.status, storage.code, storage.message);
  }
  deps.logger.error('request failed', { err, path: c.req.path, method: c.req.method });
  return sendError(
    c,
    500,
    'internal',
    `internal error while handling ${c.req.method} ${c.req.path}; see the service log`,
  );
}
