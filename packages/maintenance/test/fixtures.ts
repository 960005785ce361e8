import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '@alter0/store';
import type { JobRow, TaskRow } from '@alter0/store';

export function tempDir(prefix = 'alter0-maint-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const DAY = 86_400_000;

/** A user message and its job, accepted at `now` (routed later, or never). */
export function accept(
  store: Store,
  content: string,
  now: number,
  taskId: string | null = null,
): { messageId: string; job: JobRow } {
  const { message, job } = store.jobs.accept({
    content,
    channelId: 'test',
    userId: 'owner',
    sessionId: null,
    taskId,
    lane: 'interactive',
    maxAttempts: 3,
    timeoutS: 60,
    now,
  });
  return { messageId: message.id, job };
}

/** One full turn at time `now`: accept, claim, route to `task`, reply (storing the session id), succeed. */
export function turn(store: Store, task: TaskRow, content: string, now: number, sessionId = 'sess-1'): JobRow {
  const { messageId, job } = accept(store, content, now);
  const claimed = store.jobs.claimNext('interactive', now);
  if (claimed?.id !== job.id) throw new Error(`fixture: expected to claim ${job.id}, got ${claimed?.id ?? 'nothing'}`);
  const fence = { jobId: job.id, attempt: claimed.attempt };
  store.jobs.assignTask(fence, task.id, now);
  store.decisions.addRoute({
    jobId: job.id,
    messageId,
    taskId: task.id,
    decision: 'existing',
    confidence: 0.9,
    reason: 'fixture',
    fallback: null,
    rejectCode: null,
    candidates: [{ taskId: task.id, score: 1 }],
    inputSummary: content,
    templateId: 'router',
    templateVersion: 'v1',
    templateHash: null,
    promptChars: 10,
    modelCalled: true,
    latencyMs: 5,
    rawOutput: null,
    errorClass: null,
    now,
  });
  store.jobs.storeReply(fence, {
    taskId: task.id,
    content: `reply to ${content}`,
    sessionId,
    summary: 'summary',
    usageJson: null,
    executeMs: 1,
    channelId: 'test',
    userId: 'owner',
    now,
  });
  store.jobs.finish(fence, { state: 'succeeded', now });
  return store.jobs.mustGet(job.id);
}

export function newTask(store: Store, title: string, now: number): TaskRow {
  return store.tasks.create({ title, executor: 'command', workspaceRoot: '/tmp/ws', userId: 'owner', now });
}

export function closeTask(store: Store, taskId: string, now: number): void {
  store.tasks.applyCloseDecision({
    taskId,
    jobId: null,
    source: 'manual',
    action: 'close',
    confidence: 1,
    reason: 'done',
    modelCalled: false,
    latencyMs: 0,
    now,
  });
}

/** A database with a few tasks, turns, decisions and events (every table has rows). */
export function populate(file: string, now = Date.now()): { taskIds: string[] } {
  const store = Store.open({ file });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = newTask(store, `task ${i}`, now + i);
      ids.push(t.id);
      for (let k = 0; k < 3; k++) turn(store, t, `message ${i}.${k}`, now + i * 10 + k, `sess-${i}`);
    }
    closeTask(store, ids[0]!, now + 100);
    store.opened.sqlite
      .prepare('INSERT INTO memory (id, task_id, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run('mem-1', ids[1]!, 'note', now, now);
    store.events.add({ component: 'test', level: 'info', kind: 'fixture', message: 'populated', now });
    return { taskIds: ids };
  } finally {
    store.close();
  }
}

const TABLES = [
  'tasks',
  'messages',
  'jobs',
  'route_decisions',
  'close_decisions',
  'events',
  'memory',
  'maintenance_runs',
  '__drizzle_migrations',
];

/** Every row of every table, in a stable order: two databases with equal dumps hold the same data. */
export function dump(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return Object.fromEntries(TABLES.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()]));
  } finally {
    db.close();
  }
}

export function count(file: string, table: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return Number(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get());
  } finally {
    db.close();
  }
}
