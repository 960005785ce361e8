import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LimitError } from '@alter0/core';
import type { AcceptInput } from '../src/jobs-repo.js';
import { Store } from '../src/store.js';

let dir: string;
let store: Store;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-outbox-'));
  store = Store.open({ file: path.join(dir, 'alter0.db') });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const input = (content: string, over: Partial<AcceptInput> = {}): AcceptInput => ({
  content,
  channelId: 'telegram',
  userId: '7',
  sessionId: '7',
  taskId: null,
  lane: 'interactive',
  maxAttempts: 3,
  timeoutS: 60,
  now: 1000,
  ...over,
});

const notice = (jobId: string, target: string) => ({
  dedupKey: `${jobId}:job.failed:webhook:${target}`,
  channel: 'webhook',
  target,
  event: 'job.failed',
  payload: { job_id: jobId },
});

/** Ends a queued job as canceled (a terminal state without running it). */
function cancel(id: string): void {
  store.jobs.requestCancel(id, 2000);
}

describe('the channel cursor and chat message ids', () => {
  it('commit the update offset and the message ids with the accepted message, or not at all', () => {
    const [ok, refused] = store.jobs.acceptMany([
      input('first', { cursor: { channel: 'telegram', value: '101' }, ref: { chatId: '7', messageId: 5 } }),
      input('second', { maxQueued: 1, cursor: { channel: 'telegram', value: '102' } }),
    ]);
    expect(ok?.ok).toBe(true);
    expect(refused?.ok === false && refused.error).toBeInstanceOf(LimitError);
    // The refused message wrote nothing: the cursor is the accepted one's.
    expect(store.channels.cursor('telegram')).toBe('101');
    const job = ok?.ok ? ok.value.job : null;
    expect(store.channels.jobOf('telegram', '7', 5)).toBe(job?.id);
    expect(store.channels.firstRefOf('telegram', job?.id ?? '')).toEqual({ chatId: '7', messageId: 5 });
    expect(store.channels.jobOf('telegram', '8', 5)).toBeNull();
  });
});

describe('the outbox', () => {
  it('announces a job once, only after it ended, and only when nobody waited for it', () => {
    const waited = store.jobs.accept(input('waited')).job;
    const a = store.jobs.accept(input('nobody waits', { notify: true })).job;
    expect(store.outbox.toAnnounce()).toEqual([]);
    cancel(a.id);
    cancel(waited.id);
    expect(store.outbox.toAnnounce().map((j) => j.id)).toEqual([a.id]);
    expect(store.outbox.announce(a.id, [notice(a.id, 'http://x')], 3000)).toBe(true);
    expect(store.outbox.announce(a.id, [notice(a.id, 'http://x')], 3001)).toBe(false);
    expect(store.outbox.toAnnounce()).toEqual([]);
    expect(store.outbox.list({ jobId: a.id })).toHaveLength(1);
  });

  it('a sync caller that stops waiting makes the job announced; one that was announced stays as it was', () => {
    const j = store.jobs.accept(input('sync')).job;
    store.outbox.markNotify(j.id);
    cancel(j.id);
    expect(store.outbox.toAnnounce().map((x) => x.id)).toEqual([j.id]);
  });

  it('hands out the first waiting notice of each receiver only, so a retried one is never overtaken', () => {
    const jobs = ['a', 'b', 'c'].map((c) => store.jobs.accept(input(c, { notify: true })).job);
    for (const j of jobs) {
      cancel(j.id);
      store.outbox.announce(j.id, [notice(j.id, 'http://one'), notice(j.id, 'http://two')], 3000);
    }
    const first = store.outbox.due(3000);
    expect(first.map((n) => [n.target, n.jobId])).toEqual([
      ['http://one', jobs[0]?.id],
      ['http://two', jobs[0]?.id],
    ]);
    const head = first[0]!;
    store.outbox.failed(head.id, { error: 'answered 500', nextAttemptAt: 9000, now: 3000 });
    // Receiver one waits for its retried head; receiver two goes on.
    expect(store.outbox.due(3000).map((n) => n.target)).toEqual(['http://two']);
    expect(store.outbox.summary()).toMatchObject({ pending: 6, dead: 0, lastError: 'answered 500' });
    expect(store.outbox.due(9000).map((n) => [n.target, n.jobId])).toEqual([
      ['http://two', jobs[0]?.id],
      ['http://one', jobs[0]?.id],
    ]);
    // The clock stepped back 2 h since these waits were set: beyond the dispatcher's horizon, both are due now.
    expect(store.outbox.due(3000 - 7_200_000, 50, 600_000).map((n) => n.target)).toEqual(['http://two', 'http://one']);
    expect(store.outbox.due(3000 - 7_200_000)).toEqual([]);
    store.outbox.failed(head.id, { error: 'gave up', nextAttemptAt: null, now: 9000 });
    expect(store.outbox.due(9000).map((n) => n.jobId)).toEqual([jobs[0]?.id, jobs[1]?.id]);
    expect(store.outbox.summary()).toMatchObject({ pending: 5, dead: 1 });
    store.outbox.progressed(first[1]!.id, 2);
    store.outbox.sent(first[1]!.id, 9001);
    expect(store.outbox.get(first[1]!.id)).toMatchObject({ state: 'sent', progress: 2, attempts: 1 });
  });
});
