import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Store } from '@alter0/store';
import { MaintenancePool } from '../src/pool.js';
import { formatVerifyReport, verify } from '../src/verify.js';
import { accept, populate, tempDir } from './fixtures.js';

let pool: MaintenancePool;
let dir: string;
let dbFile: string;

beforeAll(() => {
  pool = new MaintenancePool();
});
afterAll(async () => {
  await pool.close();
});
beforeEach(() => {
  dir = tempDir();
  dbFile = path.join(dir, 'alter0.db');
  populate(dbFile);
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const raw = (fn: (db: Database.Database) => void): void => {
  const db = new Database(dbFile);
  try {
    fn(db);
  } finally {
    db.close();
  }
};

describe('verify', () => {
  it('passes a healthy database and counts jobs and tasks per state', async () => {
    const r = await verify({ dbFile, lockHeld: false, pool });
    expect(r.ok).toBe(true);
    expect(r.integrity.ok && r.foreignKeys.ok && r.schema.ok).toBe(true);
    expect(r.invariants.every((i) => i.ok)).toBe(true);
    expect(r.counts.jobs).toEqual({ queued: 0, running: 0, succeeded: 15, failed: 0, canceled: 0 });
    expect(r.counts.tasks).toEqual({ open: 4, closed: 1 });
    expect(r.counts.messages).toBe(30);
    expect(formatVerifyReport(r)).toMatch(/verify: ok$/);
  });

  it('reports a job stuck running when no process holds the lock, but not while one does', async () => {
    const store = Store.open({ file: dbFile });
    const { job } = accept(store, 'stuck', Date.now());
    store.jobs.claimNext('interactive', Date.now());
    store.close();
    const offline = await verify({ dbFile, lockHeld: false, pool });
    expect(offline.ok).toBe(false);
    const inv = offline.invariants.find((i) => i.name === 'no running job without a lock holder')!;
    expect(inv).toMatchObject({ ok: false, count: 1, examples: [job.id] });
    expect(formatVerifyReport(offline)).toContain(`FAIL  no running job without a lock holder: 1`);
    expect(formatVerifyReport(offline)).toContain('alter0 serve');
    const online = await verify({ dbFile, lockHeld: true, pool });
    expect(online.ok).toBe(true);
    expect(online.counts.jobs.running).toBe(1);
  });

  it('reports a user message that has neither a task nor a job (lost work)', async () => {
    const store = Store.open({ file: dbFile });
    const { messageId, job } = accept(store, 'lost', Date.now());
    store.close();
    raw((db) => db.prepare('DELETE FROM jobs WHERE id = ?').run(job.id));
    const r = await verify({ dbFile, lockHeld: false, pool });
    expect(r.ok).toBe(false);
    expect(r.invariants.find((i) => i.name === 'every user message has a task or a job')).toMatchObject({
      ok: false,
      examples: [messageId],
    });
  });

  it('does not count an unrouted message that is queued or was canceled as lost', async () => {
    const store = Store.open({ file: dbFile });
    accept(store, 'waiting', Date.now());
    const { job } = accept(store, 'canceled', Date.now());
    store.jobs.requestCancel(job.id, Date.now());
    store.close();
    expect((await verify({ dbFile, lockHeld: false, pool })).ok).toBe(true);
  });

  it('reports rows that point at missing parents (foreign_key_check)', async () => {
    raw((db) => {
      db.pragma('foreign_keys = OFF');
      db.prepare("UPDATE jobs SET task_id = 't_missing' WHERE rowid = (SELECT min(rowid) FROM jobs)").run();
    });
    const r = await verify({ dbFile, lockHeld: false, pool });
    expect(r.ok).toBe(false);
    expect(r.foreignKeys).toMatchObject({ ok: false, count: 1 });
    expect(r.foreignKeys.examples[0]).toMatchObject({ table: 'jobs', parent: 'tasks' });
    expect(formatVerifyReport(r)).toContain('FAIL  foreign_key_check: 1 row(s) point at missing parents');
  });

  it('reports a damaged database file (integrity_check)', async () => {
    raw((db) => {
      db.pragma('journal_mode = DELETE');
    });
    // Damage an index page: the tables still read, integrity_check finds the index out of step.
    const db = new Database(dbFile);
    const page = Number(db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'jobs_task_state'").pluck().get());
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    db.close();
    const fd = fs.openSync(dbFile, 'r+');
    fs.writeSync(fd, Buffer.alloc(pageSize - 100, 0x33), 0, pageSize - 100, (page - 1) * pageSize + 100);
    fs.closeSync(fd);
    const r = await verify({ dbFile, lockHeld: false, pool });
    expect(r.ok).toBe(false);
    expect(r.integrity.ok).toBe(false);
    expect(r.integrity.messages.length).toBeGreaterThan(0);
  });

  it('reports a file that is not a database at all instead of crashing', async () => {
    fs.rmSync(`${dbFile}-wal`, { force: true });
    fs.rmSync(`${dbFile}-shm`, { force: true });
    fs.writeFileSync(dbFile, Buffer.alloc(8192, 0x41));
    const r = await verify({ dbFile, lockHeld: false, pool });
    expect(r.ok).toBe(false);
    expect(r.integrity.messages[0]).toMatch(/^cannot open the database: .*not a database/);
    expect(formatVerifyReport(r)).toMatch(/FAIL {2}integrity_check: cannot open the database/);
  });

  it('reports a schema newer than the code with the store message', async () => {
    raw((db) =>
      db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('future', Date.now() + 1e12),
    );
    const r = await verify({ dbFile, lockHeld: false, pool });
    expect(r.ok).toBe(false);
    expect(r.schema.error).toMatch(/newer than this alter0 knows/);
  });

  it('refuses a missing database', async () => {
    await expect(verify({ dbFile: path.join(dir, 'nope.db'), lockHeld: false, pool })).rejects.toThrow(
      /there is no database at/,
    );
  });
});
