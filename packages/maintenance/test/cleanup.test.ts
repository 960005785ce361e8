import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Store } from '@alter0/store';
import { cleanup, formatCleanupReport, retentionFromConfig } from '../src/cleanup.js';
import { cleanupDatabase } from '../src/ops/cleanup.js';
import { MaintenancePool } from '../src/pool.js';
import { verify } from '../src/verify.js';
import { DAY, accept, closeTask, count, newTask, tempDir, turn } from './fixtures.js';

const NOW = Date.UTC(2025, 5, 1);
const ago = (days: number): number => NOW - days * DAY;
const retention = {
  closed_tasks: 90 * DAY,
  decisions: 60 * DAY,
  events: 30 * DAY,
  finished_jobs: 30 * DAY,
  memory: null,
  stats: 90 * DAY,
};

let pool: MaintenancePool;
let dir: string;
let dbFile: string;
let ids: Record<'old' | 'recentClosed' | 'open' | 'closedBusy' | 'unroutedOld' | 'unroutedNew' | 'queued', string>;

beforeAll(() => {
  pool = new MaintenancePool();
});
afterAll(async () => {
  await pool.close();
});
beforeEach(() => {
  dir = tempDir();
  dbFile = path.join(dir, 'alter0.db');
  const store = Store.open({ file: dbFile });
  try {
    const old = newTask(store, 'closed 100 days ago', ago(121));
    turn(store, old, 'a', ago(120));
    turn(store, old, 'b', ago(119));
    store.opened.sqlite
      .prepare('INSERT INTO memory (id, task_id, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run('mem-old', old.id, 'note', ago(119), ago(119));
    closeTask(store, old.id, ago(100));

    const recentClosed = newTask(store, 'closed 10 days ago', ago(51));
    turn(store, recentClosed, 'c', ago(50));
    turn(store, recentClosed, 'd', ago(49));
    closeTask(store, recentClosed.id, ago(10));

    const open = newTask(store, 'open', ago(41));
    for (const [i, d] of [40, 39, 38].entries()) turn(store, open, `open ${i}`, ago(d));

    const closedBusy = newTask(store, 'closed long ago but has a queued job', ago(121));
    turn(store, closedBusy, 'e', ago(120));
    closeTask(store, closedBusy.id, ago(100));

    // Created after every turn (turn() claims the oldest queued job).
    const u1 = accept(store, 'canceled before routing, long ago', ago(40));
    store.jobs.requestCancel(u1.job.id, ago(40));
    const u2 = accept(store, 'canceled before routing, recently', ago(5));
    store.jobs.requestCancel(u2.job.id, ago(5));
    const queued = accept(store, 'still waiting', ago(100), closedBusy.id);

    for (const d of [40, 40, 40, 1, 1])
      store.events.add({ component: 'test', level: 'info', kind: 'x', message: 'e', now: ago(d) });
    // Notices: delivered and given up long ago (go), delivered recently (stays), and one still waiting (stays,
    // whatever its age); chat message ids of a job long finished (go) and of a recent one (stays).
    const notice = store.opened.sqlite.prepare(
      `INSERT INTO outbox (id, dedup_key, channel, target, job_id, event, payload_json, state, next_attempt_at, created_at)
       VALUES (?, ?, 'webhook', 'http://x', ?, 'job.canceled', '{}', ?, ?, ?)`,
    );
    notice.run('n-sent-old', 'k1', u1.job.id, 'sent', ago(40), ago(40));
    notice.run('n-dead-old', 'k2', u1.job.id, 'dead', ago(40), ago(40));
    notice.run('n-sent-new', 'k3', u2.job.id, 'sent', ago(5), ago(5));
    notice.run('n-pending-old', 'k4', u1.job.id, 'pending', ago(40), ago(40));
    store.channels.addRef({ channel: 'telegram', chatId: '7', messageId: 1, jobId: u1.job.id, now: ago(40) });
    store.channels.addRef({ channel: 'telegram', chatId: '7', messageId: 2, jobId: u2.job.id, now: ago(5) });
    // A schedule's firings: ended long ago (goes), ended long ago but its latest (stays), still running (stays).
    const run = store.opened.sqlite.prepare(
      `INSERT INTO schedule_runs (id, schedule_id, slot_at, kind, fired_at, job_id, result, ended_at) VALUES (?, ?, ?, 'slot', ?, ?, ?, ?)`,
    );
    run.run('f-old', 's-a', ago(40), ago(40), u1.job.id, 'canceled', ago(40));
    run.run('f-latest', 's-a', ago(39), ago(39), u1.job.id, 'canceled', ago(39));
    run.run('f-open', 's-b', ago(40), ago(40), queued.job.id, null, null);
    // The hourly history: an hour 100 days ago goes (retention.stats 90d) with its two tasks' usage; 10 days ago stays.
    for (const d of [100, 10]) {
      store.opened.sqlite.prepare('INSERT INTO stats_hourly (hour, rolled_at) VALUES (?, ?)').run(ago(d), ago(d));
      for (const t of ['t-a', 't-b'])
        store.opened.sqlite
          .prepare(
            `INSERT INTO usage_hourly (hour, task_id, jobs, input_tokens, output_tokens, cost_usd, jobs_with_cost)
             VALUES (?, ?, 1, 1, 1, NULL, 0)`,
          )
          .run(ago(d), t);
    }
    ids = {
      old: old.id,
      recentClosed: recentClosed.id,
      open: open.id,
      closedBusy: closedBusy.id,
      unroutedOld: u1.messageId,
      unroutedNew: u2.messageId,
      queued: queued.job.id,
    };
  } finally {
    store.close();
  }
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const expected = {
  tasks: 1,
  // The old task's own note and its summary (written when it closed).
  memory: 2,
  close_decisions: 2,
  route_decisions: 3,
  jobs: 7,
  messages: 5,
  events: 3,
  outbox: 2,
  channel_refs: 1,
  approvals: 0,
  task_allow_rules: 0,
  schedule_runs: 1,
  stats_hourly: 1,
  usage_hourly: 2,
};

describe('cleanup', () => {
  it('a dry run counts exactly what the real run then deletes, and changes nothing', async () => {
    const before = count(dbFile, 'jobs');
    const dry = await cleanup({ dbFile, now: NOW, retention, dryRun: true, pool });
    expect(dry.dryRun).toBe(true);
    expect(dry.counts).toEqual(expected);
    expect(dry.transactions).toBe(0);
    expect(count(dbFile, 'jobs')).toBe(before);
    expect(formatCleanupReport(dry)).toMatch(
      /^would delete: route_decisions 3, close_decisions 2, memory 2, outbox 2, channel_refs 1, approvals 0, task_allow_rules 0, schedule_runs 1, jobs 7, messages 5, tasks 1, events 3, stats_hourly 1, usage_hourly 2/,
    );

    // Small batches: many short write transactions instead of one long one (one per 2 rows of each table).
    const real = await cleanup({ dbFile, now: NOW, retention, dryRun: false, batchSize: 2, pauseMs: 0, pool });
    expect(real.counts).toEqual(dry.counts);
    expect(real.skipped).toBe(0);
    expect(real.transactions).toBe(2 + 1 + 1 + 1 + 1 + 1 + 4 + 3 + 1 + 2 + 1 + 1);
    expect(count(dbFile, 'jobs')).toBe(before - expected.jobs);
    // The notice still waiting stays, however old; so does the one delivered recently.
    const db = new Database(dbFile, { readonly: true });
    try {
      expect(db.prepare('SELECT id FROM outbox ORDER BY id').pluck().all()).toEqual(['n-pending-old', 'n-sent-new']);
      expect(db.prepare('SELECT message_id FROM channel_refs').pluck().all()).toEqual([2]);
    } finally {
      db.close();
    }

    const again = await cleanup({ dbFile, now: NOW, retention, dryRun: false, pool });
    expect(Object.values(again.counts).every((n) => n === 0)).toBe(true);
  });

  it('keeps open tasks messages, queued jobs, the latest job of a task, and recent rows; the result verifies', async () => {
    await cleanup({ dbFile, now: NOW, retention, dryRun: false, pool });
    const store = Store.open({ file: dbFile });
    try {
      expect(store.tasks.get(ids.old)).toBeUndefined();
      expect(store.tasks.get(ids.recentClosed)?.state).toBe('closed');
      expect(store.tasks.get(ids.closedBusy)?.state).toBe('closed');
      expect(store.tasks.messages(ids.open).length).toBe(6);
      expect(store.tasks.messages(ids.recentClosed).length).toBe(4);
      expect(store.tasks.messages(ids.closedBusy).length).toBe(3);
      expect(store.jobs.list({ taskId: ids.open }).map((j) => j.state)).toEqual(['succeeded']);
      expect(store.jobs.list({ taskId: ids.recentClosed }).length).toBe(1);
      expect(store.jobs.get(ids.queued)?.state).toBe('queued');
      expect(store.jobs.message(ids.unroutedOld)).toBeUndefined();
      expect(store.jobs.message(ids.unroutedNew)).toBeDefined();
      expect(store.tasks.get(ids.open)?.sessionId).toBe('sess-1');
      expect(store.events.recent().length).toBe(2);
      expect(store.decisions.list({ kind: 'close', taskId: ids.recentClosed }).length).toBe(1);
    } finally {
      store.close();
    }
    // Review: kept replies pointed at the jobs retention deleted.
    const dangling = new Database(dbFile, { readonly: true });
    expect(
      dangling
        .prepare(
          'SELECT count(*) AS n FROM messages m WHERE m.job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = m.job_id)',
        )
        .get(),
    ).toEqual({ n: 0 });
    dangling.close();
    const report = await verify({ dbFile, lockHeld: false, pool });
    expect(report.foreignKeys.ok).toBe(true);
    expect(report.ok).toBe(true);
  });

  // Suspected in review: a task reopened between the plan and the deletes lost its jobs.
  it('a task reopened while the cleanup runs keeps its messages, its latest job and its memory', () => {
    const report = cleanupDatabase(
      { op: 'cleanup', dbFile, now: NOW, retention, dryRun: false, batchSize: 1000, pauseMs: 0, busyTimeoutMs: 1000 },
      {
        afterPlan: () => {
          const store = Store.open({ file: dbFile });
          try {
            store.tasks.applyCloseDecision({
              taskId: ids.old,
              jobId: null,
              source: 'manual',
              action: 'reopen',
              confidence: 1,
              reason: 'more',
              modelCalled: false,
              latencyMs: 0,
              now: NOW,
            });
          } finally {
            store.close();
          }
        },
      },
    );
    expect(report.skipped).toBeGreaterThan(0);
    const store = Store.open({ file: dbFile });
    try {
      expect(store.tasks.get(ids.old)?.state).toBe('open');
      expect(store.tasks.messages(ids.old).length).toBe(4);
      expect(store.jobs.list({ taskId: ids.old }).length).toBe(1);
      // The old task's note and summary, and the summaries of the two other closed tasks.
      expect(count(dbFile, 'memory')).toBe(4);
    } finally {
      store.close();
    }
  });

  it('reads its ages from the config table and refuses a non-positive age', async () => {
    expect(
      retentionFromConfig({
        retention: {
          closed_tasks: '90d',
          decisions: '60d',
          events: '30d',
          finished_jobs: '4w',
          memory: 'never',
          stats: '90d',
        },
      }),
    ).toEqual({
      ...retention,
      finished_jobs: 28 * DAY,
    });
    expect(
      retentionFromConfig({
        retention: {
          closed_tasks: '90d',
          decisions: '60d',
          events: '30d',
          finished_jobs: '30d',
          memory: '180d',
          stats: '90d',
        },
      }),
    ).toEqual({ ...retention, memory: 180 * DAY });
    await expect(
      cleanup({ dbFile, now: NOW, retention: { ...retention, events: 0 }, dryRun: true, pool }),
    ).rejects.toThrow('retention.events must be a positive age');
    await expect(
      cleanup({ dbFile, now: NOW, retention: { ...retention, memory: -1 }, dryRun: true, pool }),
    ).rejects.toThrow('retention.memory must be a positive age in milliseconds (or null: never), got -1');
  });
});

describe('cleanup of memory', () => {
  const memoryOf = (file: string): { id: string; kind: string; task_id: string | null }[] => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT id, kind, task_id FROM memory ORDER BY created_at, id').all() as never;
    } finally {
      db.close();
    }
  };

  it("an unpinned summary goes with its task; a pinned one stays, and keeps its task's row only", async () => {
    const store = Store.open({ file: dbFile });
    let pinned: string;
    try {
      const summaries = store.memory.list({ kind: 'task_summary' });
      expect(summaries.map((m) => m.taskId).sort()).toEqual([ids.old, ids.recentClosed, ids.closedBusy].sort());
      pinned = summaries.find((m) => m.taskId === ids.old)!.id;
      store.memory.edit(pinned, { pinned: true }, NOW);
    } finally {
      store.close();
    }
    const dry = await cleanup({ dbFile, now: NOW, retention, dryRun: true, pool });
    // The task's own unpinned note goes; its row stays, so it is not planned.
    expect(dry.counts).toEqual({ ...expected, memory: 1, tasks: 0 });
    const real = await cleanup({ dbFile, now: NOW, retention, dryRun: false, pool });
    expect(real.counts).toEqual(dry.counts);
    expect(real.skipped).toBe(0);

    const after = Store.open({ file: dbFile });
    try {
      expect(after.tasks.get(ids.old)?.state).toBe('closed');
      expect(after.tasks.messages(ids.old)).toEqual([]);
      expect(after.jobs.list({ taskId: ids.old })).toEqual([]);
      expect(after.memory.list({ taskId: ids.old }).map((m) => m.id)).toEqual([pinned]);
    } finally {
      after.close();
    }
    // Nothing left to plan: the kept row is not counted again on every run.
    const again = await cleanup({ dbFile, now: NOW, retention, dryRun: true, pool });
    expect(Object.values(again.counts).every((n) => n === 0)).toBe(true);
    const report = await verify({ dbFile, lockHeld: false, pool });
    expect(report.ok).toBe(true);

    // Unpinned later: it goes with its task at the next run.
    const s2 = Store.open({ file: dbFile });
    try {
      s2.memory.edit(pinned, { pinned: false }, NOW);
    } finally {
      s2.close();
    }
    const last = await cleanup({ dbFile, now: NOW, retention, dryRun: false, pool });
    expect(last.counts).toMatchObject({ memory: 1, tasks: 1 });
    expect(memoryOf(dbFile).some((m) => m.task_id === ids.old)).toBe(false);
  });

  it('notes unchanged for longer than retention.memory go unless pinned; "never" keeps them', async () => {
    const store = Store.open({ file: dbFile });
    let keep: string[];
    try {
      const old = store.memory.add({ content: 'old note', taskId: null, now: ago(200) });
      const pinned = store.memory.add({ content: 'old pinned note', taskId: null, now: ago(200) });
      store.memory.edit(pinned.id, { pinned: true }, NOW);
      const edited = store.memory.add({ content: 'old but edited', taskId: ids.open, now: ago(200) });
      store.memory.edit(edited.id, { content: 'edited lately' }, ago(5));
      const bound = store.memory.add({ content: 'old note of an open task', taskId: ids.open, now: ago(190) });
      keep = [pinned.id, edited.id];
      // "never": every note stays (only the purged task's own entries go, as before).
      const never = await cleanup({ dbFile, now: NOW, retention, dryRun: true, pool });
      expect(never.counts.memory).toBe(2);

      const aged = { ...retention, memory: 180 * DAY };
      const dry = await cleanup({ dbFile, now: NOW, retention: aged, dryRun: true, pool });
      expect(dry.counts.memory).toBe(2 + 2);
      expect(formatCleanupReport(dry)).toContain('memory 4');
      await cleanup({ dbFile, now: NOW, retention: aged, dryRun: false, pool });
      const left = memoryOf(dbFile);
      expect(left.map((m) => m.id)).not.toContain(old.id);
      expect(left.map((m) => m.id)).not.toContain(bound.id);
      for (const id of keep) expect(left.map((m) => m.id)).toContain(id);
      // Summaries do not age by retention.memory: the two closed tasks that stay keep theirs (one closed 100 days ago).
      expect(
        left
          .filter((m) => m.kind === 'task_summary')
          .map((m) => m.task_id)
          .sort(),
      ).toEqual([ids.recentClosed, ids.closedBusy].sort());
    } finally {
      store.close();
    }
  });
});
