import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseDamagedError, LimitError, NotFoundError } from '@alter0/core';
import type { AcceptInput } from '../src/jobs-repo.js';
import { Store } from '../src/store.js';

let dir: string;
let store: Store;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-commits-'));
  store = Store.open({ file: path.join(dir, 'alter0.db') });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const input = (content: string, over: Partial<AcceptInput> = {}): AcceptInput => ({
  content,
  channelId: 'test',
  userId: 'owner',
  sessionId: null,
  taskId: null,
  lane: 'interactive',
  maxAttempts: 3,
  timeoutS: 60,
  now: Date.now(),
  ...over,
});

const synchronous = (): unknown => store.opened.sqlite.pragma('synchronous', { simple: true });

describe('group commit of accepts', () => {
  it('commits many messages in one durable transaction, in order', () => {
    const before = store.commitCounts();
    const results = store.jobs.acceptMany(['a', 'b', 'c'].map((c) => input(c)));
    expect(store.commitCounts().durable - before.durable).toBe(1);
    const ids = results.map((r) => (r.ok ? r.value.job.id : null));
    expect(ids.every((id) => id !== null)).toBe(true);
    expect(ids.map((id) => store.jobs.message(store.jobs.mustGet(id ?? '').messageId)?.content)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('refuses one input on its own (a missing task, a full queue) and keeps the others', () => {
    const results = store.jobs.acceptMany([
      input('first', { maxQueued: 2 }),
      input('to nowhere', { taskId: 't_missing' }),
      input('second', { maxQueued: 2 }),
      // The queue now holds two: the depth limit counts the messages accepted earlier in the same group.
      input('third', { maxQueued: 2 }),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true, false]);
    expect(results[1]?.ok === false && results[1].error).toBeInstanceOf(NotFoundError);
    expect(results[3]?.ok === false && results[3].error).toBeInstanceOf(LimitError);
    const contents = store.jobs.list().map((j) => store.jobs.message(j.messageId)?.content);
    expect(contents.sort()).toEqual(['first', 'second']);
  });

  it('a write that fails refuses the whole group and keeps nothing of it', () => {
    // A content the database refuses stands in for a full disk: the write itself fails, not a check.
    store.opened.sqlite.exec(`CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.content = 'boom'
      BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END`);
    expect(() => store.jobs.acceptMany([input('ok 1'), input('boom'), input('ok 2')])).toThrow(/disk full/);
    expect(store.jobs.list()).toEqual([]);
    expect(store.jobs.countMessages()).toBe(0);
  });
});

describe('durable and relaxed commits', () => {
  it('a relaxed commit runs at synchronous=NORMAL and leaves the connection at FULL, even when it throws', () => {
    let seen: unknown;
    store.relaxed(() => {
      seen = synchronous();
    });
    expect(seen).toBe(1);
    expect(synchronous()).toBe(2);
    expect(() =>
      store.relaxed(() => {
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(synchronous()).toBe(2);
    expect(store.commitCounts()).toMatchObject({ relaxed: 1 });
  });

  it('nested in a durable transaction, a relaxed write takes the outer commit (one durable commit)', () => {
    const before = store.commitCounts();
    store.transaction(() => {
      store.relaxed(() =>
        store.tasks.create({ title: 't', executor: 'claude', workspaceRoot: dir, userId: 'owner', now: 1 }),
      );
    });
    const after = store.commitCounts();
    expect([after.durable - before.durable, after.relaxed - before.relaxed]).toEqual([1, 0]);
  });

  it("a job's claim, stage and timings are relaxed; its reply and outcome durable", () => {
    const task = store.tasks.create({ title: 't', executor: 'claude', workspaceRoot: dir, userId: 'owner', now: 1 });
    store.jobs.accept(input('hi', { taskId: task.id }));
    const before = store.commitCounts();
    const job = store.jobs.claimNext('interactive', Date.now());
    if (!job) throw new Error('nothing claimed');
    const fence = { jobId: job.id, attempt: job.attempt };
    store.jobs.setStage(fence, 'execute', Date.now());
    store.jobs.recordTiming(fence, 'routeMs', 3, Date.now());
    store.jobs.storeReply(fence, {
      ...{ taskId: task.id, content: 'hello', sessionId: null, summary: 's', usageJson: null, executeMs: 5 },
      ...{ channelId: 'test', userId: 'owner', now: Date.now() },
    });
    store.jobs.finish(fence, { state: 'succeeded', now: Date.now() });
    const after = store.commitCounts();
    expect({ durable: after.durable - before.durable, relaxed: after.relaxed - before.relaxed }).toEqual({
      durable: 2,
      relaxed: 3,
    });
    expect(store.jobs.mustGet(job.id)).toMatchObject({ state: 'succeeded', routeMs: 3, executeMs: 5 });
  });
});

describe('the quick_check at open', () => {
  function damageIndexPage(file: string): void {
    const db = new Database(file);
    db.pragma('journal_mode = DELETE');
    const page = Number(db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'jobs_task_state'").pluck().get());
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    db.close();
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(pageSize - 100, 0x33), 0, pageSize - 100, (page - 1) * pageSize + 100);
    fs.closeSync(fd);
    // Back in WAL mode, as alter0 keeps it: opening it then changes nothing in the file.
    const wal = new Database(file);
    wal.pragma('journal_mode = WAL');
    wal.close();
  }

  it('refuses a damaged database before anything is migrated or written, and says how to restore', () => {
    const file = path.join(dir, 'alter0.db');
    store.jobs.accept(input('kept'));
    store.close();
    damageIndexPage(file);
    const before = fs.readFileSync(file);
    expect(() => Store.open({ file, quickCheck: true })).toThrow(DatabaseDamagedError);
    expect(() => Store.open({ file, quickCheck: true })).toThrow(/is damaged \(quick_check: .*alter0 db restore/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    store = Store.open({ file: path.join(dir, 'other.db'), quickCheck: true });
  });

  it('a file that is not a database is refused with the same advice, never as an unexpected error', () => {
    const file = path.join(dir, 'garbage.db');
    fs.writeFileSync(file, Buffer.alloc(8192, 7));
    expect(() => Store.open({ file, quickCheck: true })).toThrow(DatabaseDamagedError);
    expect(() => Store.open({ file })).toThrow(/cannot be read as an SQLite database .*alter0 db restore/);
  });
});
