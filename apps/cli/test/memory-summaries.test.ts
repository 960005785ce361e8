import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { MemoryEntry } from '@alter0/api';
import type { Served } from './harness.js';
import { cli, reply, serve, tempDir, until } from './harness.js';

/*
 * Summaries of closed tasks through the real `alter0 serve`: written when a task closes (manually with the CLI,
 * or by the closer), rewritten after a reopen, found by `alter0 memory search`, pinned with `alter0 memory pin`,
 * and never placed before an agent's message (the fixture agent echoes its prompt).
 */
describe('summaries of closed tasks as memory (real daemon)', () => {
  let s: Served;
  const run = (...args: string[]) => cli([...args, '--addr', s.url]);
  const summaries = (): Promise<MemoryEntry[]> => s.client.listMemory({ kind: 'task_summary' });

  beforeAll(async () => {
    const dir = tempDir('alter0-memory-summaries-');
    s = await serve({ data: path.join(dir, 'data') });
  }, 60_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('a manual close keeps one summary; search finds it by a word of the title; reopen and close keep one', async () => {
    const r = await reply(s, { content: 'Migrate the flamingo database to Postgres' });
    const taskId = r.task_id ?? '';
    const closed = await run('close', taskId, '--reason', 'migrated and verified');
    expect(closed.code, closed.stderr).toBe(0);

    const listed = await run('memory', 'list', '--kind', 'task_summary', '--json');
    const [summary, ...more] = JSON.parse(listed.stdout) as MemoryEntry[];
    expect(more).toEqual([]);
    expect(summary).toMatchObject({ task_id: taskId, kind: 'task_summary', pinned: false });
    expect(summary?.content).toMatch(
      /^Migrate the flamingo database to Postgres — closed \d{4}-\d\d-\d\d \(manual\): migrated and verified\n/,
    );

    const found = await run('memory', 'search', 'FLAMINGO');
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toMatch(/^ID\s+KIND\s+TASK\s+PINNED\s+EXCERPT/);
    expect(found.stdout).toContain(`${summary?.id}  task_summary  ${taskId}`);
    expect(found.stdout).toContain('flamingo database');
    const none = await run('memory', 'search', 'flamingo', 'walrus');
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout.trim()).toBe('no memory matches "flamingo walrus"');
    const notes = await run('memory', 'search', 'flamingo', '--kind', 'note');
    expect(notes.stdout.trim()).toBe('no memory matches "flamingo" (kind note)');

    expect((await run('reopen', taskId)).code).toBe(0);
    expect(await summaries()).toHaveLength(1);
    expect((await run('close', taskId, '--reason', 'done for real')).code).toBe(0);
    const [again, ...extra] = await summaries();
    expect(extra).toEqual([]);
    expect(again?.id).toBe(summary?.id);
    expect(again?.content).toContain('(manual): done for real');
  });

  it('the closer closes a task and leaves its summary (auto)', async () => {
    const r = await reply(s, { content: 'CLOSE-ME write the kiwi quarterly report' });
    const summary = await until(async () => (await summaries()).find((m) => m.task_id === r.task_id), {
      what: 'the closer to close the task',
    });
    expect(summary.content).toMatch(/^CLOSE-ME write the kiwi quarterly report — closed \S+ \(auto\): /);
    const found = await run('memory', 'search', 'kiwi', 'report', '--json');
    expect((JSON.parse(found.stdout) as MemoryEntry[]).map((m) => m.id)).toEqual([summary.id]);
  });

  it('pins and unpins from the CLI; the API refuses an empty change and an unknown kind', async () => {
    const [summary] = await summaries();
    const id = summary?.id ?? '';
    const pinned = await run('memory', 'pin', id);
    expect(pinned.stdout.trim()).toBe(`pinned ${id} (retention keeps it)`);
    expect((await run('memory', 'list')).stdout).toMatch(new RegExp(`${id}\\s+task_summary\\s+t_\\S+\\s+pinned`));
    expect((await summaries()).find((m) => m.id === id)?.pinned).toBe(true);
    expect((await run('memory', 'unpin', id)).stdout.trim()).toBe(`unpinned ${id}`);
    expect((await summaries()).find((m) => m.id === id)?.pinned).toBe(false);

    const empty = await s.api<{ error: { message: string } }>('PATCH', `/api/memory/${id}`, {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain('give content (the new text) and/or pinned (true or false)');
    const badKind = await s.api<{ error: { message: string } }>('GET', '/api/memory?kind=summary');
    expect(badKind.status).toBe(400);
    expect(badKind.body.error.message).toContain('kind must be note or task_summary');
    const missing = await run('memory', 'pin', 'r_00000000000000000000000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('memory entry r_00000000000000000000000000 does not exist');
  });

  it("summaries are never placed before an agent's message; the owner's notes are", async () => {
    const note = await s.client.addMemory({ content: 'always answer in English' });
    const r = await reply(s, { content: 'start something about flamingo habitats' });
    expect(r.reply).toContain('always answer in English');
    expect(r.reply).toContain('start something about flamingo habitats');
    expect(r.reply).not.toContain('Postgres');
    expect(r.reply).not.toContain('kiwi');
    const job = await s.client.getJob(r.job_id);
    expect(job.memory?.ids).toEqual([note.id]);
  });
});
