import { Hono } from 'hono';
import type { DecisionLog } from '@alter0/api';
import { DecisionsQuery } from '@alter0/api';
import type { ApiDeps } from '../api.js';
import { parseInput } from '../inputs.js';
import { closeDecisionView, routeDecisionView } from '../views.js';

/** GET /api/decisions: the router's and the closer's records, newest first. */
export function decisionRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const app = new Hono();

  app.get('/api/decisions', (c) => {
    const q = parseInput(DecisionsQuery, c.req.query(), 'query');
    const kinds = q.kind ? [q.kind] : (['route', 'close'] as const);
    const filter = { taskId: q.task_id, limit: q.limit };
    return c.json({
      route: kinds.includes('route') ? store.decisions.list({ kind: 'route', ...filter }).map(routeDecisionView) : [],
      close: kinds.includes('close') ? store.decisions.list({ kind: 'close', ...filter }).map(closeDecisionView) : [],
    } satisfies DecisionLog);
  });

  return app;
}
