import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '@alter0/store';
import type { JobRow } from '@alter0/store';
import { WorkerPool } from '../src/pool.js';
import type { JobHandler, RunOutcome } from '../src/pool.js';
import { backoffDelayMs } from '@alter0/core';

let dir: string;
let store: Store;
let pool: WorkerPool | null;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-queue-'));
  store = Store.open({ file: path.join(dir, 'db.sqlite') });
  pool = null;
});
afterEach(async () => {
  await pool?.drain(100);
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function submit(content: string, opts: { taskId?: string; maxAttempts?: number; timeoutS?: number } = {}): JobRow {
  return store.jobs.accept({
    content,
    channelId: 't',
    userId: 'owner',
    sessionId: null,
    taskId: opts.taskId ?? null,
    lane: 'interactive',
    maxAttempts: opts.maxAttempts ?? 3,
    timeoutS: opts.timeoutS ?? 30,
    now: Date.now(),
  }).job;
}

function startPool(handler: JobHandler, workers = 2): WorkerPool {
  pool = new WorkerPool({
    jobs: store.jobs,
    workers: { interactive: workers, background: 1 },
    backoff: { initialMs: 20, maxMs: 50, jitter: 0 },
    handler,
    idlePollMs: 20,
  });
  pool.start();
  return pool;
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
const stateOf = (id: string) => store.jobs.get(id)?.state;

describe('WorkerPool', () => {
  it('retries retryable failures with backoff until success, and fails non-retryable ones at once', async () => {
    const calls = new Map<string, number>();
    startPool(async (job) => {
      const n = (calls.get(job.id) ?? 0) + 1;
      calls.set(job.id, n);
      const content = store.jobs.message(job.messageId)!.content;
      if (content === 'flaky' && n < 3)
        return { kind: 'failed', errorClass: 'rate_limited', message: '429', stderrTail: null };
      if (content === 'auth') return { kind: 'failed', errorClass: 'auth', message: 'bad key', stderrTail: 'tail' };
      return { kind: 'succeeded' };
    });
    const flaky = submit('flaky');
    const auth = submit('auth');
    await until(() => stateOf(flaky.id) === 'succeeded' && stateOf(auth.id) === 'failed');
    expect(store.jobs.get(flaky.id)).toMatchObject({ attempt: 3 });
    expect(store.jobs.get(auth.id)).toMatchObject({ attempt: 1, errorClass: 'auth', stderrTail: 'tail' });
  });

  it('gives up after max attempts', async () => {
    startPool(async () => ({ kind: 'failed', errorClass: 'unavailable', message: '503', stderrTail: null }));
    const j = submit('x', { maxAttempts: 2 });
    await until(() => stateOf(j.id) === 'failed');
    expect(store.jobs.get(j.id)).toMatchObject({ attempt: 2, errorClass: 'unavailable' });
  });

  it('aborts a job past its timeout and records class timeout', async () => {
    startPool(
      (_job, ctx) =>
        new Promise<RunOutcome>((resolve) =>
          ctx.signal.addEventListener('abort', () =>
            resolve({ kind: 'failed', errorClass: 'canceled', message: 'aborted', stderrTail: null }),
          ),
        ),
    );
    const j = submit('hang', { timeoutS: 0.05, maxAttempts: 1 });
    await until(() => stateOf(j.id) === 'failed');
    expect(store.jobs.get(j.id)?.errorClass).toBe('timeout');
  });

  it('cancel aborts the running job and records canceled', async () => {
    const p = startPool(
      (_job, ctx) =>
        new Promise<RunOutcome>((resolve) =>
          ctx.signal.addEventListener('abort', () =>
            resolve({ kind: 'failed', errorClass: 'canceled', message: 'x', stderrTail: null }),
          ),
        ),
    );
    const j = submit('long');
    await until(() => p.isRunning(j.id));
    store.jobs.requestCancel(j.id, Date.now());
    expect(p.cancel(j.id)).toBe(true);
    await until(() => stateOf(j.id) === 'canceled');
  });

  it('drain lets short jobs finish and re-queues the rest without counting the attempt', async () => {
    const p = startPool(async (job, ctx) => {
      const content = store.jobs.message(job.messageId)!.content;
      if (content === 'short') {
        await new Promise((r) => setTimeout(r, 30));
        return { kind: 'succeeded' };
      }
      return new Promise<RunOutcome>((resolve) =>
        ctx.signal.addEventListener('abort', () =>
          resolve({ kind: 'failed', errorClass: 'canceled', message: 'x', stderrTail: null }),
        ),
      );
    });
    // Unrouted jobs of one user are serialized; give each its own task so both run at once.
    const mk = () =>
      store.tasks.create({ title: 't', executor: 'command', workspaceRoot: dir, userId: 'owner', now: Date.now() }).id;
    const s = submit('short', { taskId: mk() });
    const l = submit('long', { taskId: mk() });
    await until(() => p.isRunning(s.id) && p.isRunning(l.id));
    const r = await p.drain(300);
    pool = null;
    expect(r).toEqual({ finished: 1, interrupted: 1 });
    expect(store.jobs.get(s.id)?.state).toBe('succeeded');
    expect(store.jobs.get(l.id)).toMatchObject({ state: 'queued', attempt: 0 });
  });

  it('runs the jobs of one task one at a time, in arrival order', async () => {
    const task = store.tasks.create({
      title: 't',
      executor: 'command',
      workspaceRoot: dir,
      userId: 'owner',
      now: Date.now(),
    });
    const order: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    startPool(async (job) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      order.push(store.jobs.message(job.messageId)!.content);
      await new Promise((r) => setTimeout(r, 5));
      concurrent--;
      return { kind: 'succeeded' };
    }, 4);
    const ids = Array.from({ length: 8 }, (_, i) => submit(String(i), { taskId: task.id }).id);
    pool!.wake();
    await until(() => ids.every((id) => stateOf(id) === 'succeeded'));
    expect(order).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(maxConcurrent).toBe(1);
  });
});

describe('nothing stuck', () => {
  // Review defect 6 (P0): a failed outcome write left the job `running` forever, uncancelable.
  it('an outcome the database refuses is written again with backoff once the lock is gone, and reported meanwhile', async () => {
    store.close();
    store = Store.open({ file: path.join(dir, 'db.sqlite'), busyTimeoutMs: 20 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const errors: number[] = [];
    const recovered: number[] = [];
    pool = new WorkerPool({
      jobs: store.jobs,
      workers: { interactive: 1, background: 0 },
      backoff: { initialMs: 20, maxMs: 50, jitter: 0 },
      handler: async () => {
        await gate;
        return { kind: 'succeeded' };
      },
      idlePollMs: 20,
      recordRetryMs: 20,
      hooks: {
        onRecordError: (_j, _e, attempt) => errors.push(attempt),
        onRecordRecovered: (_j, n) => recovered.push(n),
      },
    });
    pool.start();
    const j = submit('x');
    await until(() => pool!.isRunning(j.id) && stateOf(j.id) === 'running');
    // Another process holds the write lock (a long `db verify`, a `sqlite3` shell) when the outcome is written.
    const other = Store.open({ file: path.join(dir, 'db.sqlite') }).opened.sqlite;
    other.exec('BEGIN IMMEDIATE');
    release();
    await until(() => errors.length >= 2);
    expect(pool.unrecordedOutcomes()).toEqual([
      expect.objectContaining({ jobId: j.id, lastError: expect.stringMatching(/locked|busy/i) }),
    ]);
    expect(stateOf(j.id)).toBe('running');
    other.exec('ROLLBACK');
    other.close();
    await until(() => stateOf(j.id) === 'succeeded');
    expect(recovered).toEqual([errors.length]);
    expect(pool.unrecordedOutcomes()).toEqual([]);
  });

  it('a job whose outcome waits to be written can still be canceled', async () => {
    store.close();
    store = Store.open({ file: path.join(dir, 'db.sqlite'), busyTimeoutMs: 20 });
    const other = Store.open({ file: path.join(dir, 'db.sqlite') }).opened.sqlite;
    pool = new WorkerPool({
      jobs: store.jobs,
      workers: { interactive: 1, background: 0 },
      backoff: { initialMs: 20, maxMs: 50, jitter: 0 },
      handler: async () => {
        other.exec('BEGIN IMMEDIATE');
        return { kind: 'failed', errorClass: 'unavailable', message: '503', stderrTail: null };
      },
      idlePollMs: 20,
      // The pool would not try again for a minute on its own: only the cancel can settle it in this test.
      recordRetryMs: 60_000,
    });
    pool.start();
    const j = submit('x');
    await until(() => pool!.unrecordedOutcomes().length === 1);
    other.exec('ROLLBACK');
    other.close();
    expect(store.jobs.requestCancel(j.id, Date.now()).immediate).toBe(false);
    expect(pool.cancel(j.id)).toBe(true);
    expect(store.jobs.get(j.id)).toMatchObject({ state: 'canceled', errorClass: 'canceled' });
  });

  it('the watchdog hands back a running job no worker holds, and the pool then runs it', async () => {
    const ran: string[] = [];
    const j = submit('orphan');
    // Claimed behind the pool's back (as if its worker had lost it): running, no holder.
    store.jobs.claimNext('interactive', Date.now() + 1);
    pool = new WorkerPool({
      jobs: store.jobs,
      workers: { interactive: 1, background: 0 },
      backoff: { initialMs: 20, maxMs: 50, jitter: 0 },
      handler: async (job) => {
        ran.push(job.id);
        return { kind: 'succeeded' };
      },
      idlePollMs: 20,
      watchdogMs: 30,
    });
    pool.start();
    await until(() => stateOf(j.id) === 'succeeded');
    expect(ran).toEqual([j.id]);
    expect(store.jobs.get(j.id)).toMatchObject({ attempt: 2 });
  });

  // Review defect 7: a timeout above ~24.8 days overflowed Node's timer and failed the job at once.
  it('a very long job timeout does not fire at once', async () => {
    let aborted: boolean | null = null;
    startPool(async (_job, ctx) => {
      await new Promise((r) => setTimeout(r, 50));
      aborted = ctx.signal.aborted;
      return { kind: 'succeeded' };
    });
    const j = submit('long', { timeoutS: 30 * 24 * 3600 });
    await until(() => stateOf(j.id) === 'succeeded');
    expect(aborted).toBe(false);
  });
});

describe('worker supervision', () => {
  it('a worker that cannot reach the queue backs off, reports each failure, and reports the recovery', async () => {
    let calls = 0;
    const errors: { consecutive: number; retryInMs: number }[] = [];
    const recovered: number[] = [];
    const jobs = {
      claimNext: () => {
        calls++;
        if (calls <= 3) throw new Error('SQLITE_BUSY: database is locked');
        return null;
      },
      nextWake: () => null,
    } as unknown as Store['jobs'];
    pool = new WorkerPool({
      jobs,
      workers: { interactive: 1, background: 0 },
      backoff: { initialMs: 1, maxMs: 1, jitter: 0 },
      handler: async () => ({ kind: 'succeeded' }),
      idlePollMs: 10,
      hooks: {
        onLoopError: (_lane, _err, consecutive, retryInMs) => errors.push({ consecutive, retryInMs }),
        onLoopRecovered: (_lane, failures) => recovered.push(failures),
      },
    });
    pool.start();
    await until(() => recovered.length === 1);
    expect(errors).toEqual([
      { consecutive: 1, retryInMs: 10 },
      { consecutive: 2, retryInMs: 20 },
      { consecutive: 3, retryInMs: 40 },
    ]);
    expect(recovered).toEqual([3]);
    expect(pool.alive()).toBe(true);
  });

  // The wall clock stepped back an hour while the loops were stuck: the sign of life must still age.
  it('workers that stopped going round are not alive, even after the wall clock stepped back an hour', () => {
    let mono = 0;
    let wall = Date.now();
    pool = new WorkerPool({
      jobs: { claimNext: () => null, nextWake: () => null } as unknown as Store['jobs'],
      workers: { interactive: 0, background: 0 },
      backoff: { initialMs: 1, maxMs: 1, jitter: 0 },
      handler: async () => ({ kind: 'succeeded' }),
      idlePollMs: 10,
      now: () => wall,
      monotonic: () => mono,
    });
    pool.start();
    expect(pool.alive()).toBe(true);
    mono += 11_000;
    wall += 11_000 - 3_600_000;
    expect(pool.alive()).toBe(false);
  });
});

describe('backoff', () => {
  it('grows exponentially, caps, and jitters within bounds', () => {
    const p = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
    expect(backoffDelayMs(1, p, () => 0.5)).toBe(100);
    expect(backoffDelayMs(3, p, () => 0.5)).toBe(400);
    expect(backoffDelayMs(10, p, () => 0.5)).toBe(1000);
    expect(backoffDelayMs(1, p, () => 0)).toBe(50);
    expect(backoffDelayMs(1, p, () => 1)).toBe(150);
  });
});
