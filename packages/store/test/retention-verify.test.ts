import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../src/store.js';
import { RETENTION_TABLES, planRetention, retentionDeleter } from '../src/retention.js';
import { verifyTables } from '../src/verify-queries.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
let dir: string;
let store: Store;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-store-ret-'));
  store = Store.open({ file: path.join(dir, 'alter0.db') });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A task with one answered job, closed at `closedAt` (or left open). */
function taskWithTurn(title: string, closedAt: number | null): string {
  const task = store.tasks.create({ title, executor: 'command', workspaceRoot: '/tmp/ws', userId: 'owner', now: T0 });
  const { job } = store.jobs.accept({
    content: title,
    channelId: 'test',
    userId: 'owner',
    sessionId: null,
    taskId: task.id,
    lane: 'interactive',
    maxAttempts: 3,
    timeoutS: 60,
    now: T0,
  });
  const claimed = store.jobs.claimNext('interactive', T0);
  if (claimed?.id !== job.id) throw new Error('fixture: claimed another job');
  const fence = { jobId: job.id, attempt: claimed.attempt };
  store.jobs.storeReply(fence, {
    taskId: task.id,
    content: 'reply',
    sessionId: 's',
    summary: 's',
    usageJson: null,
    executeMs: 1,
    channelId: 'test',
    userId: 'owner',
    now: T0,
  });
  store.jobs.finish(fence, { state: 'succeeded', now: T0 });
  if (closedAt !== null) {
    store.tasks.applyCloseDecision({
      taskId: task.id,
      jobId: null,
      source: 'manual',
      action: 'close',
      confidence: 1,
      reason: 'done',
      modelCalled: false,
      latencyMs: 0,
      now: closedAt,
    });
  }
  return task.id;
}

const cutoffs = (now: number) => ({
  tasks: now - 30 * DAY,
  decisions: now - 90 * DAY,
  events: now - 30 * DAY,
  jobs: now - 30 * DAY,
  memory: null,
  stats: now - 90 * DAY,
});

describe('retention queries', () => {
  it('plans a long-closed task with everything of its own, and never an open one', () => {
    const old = taskWithTurn('old', T0);
    const open = taskWithTurn('open', null);
    const plan = planRetention(store.opened.sqlite, cutoffs(T0 + 60 * DAY));
    expect(plan.tasks).toEqual([old]);
    expect(plan.messages).toHaveLength(2);
    expect(plan.jobs).toHaveLength(1);
    expect(plan.tasks).not.toContain(open);
  });

  it('deletes in plan order, but keeps what changed since the plan (a task reopened meanwhile)', () => {
    const old = taskWithTurn('old', T0);
    const sqlite = store.opened.sqlite;
    const c = cutoffs(T0 + 60 * DAY);
    const plan = planRetention(sqlite, c);
    store.tasks.applyCloseDecision({
      taskId: old,
      jobId: null,
      source: 'manual',
      action: 'reopen',
      confidence: 1,
      reason: 'again',
      modelCalled: false,
      latencyMs: 0,
      now: T0 + 60 * DAY,
    });
    const deleteBatch = retentionDeleter(sqlite, c);
    const deleted = Object.fromEntries(RETENTION_TABLES.map((t) => [t, deleteBatch(t, plan[t])]));
    expect(deleted).toMatchObject({ tasks: 0, messages: 0 });
    expect(store.tasks.get(old)?.state).toBe('open');
  });
});

describe('retention of the hourly history', () => {
  it('deletes stats_hourly and usage_hourly rows of hours older than the stats cut-off, whatever the jobs', () => {
    const sqlite = store.opened.sqlite;
    const hour = (d: number): number => T0 + d * DAY;
    for (const d of [0, 10, 100]) {
      sqlite.prepare('INSERT INTO stats_hourly (hour, rolled_at) VALUES (?, ?)').run(hour(d), hour(d));
      for (const task of ['t_a', 't_b', ''])
        sqlite
          .prepare(
            `INSERT INTO usage_hourly (hour, task_id, jobs, input_tokens, output_tokens, cost_usd, jobs_with_cost)
             VALUES (?, ?, 1, 10, 5, NULL, 0)`,
          )
          .run(hour(d), task);
    }
    // Day 101 with retention.stats 90d: the cut-off is day 11; days 0 and 10 go, day 100 stays.
    const c = cutoffs(hour(101));
    const plan = planRetention(sqlite, c);
    expect(plan.stats_hourly).toHaveLength(2);
    expect(plan.usage_hourly).toHaveLength(6);
    const deleteBatch = retentionDeleter(sqlite, c);
    expect(deleteBatch('stats_hourly', plan.stats_hourly)).toBe(2);
    expect(deleteBatch('usage_hourly', plan.usage_hourly)).toBe(6);
    expect(sqlite.prepare('SELECT hour FROM stats_hourly').pluck().all()).toEqual([hour(100)]);
    expect(sqlite.prepare('SELECT DISTINCT hour FROM usage_hourly').pluck().all()).toEqual([hour(100)]);
  });
});

describe('verify queries', () => {
  it('counts rows and finds a closed task without a close time', () => {
    const id = taskWithTurn('t', T0);
    let report = verifyTables(store.opened.sqlite, { lockHeld: false });
    expect(report.counts).toMatchObject({ tasks: { closed: 1 }, jobs: { succeeded: 1 }, messages: 2 });
    expect(report.invariants.every((i) => i.ok)).toBe(true);
    store.opened.sqlite.prepare('UPDATE tasks SET closed_at = NULL WHERE id = ?').run(id);
    report = verifyTables(store.opened.sqlite, { lockHeld: false });
    expect(report.invariants.find((i) => i.name === 'closed tasks have a close time')).toMatchObject({
      ok: false,
      count: 1,
      examples: [id],
    });
  });

  it('counts a running job as an orphan only when no process holds the data directory', () => {
    store.jobs.accept({
      content: 'x',
      channelId: 'test',
      userId: 'owner',
      sessionId: null,
      taskId: null,
      lane: 'interactive',
      maxAttempts: 3,
      timeoutS: 60,
      now: T0,
    });
    store.jobs.claimNext('interactive', T0);
    const orphan = (lockHeld: boolean) =>
      verifyTables(store.opened.sqlite, { lockHeld }).invariants.find(
        (i) => i.name === 'no running job without a lock holder',
      );
    expect(orphan(false)).toMatchObject({ ok: false, count: 1 });
    expect(orphan(true)).toMatchObject({ ok: true, detail: 'not applicable: a process holds the data directory' });
  });
});
