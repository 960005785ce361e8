import { Hono } from 'hono';
import type { Healthz, Readyz } from '@alter0/api';
import type { ApiDeps } from '../api.js';

/** GET /healthz (the process runs) and GET /readyz (it accepts work); mounted before the token check. */
export function healthRoutes(deps: Pick<ApiDeps, 'accepting'>): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true } satisfies Healthz));
  app.get('/readyz', (c) =>
    deps.accepting()
      ? c.json({ ready: true } satisfies Readyz)
      : c.json({ ready: false, error: { code: 'unavailable', message: 'shutting down' } } satisfies Readyz, 503),
  );
  return app;
}
