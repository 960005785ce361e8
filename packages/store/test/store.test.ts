import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { LockHeldError, SchemaTooNewError } from '@alter0/core';
import { Store } from '../src/store.js';
import { PAGE_CACHE_KIB } from '../src/db.js';
import { acquireDataDirLock } from '../src/lock.js';
import { MIGRATIONS_FOLDER, codeSchemaVersion } from '../src/migrations.js';

let dir: string;
let store: Store;
const file = (): string => path.join(dir, 'alter0.db');

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-store-'));
  store = Store.open({ file: file() });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const accept = (content: string, taskId: string | null = null, userId = 'owner', now = Date.now()) =>
  store.jobs.accept({
    content,
    channelId: 'test',
    userId,
    sessionId: null,
    taskId,
    lane: 'interactive',
    maxAttempts: 3,
    timeoutS: 60,
    now,
  });

describe('connection', () => {
  it('runs in WAL with synchronous=FULL and foreign keys on, and records the schema version', () => {
    expect(store.opened.pragmas).toMatchObject({ journalMode: 'wal', synchronous: 2, foreignKeys: 1 });
    expect(store.opened.schema.dbVersion).toBe(codeSchemaVersion());
    expect(store.opened.sqlite.pragma('user_version', { simple: true })).toBe(codeSchemaVersion());
  });

  it('caches at most PAGE_CACHE_KIB of pages per connection, the read-only ones (the candidates worker) too', () => {
    // better-sqlite3's own 16 MB per connection filled for hours as the database grew, and read as a leak.
    expect(store.opened.pragmas.cacheKib).toBe(PAGE_CACHE_KIB);
    const reader = Store.open({ file: file(), readonly: true, migrate: false });
    try {
      expect(reader.opened.sqlite.pragma('cache_size', { simple: true })).toBe(-PAGE_CACHE_KIB);
    } finally {
      reader.close();
    }
    expect(PAGE_CACHE_KIB).toBeLessThanOrEqual(4096);
  });

  it('refuses a database whose schema is newer than the code, without changing it', () => {
    store.opened.sqlite
      .prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)')
      .run('future', Date.now() + 10 ** 9);
    store.close();
    const before = fs.readFileSync(file());
    expect(() => Store.open({ file: file() })).toThrow(SchemaTooNewError);
    expect(() => Store.open({ file: file() })).toThrow(`newer than this alter0 knows (version ${codeSchemaVersion()})`);
    expect(fs.readFileSync(file()).equals(before)).toBe(true);
    store = Store.open({ file: path.join(dir, 'other.db') });
  });
});

describe('lock', () => {
  it('a second holder is refused with the first holder pid, and the lock frees when that process dies', async () => {
    const lockDir = path.join(dir, 'data');
    const storeDist = new URL('../dist/lock.js', import.meta.url).href;
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import {acquireDataDirLock} from ${JSON.stringify(storeDist)}; acquireDataDirLock(${JSON.stringify(lockDir)}); console.log('locked'); setInterval(()=>{}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => (b.toString().includes('locked') ? resolve() : undefined));
      child.on('exit', (c) => reject(new Error(`child exited ${c}`)));
    });
    let caught: unknown;
    try {
      acquireDataDirLock(lockDir);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(LockHeldError);
    expect((caught as LockHeldError).holderPid).toBe(child.pid);
    expect((caught as Error).message).toContain(`pid ${child.pid}`);
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const lock = acquireDataDirLock(lockDir);
    lock.release();
  });
});

describe('queue claims', () => {
  it('runs one job per task at a time in arrival order, and serializes routing per user', () => {
    const task = store.tasks.create({ title: 't', executor: 'command', workspaceRoot: dir, userId: 'owner', now: 1 });
    const a = accept('a', task.id).job;
    const b = accept('b', task.id).job;
    const u1 = accept('u1').job;
    const u2 = accept('u2').job;
    const other = accept('o', null, 'someone-else').job;
    const now = Date.now() + 1000;
    const c1 = store.jobs.claimNext('interactive', now);
    expect(c1?.id).toBe(a.id);
    const c2 = store.jobs.claimNext('interactive', now);
    expect(c2?.id).toBe(u1.id); // b waits behind a
    const c3 = store.jobs.claimNext('interactive', now);
    expect(c3?.id).toBe(other.id); // u2 waits behind u1 (same user), another user's routing proceeds
    expect(store.jobs.claimNext('interactive', now)).toBeNull();
    store.jobs.finish({ jobId: a.id, attempt: 1 }, { state: 'succeeded', now });
    expect(store.jobs.claimNext('interactive', now)?.id).toBe(b.id);
    store.jobs.assignTask({ jobId: u1.id, attempt: 1 }, task.id, now);
    expect(store.jobs.claimNext('interactive', now)?.id).toBe(u2.id);
  });

  it('fences writes by attempt: a late result of an old attempt changes nothing', () => {
    const j = accept('x').job;
    const c = store.jobs.claimNext('interactive', Date.now() + 1)!;
    expect(c.attempt).toBe(1);
    const old = { jobId: j.id, attempt: 1 };
    expect(
      store.jobs.scheduleRetry(old, {
        nextRunAt: 0,
        now: 1,
        errorClass: 'timeout',
        errorMessage: 'slow',
        stderrTail: null,
      }),
    ).toBe('queued');
    const c2 = store.jobs.claimNext('interactive', Date.now() + 1)!;
    expect(c2.attempt).toBe(2);
    expect(store.jobs.finish(old, { state: 'failed', now: 2, errorClass: 'exit', errorMessage: 'late' })).toBeNull();
    expect(store.jobs.get(j.id)?.state).toBe('running');
    expect(store.jobs.finish({ jobId: j.id, attempt: 2 }, { state: 'succeeded', now: 3 })).toBe('succeeded');
  });

  it('recovers orphans at boot: re-queued with the attempt counted, failed when out of attempts, completed when replied', () => {
    const t = store.tasks.create({ title: 't', executor: 'command', workspaceRoot: dir, userId: 'owner', now: 1 });
    const r1 = accept('one').job;
    const r2 = store.jobs.accept({
      content: 'two',
      channelId: 'c',
      userId: 'u2',
      sessionId: null,
      taskId: null,
      lane: 'interactive',
      maxAttempts: 1,
      timeoutS: 5,
      now: Date.now(),
    }).job;
    const r3 = accept('three', t.id, 'u3').job;
    const now = Date.now() + 5;
    for (let i = 0; i < 3; i++) store.jobs.claimNext('interactive', now);
    store.jobs.storeReply(
      { jobId: r3.id, attempt: 1 },
      {
        taskId: t.id,
        content: 'done',
        sessionId: 's',
        summary: '',
        usageJson: null,
        executeMs: 1,
        channelId: 'c',
        userId: 'u3',
        now,
      },
    );
    const rep = store.jobs.recoverOrphans(now);
    expect(rep.requeued).toEqual([r1.id]);
    expect(rep.failed).toEqual([r2.id]);
    expect(rep.completed).toEqual([r3.id]);
    expect(store.jobs.get(r1.id)).toMatchObject({ state: 'queued', attempt: 1 });
    expect(store.jobs.get(r2.id)?.errorMessage).toMatch(/interrupted/);
    expect(store.jobs.stats(now).byState.running).toBe(0);
  });

  it('cancel: queued at once, running by request, terminal refused; retry makes a new job', () => {
    const q = accept('q').job;
    expect(store.jobs.requestCancel(q.id, 5).job.state).toBe('canceled');
    expect(() => store.jobs.requestCancel(q.id, 6)).toThrow(/already canceled/);
    const again = store.jobs.retry(q.id, 7);
    expect(again).toMatchObject({ created: true, job: { state: 'queued', retryOf: q.id, messageId: q.messageId } });
    expect(() => store.jobs.retry(again.job.id, 8)).toThrow(/only failed or canceled/);
  });

  // Review defect 4: two retries of one job made two jobs, both executed.
  it('retry is idempotent: a second retry of the same job answers with the first retry', () => {
    const q = accept('q').job;
    store.jobs.requestCancel(q.id, 5);
    const first = store.jobs.retry(q.id, 6);
    const second = store.jobs.retry(q.id, 7);
    expect(second).toEqual({ created: false, job: expect.objectContaining({ id: first.job.id }) });
    expect(store.jobs.list({ limit: 10 }).filter((j) => j.retryOf === q.id)).toHaveLength(1);
  });

  // The one rule: a job whose reply is stored has answered; nothing may execute it again.
  describe('an answered job', () => {
    const answered = () => {
      const t = store.tasks.create({ title: 't', executor: 'command', workspaceRoot: dir, userId: 'owner', now: 1 });
      const j = accept('x', t.id).job;
      const c = store.jobs.claimNext('interactive', Date.now() + 1)!;
      const f = { jobId: j.id, attempt: c.attempt };
      const reply = store.jobs.storeReply(f, {
        taskId: t.id,
        content: 'done',
        sessionId: 's',
        summary: '',
        usageJson: null,
        executeMs: 1,
        channelId: 'c',
        userId: 'owner',
        now: 2,
      });
      expect(reply).not.toBeNull();
      return { j, f, t };
    };
    // Review defect 1: a close-stage timeout re-queued a job that had answered.
    it('is never re-queued by a retryable failure: it ends succeeded', () => {
      const { j, f } = answered();
      expect(
        store.jobs.scheduleRetry(f, {
          nextRunAt: 0,
          now: 3,
          errorClass: 'timeout',
          errorMessage: 'slow close',
          stderrTail: null,
        }),
      ).toBe('succeeded');
      expect(store.jobs.get(j.id)).toMatchObject({ state: 'succeeded', errorClass: null, errorMessage: null });
      expect(store.jobs.claimNext('interactive', Date.now() + 10)).toBeNull();
    });
    // Review defect 2: a graceful stop during the close stage re-ran the job after restart.
    it('is not yielded back to the queue by a drain', () => {
      const { j, f } = answered();
      expect(store.jobs.yieldBack(f, 3, 'interrupted by shutdown; re-queued')).toBe('succeeded');
      expect(store.jobs.get(j.id)?.state).toBe('succeeded');
    });
    // Review defect 3: a cancel after the reply left the job canceled with a reply; a retry answered again.
    it('is not canceled by a late cancel, and cannot be retried', () => {
      const { j, f } = answered();
      expect(store.jobs.requestCancel(j.id, 3).immediate).toBe(false);
      expect(
        store.jobs.finish(f, {
          state: 'canceled',
          now: 4,
          errorClass: 'canceled',
          errorMessage: 'canceled by the owner',
        }),
      ).toBe('succeeded');
      expect(store.jobs.get(j.id)).toMatchObject({ state: 'succeeded', cancelRequested: true });
      expect(() => store.jobs.retry(j.id, 5)).toThrow(/already answered .*Send a new message/);
    });
    it('records no failure note when asked to fail', () => {
      const { j, f, t } = answered();
      expect(
        store.jobs.finish(f, {
          state: 'failed',
          now: 3,
          errorClass: 'exit',
          errorMessage: 'x',
          systemNote: 'could not answer',
        }),
      ).toBe('succeeded');
      expect(
        store.tasks
          .messages(t.id)
          .map((m) => m.role)
          .sort(),
      ).toEqual(['assistant', 'user']);
      expect(store.jobs.get(j.id)?.state).toBe('succeeded');
    });
  });

  it('a cancel requested before the reply is stored wins: nothing is stored, never canceled and answered', () => {
    const t = store.tasks.create({ title: 't', executor: 'command', workspaceRoot: dir, userId: 'owner', now: 1 });
    const j = accept('x', t.id).job;
    const c = store.jobs.claimNext('interactive', Date.now() + 1)!;
    store.jobs.requestCancel(j.id, 2);
    const f = { jobId: j.id, attempt: c.attempt };
    expect(
      store.jobs.storeReply(f, {
        taskId: t.id,
        content: 'late',
        sessionId: 's',
        summary: '',
        usageJson: null,
        executeMs: 1,
        channelId: 'c',
        userId: 'owner',
        now: 3,
      }),
    ).toBeNull();
    expect(store.jobs.finish(f, { state: 'canceled', now: 4, errorClass: 'canceled', errorMessage: 'canceled' })).toBe(
      'canceled',
    );
    expect(store.jobs.get(j.id)).toMatchObject({ state: 'canceled', replyMessageId: null });
    expect(store.tasks.messages(t.id).map((m) => m.role)).toEqual(['user']);
  });

  it('a backward clock step does not stall jobs scheduled by the later clock', () => {
    const j = accept('x', null, 'owner', 1_000_000_000).job;
    // The clock stepped back an hour since: the job looks due an hour from now.
    const now = 1_000_000_000 - 3_600_000;
    expect(store.jobs.claimNext('interactive', now, 120_000)?.id).toBe(j.id);
  });

  it('the watchdog hands back only running jobs no worker holds', () => {
    const a = accept('a', null, 'u1').job;
    const b = accept('b', null, 'u2').job;
    store.jobs.claimNext('interactive', Date.now() + 1);
    store.jobs.claimNext('interactive', Date.now() + 1);
    const rep = store.jobs.recoverOrphans(Date.now(), { held: new Set([a.id]), why: 'no worker held the job' });
    expect(rep.requeued).toEqual([b.id]);
    expect(store.jobs.get(a.id)?.state).toBe('running');
    expect(store.jobs.get(b.id)?.errorMessage).toMatch(/no worker held the job during attempt 1/);
  });

  it('accept refuses an unknown task and stores nothing', () => {
    expect(() => accept('x', 't_01hzzzzzzzzzzzzzzzzzzzzzzz')).toThrow(/does not exist/);
    expect(store.jobs.countMessages()).toBe(0);
  });
});

describe('close rule', () => {
  it('manual close and reopen change state and record decisions', () => {
    const t = store.tasks.create({ title: 't', executor: 'command', workspaceRoot: dir, userId: 'owner', now: 1 });
    store.tasks.applyCloseDecision({
      taskId: t.id,
      jobId: null,
      source: 'manual',
      action: 'close',
      confidence: 1,
      reason: 'done',
      modelCalled: false,
      latencyMs: 0,
      now: 2,
    });
    expect(store.tasks.get(t.id)).toMatchObject({ state: 'closed', closedBy: 'manual', closeReason: 'done' });
    expect(() =>
      store.tasks.applyCloseDecision({
        taskId: t.id,
        jobId: null,
        source: 'manual',
        action: 'close',
        confidence: 1,
        reason: 'x',
        modelCalled: false,
        latencyMs: 0,
        now: 3,
      }),
    ).toThrow(/already closed/);
    store.tasks.applyCloseDecision({
      taskId: t.id,
      jobId: null,
      source: 'manual',
      action: 'reopen',
      confidence: 1,
      reason: 'more',
      modelCalled: false,
      latencyMs: 0,
      now: 4,
    });
    expect(store.tasks.get(t.id)?.state).toBe('open');
    expect(store.tasks.closeDecisions(t.id).map((d) => d.action)).toEqual(['close', 'reopen']);
  });

  // Review defect 5: the closer closed a task while a newer message for it waited.
  it('a task never closes under queued work: auto close is kept open with the reason, manual close refused', () => {
    const t = store.tasks.create({ title: 't', executor: 'command', workspaceRoot: dir, userId: 'owner', now: 1 });
    const first = accept('one', t.id).job;
    const waiting = accept('two', t.id).job;
    const auto = store.tasks.applyCloseDecision({
      taskId: t.id,
      jobId: first.id,
      source: 'auto',
      action: 'close',
      confidence: 0.9,
      reason: 'done',
      modelCalled: true,
      latencyMs: 1,
      now: 2,
    });
    expect(auto.decision).toMatchObject({
      action: 'keep_open',
      reason: expect.stringContaining(`job ${waiting.id} of this task is queued`),
    });
    expect(store.tasks.get(t.id)?.state).toBe('open');
    expect(() =>
      store.tasks.applyCloseDecision({
        taskId: t.id,
        jobId: null,
        source: 'manual',
        action: 'close',
        confidence: 1,
        reason: 'x',
        modelCalled: false,
        latencyMs: 0,
        now: 3,
      }),
    ).toThrow(/cannot close: job .* is queued\. Cancel that work or wait/);
  });

  it('a job about to execute in a closed task reopens it with a recorded decision', () => {
    const t = store.tasks.create({ title: 't', executor: 'command', workspaceRoot: dir, userId: 'owner', now: 1 });
    store.tasks.applyCloseDecision({
      taskId: t.id,
      jobId: null,
      source: 'manual',
      action: 'close',
      confidence: 1,
      reason: 'done',
      modelCalled: false,
      latencyMs: 0,
      now: 2,
    });
    const j = accept('more', t.id).job;
    expect(store.tasks.reopenForJob(t.id, { id: j.id, messageId: j.messageId }, 3)).toBe(true);
    expect(store.tasks.get(t.id)?.state).toBe('open');
    expect(store.tasks.closeDecisions(t.id).at(-1)).toMatchObject({
      action: 'reopen',
      jobId: j.id,
      reason: expect.stringContaining(j.messageId),
    });
    expect(store.tasks.reopenForJob(t.id, { id: j.id, messageId: j.messageId }, 4)).toBe(false);
  });
});

describe('recently closed tasks', () => {
  const close = (id: string, now: number) =>
    store.tasks.applyCloseDecision({
      taskId: id,
      jobId: null,
      source: 'manual',
      action: 'close',
      confidence: 1,
      reason: `closed at ${now}`,
      modelCalled: false,
      latencyMs: 0,
      now,
    });
  const task = (now: number) =>
    store.tasks.create({ title: 't', executor: 'command', workspaceRoot: dir, userId: 'owner', now });

  it('closedSince returns the tasks closed at or after the cut-off, newest first, and counts them', () => {
    const [old, edge, recent, open] = [task(1), task(2), task(3), task(4)];
    close(old.id, 1_000);
    close(edge.id, 2_000);
    close(recent.id, 3_000);
    // Touched after its close (its updated_at moved on): still judged by when it closed.
    store.tasks.touch(old.id, 5_000);
    expect(store.tasks.closedSince(2_000).map((t) => t.id)).toEqual([recent.id, edge.id]);
    expect(store.tasks.closedSince(2_000, 1).map((t) => t.id)).toEqual([recent.id]);
    expect(store.tasks.countClosedSince(2_000)).toBe(2);
    expect(store.tasks.closedSince(0).map((t) => t.id)).toEqual([old.id, recent.id, edge.id]);
    expect(store.tasks.closedSince(3_001)).toEqual([]);
    expect(store.tasks.closedSince(0).some((t) => t.id === open.id)).toBe(false);
  });

  it('rankTexts streams the open and recently closed tasks with their last lines cut, and frees the connection', () => {
    const [old, recent, open] = [task(1), task(2), task(3)];
    close(old.id, 1_000);
    close(recent.id, 3_000);
    const say = (taskId: string, content: string, now: number) =>
      store.tasks.addMessage({
        taskId,
        role: 'user',
        content,
        jobId: null,
        channelId: 'test',
        userId: 'owner',
        sessionId: null,
        now,
      });
    for (let i = 1; i <= 4; i++) say(open.id, `line ${i} ${'x'.repeat(i * 10)}`, 10 + i);
    const q = { closedSince: 2_000, recent: 2, charsEach: 12 };
    const rows = [...store.tasks.rankTexts(q)];
    expect(rows.map((r) => [r.id, r.closed])).toEqual([
      [open.id, false],
      [recent.id, true],
    ]);
    expect(rows[0]?.recent).toEqual(['line 4 xxxxx', 'line 3 xxxxx']);
    expect(rows[1]?.recent).toEqual([]);
    expect([...store.tasks.rankTexts({ ...q, closedSince: null })].map((r) => r.id)).toEqual([open.id]);
    // Left early (the ranking threw, or had enough): the statement is reset and the connection free again.
    for (const r of store.tasks.rankTexts(q)) if (r.id === open.id) break;
    expect(store.tasks.get(old.id)?.state).toBe('closed');
    expect([...store.tasks.rankTexts(q)]).toHaveLength(2);
  });

  it('finds them through the tasks_state_updated index, not a scan', () => {
    const db = new Database(file(), { readonly: true });
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT * FROM tasks WHERE state = 'closed' AND updated_at >= ? AND closed_at >= ? ORDER BY updated_at DESC LIMIT 10`,
      )
      .all(0, 0) as { detail: string }[];
    db.close();
    expect(plan.map((p) => p.detail).join('\n')).toMatch(
      /USING INDEX tasks_state_updated \(state=\? AND updated_at>\?\)/,
    );
  });
});

describe('upgrade', () => {
  it('backs up a populated database before applying a new migration, and keeps every row', () => {
    const t = store.tasks.create({
      title: 'keep me',
      executor: 'command',
      workspaceRoot: dir,
      userId: 'owner',
      now: 1,
    });
    accept('hello', t.id);
    store.close();
    // The next release's migrations: the shipped ones plus one more.
    const next = path.join(dir, 'next-migrations');
    fs.cpSync(MIGRATIONS_FOLDER, next, { recursive: true });
    const journal = JSON.parse(fs.readFileSync(path.join(next, 'meta/_journal.json'), 'utf8')) as {
      entries: { idx: number; when: number; tag: string; version: string; breakpoints: boolean }[];
    };
    const last = journal.entries.at(-1)!;
    journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: '9999_test_next' });
    fs.writeFileSync(path.join(next, 'meta/_journal.json'), JSON.stringify(journal));
    fs.writeFileSync(
      path.join(next, '9999_test_next.sql'),
      'ALTER TABLE `tasks` ADD `priority` integer DEFAULT 0 NOT NULL;',
    );
    store = Store.open({ file: file(), migrationsFolder: next });
    const v = codeSchemaVersion();
    expect(store.opened.schema).toMatchObject({ migrated: 1, dbVersion: v + 1 });
    expect(store.opened.schema.backupPath).toMatch(new RegExp(`pre-migrate-v${v}-to-v${v + 1}\\.db$`));
    expect(store.tasks.get(t.id)?.title).toBe('keep me');
    expect(store.tasks.messages(t.id).map((m) => m.content)).toEqual(['hello']);
    // The backup is a complete database at the old version.
    const b = new Database(store.opened.schema.backupPath!, { readonly: true });
    expect(b.prepare('SELECT title FROM tasks').all()).toEqual([{ title: 'keep me' }]);
    expect(b.pragma('integrity_check', { simple: true })).toBe('ok');
    b.close();
    // And the current code now refuses the upgraded database.
    store.close();
    expect(() => Store.open({ file: file() })).toThrow(SchemaTooNewError);
    store = Store.open({ file: path.join(dir, 'fresh.db') });
  });
});
