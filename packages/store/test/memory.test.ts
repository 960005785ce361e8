import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CloseSource } from '@alter0/core';
import { Store } from '../src/store.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 14, 10);
let dir: string;
let store: Store;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-store-mem-'));
  store = Store.open({ file: path.join(dir, 'alter0.db') });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function task(title: string, summary = ''): string {
  const t = store.tasks.create({ title, executor: 'command', workspaceRoot: '/tmp/ws', userId: 'owner', now: T0 });
  if (summary) store.tasks.touch(t.id, T0, { summary });
  return t.id;
}

function decide(
  taskId: string,
  action: 'close' | 'reopen',
  now: number,
  source: CloseSource = 'manual',
  reason = 'done',
) {
  return store.tasks.applyCloseDecision({
    taskId,
    jobId: null,
    source,
    action,
    confidence: 1,
    reason,
    modelCalled: false,
    latencyMs: 0,
    now,
  });
}

const summaries = () => store.memory.list({ kind: 'task_summary' });

describe('task summaries', () => {
  it('a close keeps one summary of the task, with the close and the rolling summary; never in a preamble', () => {
    const id = task('Fix the release script', 'Rewrote scripts/release.sh to use pnpm publish.');
    store.memory.add({ content: 'use pnpm', taskId: null, now: T0 });
    decide(id, 'close', T0 + DAY, 'auto', 'the owner said thanks');
    expect(summaries()).toMatchObject([
      {
        taskId: id,
        kind: 'task_summary',
        pinned: false,
        content:
          'Fix the release script — closed 2026-03-15 (auto): the owner said thanks\n' +
          'Rewrote scripts/release.sh to use pnpm publish.',
        createdAt: T0 + DAY,
      },
    ]);
    expect(store.memory.forTask(id).map((m) => m.content)).toEqual(['use pnpm']);
  });

  it('a close after a reopen rewrites the same entry (its id and pin kept); a reopen leaves it', () => {
    const id = task('Tune the cache');
    decide(id, 'close', T0, 'stale', 'idle for 7 days');
    const [first] = summaries();
    expect(first?.content).toBe('Tune the cache — closed 2026-03-14 (stale): idle for 7 days');
    store.memory.edit(first!.id, { pinned: true }, T0 + 1);
    decide(id, 'reopen', T0 + DAY);
    expect(summaries()).toHaveLength(1);
    store.tasks.touch(id, T0 + DAY, { summary: 'x'.repeat(2000) });
    decide(id, 'close', T0 + 2 * DAY, 'manual', 'finished');
    const [again, ...more] = summaries();
    expect(more).toEqual([]);
    expect(again).toMatchObject({ id: first!.id, pinned: true, createdAt: T0, updatedAt: T0 + 2 * DAY });
    expect(again!.content.startsWith('Tune the cache — closed 2026-03-16 (manual): finished\nxxx')).toBe(true);
    expect(Array.from(again!.content)).toHaveLength(600);
    expect(again!.content.endsWith('…')).toBe(true);
  });

  it('a close refused (work waiting) or turned into keep_open writes no summary', () => {
    const id = task('Busy');
    store.jobs.accept({
      content: 'more',
      channelId: 'test',
      userId: 'owner',
      sessionId: null,
      taskId: id,
      lane: 'interactive',
      maxAttempts: 1,
      timeoutS: 60,
      now: T0,
    });
    expect(() => decide(id, 'close', T0)).toThrow(/cannot close/);
    decide(id, 'close', T0, 'auto');
    expect(summaries()).toEqual([]);
  });
});

describe('memory search', () => {
  it('matches every word, case-insensitive, over content and the task title; best first, then newest', () => {
    const release = task('Release script');
    decide(release, 'close', T0);
    const a = store.memory.add({ content: 'Deploys: run make release, then release notes', taskId: null, now: T0 + 1 });
    const b = store.memory.add({ content: 'make release is slow', taskId: null, now: T0 + 2 });
    store.memory.add({ content: 'unrelated', taskId: null, now: T0 + 3 });
    const ids = (q: string, kind?: 'note' | 'task_summary') =>
      store.memory.search(q, kind ? { kind } : {}).map((m) => m.id);
    const summary = summaries()[0]!.id;
    expect(ids('RELEASE')).toEqual([a.id, b.id, summary]);
    expect(ids('release slow')).toEqual([b.id]);
    expect(ids('release', 'task_summary')).toEqual([summary]);
    expect(ids('script closed')).toEqual([summary]);
    expect(ids('nothing-like-this')).toEqual([]);
    // The title counts too: a note bound to the task is found by a word of the task's title.
    const bound = store.memory.add({ content: 'uses the staging bucket', taskId: release, now: T0 + 4 });
    expect(ids('staging script')).toEqual([bound.id]);
    expect(() => store.memory.search('   ')).toThrow('at least one word');
  });

  it('folds case beyond ASCII and caps the results', () => {
    const n = store.memory.add({ content: 'Ärger mit der Übersetzung', taskId: null, now: T0 });
    expect(store.memory.search('ärger übersetzung').map((m) => m.id)).toEqual([n.id]);
    for (let i = 0; i < 60; i++) store.memory.add({ content: `note ${i}`, taskId: null, now: T0 + i });
    const found = store.memory.search('note');
    expect(found).toHaveLength(50);
    expect(found[0]?.content).toBe('note 59');
  });
});

describe('memory edits', () => {
  it('pins without changing updated_at; content changes it; nothing to change is refused', () => {
    const m = store.memory.add({ content: 'a', taskId: null, now: T0 });
    expect(store.memory.edit(m.id, { pinned: true }, T0 + 5)).toMatchObject({ pinned: true, updatedAt: T0 });
    expect(store.memory.edit(m.id, { content: 'b' }, T0 + 6)).toMatchObject({
      pinned: true,
      content: 'b',
      updatedAt: T0 + 6,
    });
    expect(() => store.memory.edit(m.id, {}, T0)).toThrow('nothing to change');
    expect(() => store.memory.edit('r_00000000000000000000000000', { pinned: false }, T0)).toThrow('does not exist');
  });
});
