import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS_FOLDER, Store, codeSchemaVersion } from '@alter0/store';
import type { Served } from './harness.js';
import { cli, reply, serve, tempDir } from './harness.js';

// Walks docs/upgrade.md and docs/rollback.md on a real data directory.
const running: Served[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** The next release's migrations: the shipped ones plus one more (what the next version's start applies). */
function nextMigrations(dir: string): string {
  const next = path.join(dir, 'next-migrations');
  fs.cpSync(MIGRATIONS_FOLDER, next, { recursive: true });
  const journalFile = path.join(next, 'meta/_journal.json');
  const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as {
    entries: { idx: number; when: number; tag: string }[];
  };
  const last = journal.entries.at(-1)!;
  journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: '9999_next_release' });
  fs.writeFileSync(journalFile, JSON.stringify(journal));
  fs.writeFileSync(
    path.join(next, '9999_next_release.sql'),
    'ALTER TABLE `tasks` ADD `priority` integer DEFAULT 0 NOT NULL;',
  );
  return next;
}

describe('upgrade and rollback (docs/upgrade.md, docs/rollback.md)', () => {
  it('upgrades with a pre-migrate backup and every row intact, then rolls back by restoring it', async () => {
    const data = tempDir('alter0-upgrade-');
    const scratch = tempDir('alter0-upgrade-scratch-');
    dirs.push(data, scratch);
    const dbFile = path.join(data, 'alter0.db');

    // The current version fills the database: a task with an agent session.
    let s = await serve({ data });
    running.push(s);
    const first = await reply(s, { content: 'remember the plan' });
    expect(first.reply).toBe('echo(1): remember the plan');
    const taskId = first.task_id ?? '';
    const before = await s.client.getTask(taskId);
    expect(await s.stop()).toBe(0);
    running.splice(0);

    // Step 4 of the upgrade: doctor and the migration status with the (current) code.
    const status = await cli(['db', 'migrate', '--status', '--data', data, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ pending: 0 });

    // Step 5: the next version starts — the start-up code path backs up, then migrates.
    const v = codeSchemaVersion();
    const upgraded = Store.open({
      file: dbFile,
      backupDir: path.join(data, 'backups'),
      migrationsFolder: nextMigrations(scratch),
    });
    const backupFile = upgraded.opened.schema.backupPath!;
    expect(upgraded.opened.schema).toMatchObject({ migrated: 1, dbVersion: v + 1 });
    expect(path.basename(backupFile)).toMatch(new RegExp(`pre-migrate-v${v}-to-v${v + 1}\\.db$`));
    expect(upgraded.tasks.get(taskId)).toMatchObject({ sessionId: before.session_id });
    expect(upgraded.tasks.messages(taskId)).toHaveLength(before.messages.length);
    // Work accepted after the upgrade (it will be gone after the rollback, kept in the replaced file).
    upgraded.tasks.create({
      title: 'after the upgrade',
      executor: 'command',
      workspaceRoot: data,
      userId: 'owner',
      now: Date.now(),
    });
    upgraded.close();
    const check = new Database(backupFile, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();

    // Rollback step 3: the older version refuses the newer database, changing nothing.
    const refused = await cli(['serve', '--data', data, '--listen', '127.0.0.1:0', '--command', 'cat']);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain(`newer than this alter0 knows (version ${v})`);
    expect(refused.stderr).toContain('alter0 db restore');

    // Step 4: restore the pre-migrate backup.
    const restored = await cli(['db', 'restore', backupFile, '--data', data]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(fs.readdirSync(data).some((n) => n.startsWith('alter0.db.replaced-'))).toBe(true);

    // Step 5: the old version starts, the task is as it was, and its agent session continues.
    s = await serve({ data });
    running.push(s);
    const tasks = await s.client.listTasks({ state: 'all' });
    expect(tasks.map((t) => t.id)).toEqual([taskId]);
    const follow = await reply(s, { content: 'and now?', task_id: taskId });
    expect(follow.reply).toBe('echo(2): and now?');
  });
});
