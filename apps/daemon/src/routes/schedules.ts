import { Hono } from 'hono';
import type { ScheduleDeleted } from '@alter0/api';
import { EmptyInput, ScheduleInput } from '@alter0/api';
import type { ApiDeps } from '../api.js';
import { parseInput, readJson } from '../inputs.js';
import { scheduleDetailView, scheduleView } from '../views.js';

/**
 * /api/schedules: the owner's schedules (docs/schedules.md). Adding checks the timing (clear 400s); pause, resume,
 * run and remove act at once and wake the scheduler.
 */
export function scheduleRoutes(deps: ApiDeps): Hono {
  const { store, schedules } = deps;
  const app = new Hono();

  app.get('/api/schedules', (c) => c.json({ schedules: store.schedules.list().map(scheduleView) }));

  app.get('/api/schedules/:id', (c) => {
    const row = store.schedules.mustGet(c.req.param('id'));
    return c.json(scheduleDetailView(row, store.schedules.runs(row.id)));
  });

  app.post('/api/schedules', async (c) => {
    const body = parseInput(ScheduleInput, await readJson(c), 'schedule');
    const row = schedules.add({
      text: body.text,
      cron: body.cron,
      every: body.every,
      at: body.at,
      tz: body.tz,
      taskId: body.task_id ?? null,
      lane: body.lane ?? 'background',
      userId: 'owner',
    });
    return c.json(scheduleView(row), 201);
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/api/schedules/:id/${action}`, async (c) => {
      parseInput(EmptyInput, await readJson(c, {}), action);
      return c.json(scheduleView(schedules[action](c.req.param('id'))));
    });
  }

  app.post('/api/schedules/:id/run', async (c) => {
    parseInput(EmptyInput, await readJson(c, {}), 'run');
    const r = schedules.runNow(c.req.param('id'));
    return c.json({ schedule: scheduleView(r.schedule), job_id: r.jobId }, 202);
  });

  app.delete('/api/schedules/:id', async (c) => {
    parseInput(EmptyInput, await readJson(c, {}), 'delete');
    const id = c.req.param('id');
    schedules.remove(id);
    return c.json({ id, deleted: true } as ScheduleDeleted);
  });

  return app;
}
