import { Hono } from 'hono';
import type { TaskDetail, TaskList } from '@alter0/api';
import { CloseInput, EmptyInput, TasksQuery } from '@alter0/api';
import type { ApiDeps } from '../api.js';
import { parseInput, readJson } from '../inputs.js';
import {
  approvalView,
  closeDecisionView,
  jobView,
  messageView,
  routeDecisionView,
  taskView,
  usageTotalsView,
} from '../views.js';

/** GET /api/tasks, GET /api/tasks/{id}, POST /api/tasks/{id}/close and /reopen (the closer's rule, invariant 5). */
export function taskRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const app = new Hono();

  app.get('/api/tasks', (c) => {
    const q = parseInput(TasksQuery, c.req.query(), 'query');
    return c.json({
      tasks: store.tasks.list({ state: q.state ?? 'open', q: q.q, limit: q.limit }).map(taskView),
    } satisfies TaskList);
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
      approvals: store.approvals.list({ taskId: task.id, limit: 200 }).map(approvalView),
      usage: usageTotalsView(store.stats.taskUsage(task.id)),
    } satisfies TaskDetail);
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

  return app;
}
