import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { LockHeldError } from '@alter0/core';
import { Store } from '@alter0/store';
import { backup, listBackups } from '../src/backup.js';
import { RestoreError } from '../src/errors.js';
import { migrate, migrationStatus } from '../src/migrate.js';
import { MaintenancePool } from '../src/pool.js';
import { restore } from '../src/restore.js';
import { dump, populate, tempDir } from './fixtures.js';
import { holdLock } from './lock-holder.js';

let pool: MaintenancePool;
let dir: string;
let dataDir: string;
let dbFile: string;
let backupDir: string;

beforeAll(() => {
  pool = new MaintenancePool();
});
afterAll(async () => {
  await pool.close();
});
beforeEach(() => {
  dir = tempDir();
  dataDir = path.join(dir, 'data');
  dbFile = path.join(dataDir, 'alter0.db');
  backupDir = path.join(dataDir, 'backups');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('restore', () => {
  it('puts the backup in place, keeps the replaced database (with its WAL) aside, and takes a pre-restore backup', async () => {
    const { taskIds } = populate(dbFile);
    const b = await backup({ dbFile, backupDir, reason: 'manual', keep: 5, pool });
    const expected = dump(b.path);
    // Later changes, some only in the WAL (as after a kill -9): they must survive in the replaced copy.
    const later = Store.open({ file: dbFile });
    later.opened.sqlite.pragma('wal_autocheckpoint = 0');
    later.tasks.touch(taskIds[1]!, Date.now(), { sessionId: 'changed-later' });
    const walCopy = fs.readFileSync(`${dbFile}-wal`);
    const mainCopy = fs.readFileSync(dbFile);
    later.close();
    // Put back the state a crash leaves: the main file and a WAL holding the last commits.
    fs.writeFileSync(dbFile, mainCopy);
    fs.writeFileSync(`${dbFile}-wal`, walCopy);

    const at = new Date('2025-02-03T04:05:06.007Z');
    const r = await restore({ dataDir, file: b.path, backupDir, keep: 5, pool, now: () => at });
    expect(r.replacedPath).toBe(`${dbFile}.replaced-2025-02-03T04-05-06-007Z`);
    expect(r.warnings).toEqual([]);
    expect(dump(dbFile)).toEqual(expected);
    expect(fs.existsSync(`${dbFile}-wal`)).toBe(false);
    expect(fs.existsSync(`${dbFile}-shm`)).toBe(false);
    expect(fs.existsSync(`${dbFile}.restore-tmp`)).toBe(false);
    const replaced = new Database(r.replacedPath!, { readonly: true });
    expect(replaced.prepare('SELECT session_id FROM tasks WHERE id = ?').pluck().get(taskIds[1]!)).toBe(
      'changed-later',
    );
    replaced.close();
    expect((await listBackups(backupDir)).map((x) => x.reason).sort()).toEqual(['manual', 'pre-restore']);
    const store = Store.open({ file: dbFile });
    expect(store.tasks.get(taskIds[1]!)?.sessionId).toBe('sess-1');
    store.close();
  });

  it('refuses while another process holds the lock, naming its pid, and changes nothing', async () => {
    populate(dbFile);
    const b = await backup({ dbFile, backupDir, reason: 'manual', keep: 5, pool });
    const before = fs.readFileSync(dbFile);
    const holder = await holdLock(dataDir);
    try {
      const err = await restore({ dataDir, file: b.path, backupDir, keep: 5, pool }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockHeldError);
      expect((err as Error).message).toMatch(new RegExp(`^restore refused: .*pid ${holder.pid}`));
    } finally {
      await holder.release();
    }
    expect(fs.readFileSync(dbFile).equals(before)).toBe(true);
  });

  it('refuses a damaged file, a newer schema, and a file that is not an alter0 database', async () => {
    populate(dbFile);
    const bad = path.join(dir, 'bad.db');
    fs.writeFileSync(bad, Buffer.alloc(8192, 1));
    await expect(restore({ dataDir, file: bad, backupDir, keep: 5, pool })).rejects.toThrow(
      /failed its integrity check .*nothing was changed/,
    );

    const newer = path.join(dir, 'newer.db');
    const b = await backup({ dbFile, backupDir, reason: 'manual', keep: 5, pool });
    fs.copyFileSync(b.path, newer);
    const db = new Database(newer);
    db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('future', Date.now() + 1e12);
    db.close();
    const err = await restore({ dataDir, file: newer, backupDir, keep: 5, pool }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestoreError);
    expect((err as Error).message).toMatch(/newer than this alter0 knows/);

    const empty = path.join(dir, 'empty.db');
    new Database(empty).close();
    await expect(restore({ dataDir, file: empty, backupDir, keep: 5, pool })).rejects.toThrow(/not an alter0 database/);
    await expect(restore({ dataDir, file: path.join(dir, 'missing.db'), backupDir, keep: 5, pool })).rejects.toThrow(
      /does not exist/,
    );
    expect(fs.readdirSync(dataDir).filter((f) => f.includes('replaced'))).toEqual([]);
  });
});

describe('migrate', () => {
  it('reports versions, and applies nothing when the database is current', async () => {
    expect(migrationStatus({ dataDir })).toMatchObject({ exists: false, dbVersion: 0, pending: 0 });
    populate(dbFile);
    const s = migrationStatus({ dataDir });
    expect(s).toMatchObject({ exists: true, pending: 0 });
    expect(s.dbVersion).toBe(s.codeVersion);
    const r = await migrate({ dataDir, backupDir, pool });
    expect(r).toMatchObject({ migrated: 0, backupPath: null, from: s.dbVersion, to: s.dbVersion });
  });

  it('applies pending migrations after a verified backup', async () => {
    populate(dbFile);
    // Simulate an upgrade: the code ships one migration more than the database has.
    const folder = path.join(dir, 'migrations');
    fs.cpSync(new URL('../../store/drizzle', import.meta.url), folder, { recursive: true });
    const journalFile = path.join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as {
      entries: { idx: number; when: number; tag: string; version: string; breakpoints: boolean }[];
    };
    const last = journal.entries.at(-1)!;
    journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: '0099_test_add_column' });
    fs.writeFileSync(journalFile, JSON.stringify(journal));
    fs.writeFileSync(path.join(folder, '0099_test_add_column.sql'), 'ALTER TABLE `tasks` ADD `test_note` text;');

    const before = migrationStatus({ dataDir, migrationsFolder: folder });
    expect(before.pending).toBe(1);
    const r = await migrate({ dataDir, backupDir, pool, migrationsFolder: folder });
    expect(r.migrated).toBe(1);
    expect(r.to).toBe(before.dbVersion + 1);
    expect(r.backupPath).toMatch(/pre-migrate/);
    expect(fs.existsSync(r.backupPath!)).toBe(true);
    expect(migrationStatus({ dataDir, migrationsFolder: folder }).pending).toBe(0);
  });
});
