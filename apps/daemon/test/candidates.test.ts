import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '@alter0/store';
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

function task(title: string, at: number, closedAt?: number): string {
  const t = store.tasks.create({ title, executor: 'command', workspaceRoot: dir, userId: 'owner', now: at });
  store.tasks.addMessage({
    taskId: t.id,
    role: 'user',
    content: `about ${title}`,
    jobId: null,
    channelId: 'test',
    userId: 'owner',
    sessionId: null,
    now: at,
  });
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

  it('puts the open task first when an open and a closed one rank the same', async () => {
    const closed = task('same words', NOW - DAY, NOW - DAY);
    const open = task('same words', NOW - 2 * DAY);
    store.tasks.touch(open, NOW - DAY);
    const got = await load(source(7 * DAY, { inlineMax: 0, limit: 2 }), 'same words');
    expect(got.map((c) => c.id)).toEqual([open, closed]);
  });
});
