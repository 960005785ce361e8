import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Served } from './harness.js';
import { cli, reply, serve, tempDir } from './harness.js';

/*
 * The owner's memory through the real `alter0 serve`: entries managed with the CLI, placed before the message of
 * each new agent session (the fixture agent echoes its prompt), capped, and recorded on the job.
 */
describe('memory in new agent sessions (real daemon)', () => {
  let s: Served;

  beforeAll(async () => {
    const dir = tempDir('alter0-memory-');
    s = await serve({
      data: path.join(dir, 'data'),
      env: { ALTER0_CLOSER__ENABLED: 'false', ALTER0_MEMORY__MAX_PROMPT_CHARS: '60' },
    });
  }, 60_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('places the global entries before the first message of a session, within the cap, and records it', async () => {
    const add = await cli(['memory', 'add', 'use pnpm, never npm', '--addr', s.url]);
    expect(add.code, add.stderr).toBe(0);
    const first = /^(r_\S+)/.exec(add.stdout)?.[1] ?? '';
    const second = await s.client.addMemory({ content: 'deploys always go through make release, never by hand' });
    const listed = await cli(['memory', 'list', '--addr', s.url]);
    expect(listed.stdout).toContain('use pnpm, never npm');
    expect(listed.stdout).toContain('global');

    const r = await reply(s, { content: 'set up the project' });
    expect(r.reply).toContain('use pnpm, never npm');
    expect(r.reply).toContain('set up the project');
    // 60 characters take the first entry only: the second is cut, logged, and recorded as cut.
    expect(r.reply).not.toContain('make release');
    const job = await s.client.getJob(r.job_id);
    expect(job.memory).toMatchObject({ template: { id: 'memory', version: 'v1' }, ids: [first], cut: [second.id] });
    await s.waitForLog('memory cut to fit memory.max_prompt_chars', 'the cut logged');

    // The task's session continues: it was told once, not again.
    const next = await reply(s, { content: 'and add a test', task_id: r.task_id ?? '' });
    expect(next.reply).toContain('and add a test');
    expect(next.reply).not.toContain('use pnpm');
    expect((await s.client.getJob(next.job_id)).memory).toBeNull();
  });

  it('edits and removes entries; a new session gets what is there now', async () => {
    const [m] = await s.client.listMemory();
    const edited = await cli(['memory', 'edit', m?.id ?? '', 'use bun', '--addr', s.url]);
    expect(edited.stdout).toContain('use bun');
    for (const x of await s.client.listMemory()) {
      if (x.id !== m?.id)
        expect((await cli(['memory', 'rm', x.id, '--addr', s.url])).stdout).toContain(`removed ${x.id}`);
    }
    const r = await reply(s, { content: 'another project' });
    expect(r.reply).toContain('use bun');
    const missing = await cli(['memory', 'rm', 'r_00000000000000000000000000', '--addr', s.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('memory entry r_00000000000000000000000000 does not exist');
  });
});
