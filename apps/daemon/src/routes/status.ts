import { Hono } from 'hono';
import type { ApiDeps } from '../api.js';

/** GET /api/status: the status document (built by status.ts; its shape is StatusDocument in @alter0/api). */
export function statusRoutes(deps: Pick<ApiDeps, 'status'>): Hono {
  const app = new Hono();
  app.get('/api/status', async (c) => c.json(await deps.status()));
  return app;
}
