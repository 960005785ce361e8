import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '@alter0/store';
import { rankCandidates } from '@alter0/routing';
import { CandidateSource } from '../src/candidates.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T12:00:00Z');

let dir: string;
let store: Store;
const sources: CandidateSource[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-candidates-'));
  store = Store.open({ file: path.join(dir, 'alter0.db') });
});
afterEach(async () => {
  for (const s of sources.splice(0)) await s.close();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function say(taskId: string, content: string, at: number): void {
  store.tasks.addMessage({
    taskId,
    role: 'user',
    content,
    jobId: null,
    channelId: 'test',
    userId: 'owner',
    sessionId: null,
    now: at,
  });
}

function task(title: string, at: number, closedAt?: number): string {
  const t = store.tasks.create({ title, executor: 'command', workspaceRoot: dir, userId: 'owner', now: at });
  say(t.id, `about ${title}`, at);
  if (closedAt !== undefined) {
    store.tasks.applyCloseDecision({
      taskId: t.id,
      jobId: null,
      source: 'manual',
      action: 'close',
      confidence: 1,
      reason: `${title} is done`,
      modelCalled: false,
      latencyMs: 0,
      now: closedAt,
    });
  }
  return t.id;
}

function source(closedLookbackMs: number, over: { inlineMax?: number; limit?: number } = {}): CandidateSource {
  const s = new CandidateSource(store, {
    limit: over.limit ?? 8,
    perTask: 3,
    inlineMax: over.inlineMax ?? 200,
    closedLookbackMs,
    now: () => NOW,
  });
  sources.push(s);
  return s;
}

const load = (s: CandidateSource, message = 'anything') => s.load(message, new AbortController().signal);

describe.each([
  ['inline', 200],
  ['on the worker thread', 0],
])('CandidateSource %s', (_how, inlineMax) => {
  let open: string;
  let recent: string;
  let old: string;
  beforeEach(() => {
    open = task('Fix the login redirect', NOW - 2 * DAY);
    recent = task('Nightly backup to the NAS', NOW - 5 * DAY, NOW - 1 * DAY);
    old = task('Plan the garden beds', NOW - 20 * DAY, NOW - 8 * DAY);
  });

  it('offers the open tasks and the tasks closed within the lookback, marked closed with when and why', async () => {
    const got = await load(source(7 * DAY, { inlineMax }));
    expect(got.map((c) => c.id).sort()).toEqual([open, recent].sort());
    expect(got.find((c) => c.id === recent)).toMatchObject({
      title: 'Nightly backup to the NAS',
      closed: { at: new Date(NOW - DAY), reason: 'Nightly backup to the NAS is done' },
      recent: [{ role: 'user', content: 'about Nightly backup to the NAS' }],
    });
    expect(got.find((c) => c.id === open)).not.toHaveProperty('closed');
    expect(got.some((c) => c.id === old)).toBe(false);
  });

  it('takes a task closed longer ago than the lookback once the lookback covers it', async () => {
    expect((await load(source(9 * DAY, { inlineMax }))).map((c) => c.id).sort()).toEqual([open, recent, old].sort());
  });

  it('with a lookback of 0 ("0s") offers open tasks only', async () => {
    expect((await load(source(0, { inlineMax }))).map((c) => c.id)).toEqual([open]);
  });
});

describe('CandidateSource on the worker thread', () => {
  it('ranks open and closed tasks together and hands back at most `limit`, a closed match first', async () => {
    task('Fix the login redirect', NOW - 2 * DAY);
    const backup = task('Nightly backup to the NAS', NOW - 5 * DAY, NOW - 1 * DAY);
    const got = await load(source(7 * DAY, { inlineMax: 0, limit: 1 }), 'the nightly backup to the NAS failed again');
    expect(got.map((c) => c.id)).toEqual([backup]);
    expect(got[0]?.closed?.reason).toBe('Nightly backup to the NAS is done');
  });

  it("reports the thread's own heap after a ranking, and none once closed", async () => {
    task('Fix the login redirect', NOW - 2 * DAY);
    const s = source(7 * DAY, { inlineMax: 0 });
    expect(s.workerHeap()).toBeNull();
    await load(s);
    const heap = s.workerHeap();
    // A thread that imports the store and the ranking holds megabytes; the figure is its isolate's, not a guess.
    expect(heap?.usedBytes).toBeGreaterThan(1e6);
    expect(heap?.totalBytes).toBeGreaterThanOrEqual(heap?.usedBytes ?? Infinity);
    await s.close();
    expect(s.workerHeap()).toBeNull();
  });

  it('puts the open task first when an open and a closed one rank the same', async () => {
    const closed = task('same words', NOW - DAY, NOW - DAY);
    const open = task('same words', NOW - 2 * DAY);
    store.tasks.touch(open, NOW - DAY);
    const got = await load(source(7 * DAY, { inlineMax: 0, limit: 2 }), 'same words');
    expect(got.map((c) => c.id)).toEqual([open, closed]);
  });
});

describe('CandidateSource: the worker ranks as the router would in memory', () => {
  it('hands back the same best candidates, in the same order, as rankCandidates over the whole pool', async () => {
    const words = ['postgres', 'replica', 'backup', 'nightly', 'garden', 'invoice', 'kernel', 'printer'];
    for (let i = 0; i < 60; i++) {
      const at = NOW - (i % 9) * DAY * 0.3 - i * 60_000;
      const id = task(`${words[i % 8]} ${words[(i * 3) % 8]} chore ${i}`, at, i % 3 === 0 ? at + 1000 : undefined);
      // A term past the 400th character, or in a message older than the last three, must not count.
      say(id, `${'filler '.repeat(60)}${words[(i + 1) % 8]}`, at + 1);
      say(id, `${words[(i + 2) % 8]} 🙂 é ${'x'.repeat(i * 7)}`, at + 2);
      for (let k = 0; k < i % 5; k++) say(id, `step ${k} of ${words[(i + k) % 8]}`, at + 3 + k);
    }
    const message = 'the nightly postgres backup to the replica failed, printer too';
    const inline = await load(source(7 * DAY, { inlineMax: 1000 }), message);
    const expected = rankCandidates(message, inline, { now: new Date(NOW), limit: 8 });
    const got = await load(source(7 * DAY, { inlineMax: 0, limit: 8 }), message);
    expect(got.map((c) => c.id)).toEqual(expected.map((c) => c.id));
    expect(got).toEqual(expected.map(({ score: _score, ...c }) => c));
  });
});
