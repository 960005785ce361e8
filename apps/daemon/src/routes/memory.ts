import { Hono } from 'hono';
import type { MemoryDeleted } from '@alter0/api';
import { EmptyInput, MemoryEditInput, MemoryInput, MemoryQuery } from '@alter0/api';
import type { ApiDeps } from '../api.js';
import { parseInput, readJson } from '../inputs.js';
import { memoryView } from '../views.js';

/** GET/POST /api/memory (search with ?q=), PATCH/DELETE /api/memory/{id}: the owner's memory (docs/memory.md). */
export function memoryRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const app = new Hono();

  // With q: the entries matching every word, best first (at most 50); without: all, oldest first.
  app.get('/api/memory', (c) => {
    const q = parseInput(MemoryQuery, c.req.query(), 'query');
    const filter = { ...(q.task_id ? { taskId: q.task_id } : {}), ...(q.kind ? { kind: q.kind } : {}) };
    const rows = q.q === undefined ? store.memory.list(filter) : store.memory.search(q.q, filter);
    return c.json({ memory: rows.map(memoryView) });
  });

  app.post('/api/memory', async (c) => {
    const body = parseInput(MemoryInput, await readJson(c), 'memory entry');
    const row = store.memory.add({ content: body.content, taskId: body.task_id ?? null, now: deps.now() });
    return c.json(memoryView(row), 201);
  });

  app.patch('/api/memory/:id', async (c) => {
    const body = parseInput(MemoryEditInput, await readJson(c), 'memory edit');
    return c.json(memoryView(store.memory.edit(c.req.param('id'), body, deps.now())));
  });

  app.delete('/api/memory/:id', async (c) => {
    parseInput(EmptyInput, await readJson(c, {}), 'delete');
    const id = c.req.param('id');
    store.memory.remove(id);
    return c.json({ id, deleted: true } as MemoryDeleted);
  });

  return app;
}
