import { Hono } from 'hono';

/** GET /metrics: Prometheus text format (behind the bearer token when one is set). */
export function metricsRoutes(render: () => Promise<{ contentType: string; body: string }>): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const m = await render();
    return c.body(m.body, 200, { 'content-type': m.contentType });
  });
  return app;
}
