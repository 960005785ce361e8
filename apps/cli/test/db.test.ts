import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '@alter0/store';
import { cli, reply, serve, tempDir } from './harness.js';
import type { Served } from './harness.js';

const dirs: string[] = [];
const daemons: Served[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = tempDir('alter0-db-');
  dirs.push(d);
  return path.join(d, 'data');
}
async function start(data: string): Promise<Served> {
  const s = await serve({ data });
  daemons.push(s);
  return s;
}

describe('alter0 db (real CLI, real daemon)', () => {
  it('backs up online; restore refuses while the daemon runs and, once stopped, brings back the task and its session', async () => {
    const data = dataDir();
    const s = await start(data);
    const r1 = await reply(s, { content: 'remember the blue door' });
    const taskId = r1.task_id ?? '';
    await s.client.sendMessage({ content: 'and the red key', task_id: taskId });
    const before = await s.client.getTask(taskId);
    expect(before.session_id).toMatch(/:2$/);

    const b = await cli(['db', 'backup', '--data', data, '--json']);
    expect(b.code, b.stderr).toBe(0);
    const backupPath = (JSON.parse(b.stdout) as { path: string; integrity: string }).path;
    expect(path.dirname(backupPath)).toBe(path.join(data, 'backups'));

    // A change after the backup: the restore must undo it.
    const later = await reply(s, { content: 'an unrelated later task' });
    expect(later.task_id).not.toBeNull();
    expect(later.task_id).not.toBe(taskId);

    const refused = await cli(['db', 'restore', backupPath, '--data', data]);
    expect(refused.code).toBe(75);
    expect(refused.stderr).toContain(
      `restore refused: data directory ${data} is in use by another alter0 process (pid ${s.proc.pid})`,
    );

    expect(await s.stop()).toBe(0);
    const ok = await cli(['db', 'restore', backupPath, '--data', data]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`restored ${backupPath} into ${path.join(data, 'alter0.db')}`);
    expect(ok.stdout).toMatch(/the replaced database is kept as .*alter0\.db\.replaced-/);
    expect(fs.readdirSync(data).filter((f) => f.startsWith('alter0.db.replaced-'))).toHaveLength(1);

    const again = await start(data);
    const after = await again.client.getTask(taskId);
    expect(after.session_id).toBe(before.session_id);
    expect(after.messages.map((m) => m.content)).toEqual(before.messages.map((m) => m.content));
    await expect(again.client.getTask(later.task_id ?? '')).rejects.toMatchObject({
      name: 'ApiRequestError',
      status: 404,
    });
    // The restored session is resumed by the next turn.
    const r3 = await reply(again, { content: 'third', task_id: taskId });
    expect(r3.reply).toBe('echo(3): third');
  });

  it('verify exits 1 on a job left running with no process holding the data directory', async () => {
    const data = dataDir();
    const store = Store.open({ file: path.join(data, 'alter0.db') });
    store.jobs.accept({
      content: 'x',
      channelId: 'test',
      userId: 'owner',
      sessionId: null,
      taskId: null,
      lane: 'interactive',
      maxAttempts: 3,
      timeoutS: 60,
      now: Date.now(),
    });
    const running = store.jobs.claimNext('interactive', Date.now())!;
    store.close();
    const r = await cli(['db', 'verify', '--data', data]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL  no running job without a lock holder: 1');
    expect(r.stdout).toContain(running.id);
    expect(r.stdout).toMatch(/verify: FAILED/);
    const j = await cli(['db', 'verify', '--data', data, '--json']);
    expect(j.code).toBe(1);
    expect((JSON.parse(j.stdout) as { ok: boolean; counts: { jobs: { running: number } } }).counts.jobs.running).toBe(
      1,
    );
  });

  it('cleanup --dry-run counts what cleanup then deletes', async () => {
    const data = dataDir();
    const store = Store.open({ file: path.join(data, 'alter0.db') });
    const old = Date.now() - 400 * 86_400_000;
    for (let i = 0; i < 3; i++)
      store.events.add({ component: 'test', level: 'info', kind: 'x', message: 'old', now: old });
    store.events.add({ component: 'test', level: 'info', kind: 'x', message: 'new', now: Date.now() });
    store.close();
    const dry = await cli(['db', 'cleanup', '--dry-run', '--json', '--data', data]);
    expect(dry.code, dry.stderr).toBe(0);
    const real = await cli(['db', 'cleanup', '--json', '--data', data]);
    expect(real.code, real.stderr).toBe(0);
    const counts = (s: string) => (JSON.parse(s) as { counts: Record<string, number> }).counts;
    expect(counts(dry.stdout).events).toBe(3);
    expect(counts(real.stdout)).toEqual(counts(dry.stdout));
    const text = await cli(['db', 'cleanup', '--dry-run', '--data', data]);
    expect(text.stdout).toMatch(/^would delete: .*events 0/);
  });

  it('cleanup --dry-run counts the memory notes past retention.memory ("never" by default)', async () => {
    const data = dataDir();
    const store = Store.open({ file: path.join(data, 'alter0.db') });
    const old = Date.now() - 400 * 86_400_000;
    store.memory.add({ content: 'an old note', taskId: null, now: old });
    const pinned = store.memory.add({ content: 'an old pinned note', taskId: null, now: old });
    store.memory.edit(pinned.id, { pinned: true }, Date.now());
    store.close();
    const never = await cli(['db', 'cleanup', '--dry-run', '--data', data]);
    expect(never.code, never.stderr).toBe(0);
    expect(never.stdout).toMatch(/^would delete: .*memory 0/);
    const aged = await cli(['db', 'cleanup', '--dry-run', '--data', data], { ALTER0_RETENTION__MEMORY: '180d' });
    expect(aged.code, aged.stderr).toBe(0);
    expect(aged.stdout).toMatch(/^would delete: .*memory 1,/);
  });

  it('migrate --status prints the versions; migrate on a current database does nothing', async () => {
    const data = dataDir();
    Store.open({ file: path.join(data, 'alter0.db') }).close();
    const st = await cli(['db', 'migrate', '--status', '--data', data]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/db version: (\d+)\ncode version: \1\npending: 0/);
    const m = await cli(['db', 'migrate', '--data', data]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/is already at version \d+; nothing to do/);
  });

  it('a config error exits 78 like serve does', async () => {
    const d = tempDir('alter0-db-');
    dirs.push(d);
    const bad = path.join(d, 'bad.toml');
    fs.writeFileSync(bad, 'no_such_key = 1\n');
    const r = await cli(['db', 'verify', '--config', bad, '--data', path.join(d, 'data')]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('no_such_key');
  });
});
