// Unit tests of the console's pure pieces: live-event merging, routing, formatting, the SSE reconnect loop.
import { describe, expect, it, vi } from 'vitest';
import type { Job, Task } from '@alter0/api';
import { applyJobEvent, applyTaskEvent } from '../src/live/apply.js';
import { connectLive, type EventSourceLike, type LiveState } from '../src/live/connect.js';
import { mergeList, newer } from '../src/live/freshest.js';
import { formatMs, shortId } from '../src/ui/format.js';
import { parseHash } from '../src/ui/use-hash-route.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:01.000Z';
const T2 = '2026-01-01T00:00:02.000Z';

/** A contract id (`j_` + 26 base-32 characters) from a short test name. */
const idOf = (prefix: string, name: string): string => `${prefix}_${name.padStart(26, '0')}`;
const nameOf = (id: string): string => id.replace(/^[a-z]_0*/, '');
function task(name: string, updated_at: string, extra: Partial<Task> = {}): Task {
  return {
    id: idOf('t', name),
    title: `title ${name}`,
    summary: '',
    state: 'open',
    executor: 'command',
    session_id: null,
    workspace: '/w',
    created_at: T0,
    updated_at,
    closed_at: null,
    closed_by: null,
    close_reason: null,
    close_confidence: null,
    ...extra,
  };
}
function job(name: string, updated_at: string, extra: Partial<Job> = {}): Job {
  return {
    id: idOf('j', name),
    message_id: idOf('m', name),
    task_id: null,
    lane: 'interactive',
    state: 'queued',
    stage: null,
    attempt: 1,
    max_attempts: 3,
    timeout_s: 60,
    content: 'hi',
    reply: null,
    error: null,
    route: null,
    timings: { queue_wait_ms: null, route_ms: null, execute_ms: null, close_ms: null, total_ms: null },
    usage: null,
    permission_denials: [],
    memory: null,
    retry_of: null,
    cancel_requested: false,
    channel_id: 'web',
    user_id: 'owner',
    session_id: null,
    created_at: T0,
    updated_at,
    started_at: null,
    replied_at: null,
    finished_at: null,
    next_run_at: null,
    ...extra,
  };
}

describe('freshest', () => {
  it('keeps the copy updated last, so a late fetch never rolls back a live event', () => {
    const live = job('j1', T2, { state: 'succeeded' });
    const stale = job('j1', T1, { state: 'running' });
    expect(newer(live, stale)).toBe(live);
    expect(newer(stale, live)).toBe(live);
    expect(newer(null, stale)).toBe(stale);
    expect(mergeList([live], [stale, job('j2', T0)]).map((j) => j.state)).toEqual(['succeeded', 'queued']);
  });
});

describe('applyTaskEvent', () => {
  it('moves an updated task to the top, drops a closed one from the open list, adds a matching new one', () => {
    const list = [task('a', T1), task('b', T0)];
    expect(applyTaskEvent(list, task('b', T2), 'open', '').map((t) => nameOf(t.id))).toEqual(['b', 'a']);
    expect(applyTaskEvent(list, task('a', T2, { state: 'closed' }), 'open', '').map((t) => nameOf(t.id))).toEqual([
      'b',
    ]);
    expect(applyTaskEvent(list, task('c', T2), 'open', '').map((t) => nameOf(t.id))).toEqual(['c', 'a', 'b']);
    expect(applyTaskEvent(list, task('c', T2), 'closed', '')).toBe(list);
    expect(applyTaskEvent(list, task('c', T2, { title: 'Deploy' }), 'all', 'deploy').map((t) => nameOf(t.id))).toEqual([
      'c',
      'a',
      'b',
    ]);
    expect(applyTaskEvent(list, task('c', T2, { title: 'Deploy' }), 'all', 'backup')).toBe(list);
  });

  it('ignores an event older than what the list shows', () => {
    const list = [task('a', T2, { state: 'closed' })];
    expect(applyTaskEvent(list, task('a', T1), 'all', '')[0]?.state).toBe('closed');
  });
});

describe('applyJobEvent', () => {
  it('updates known jobs in place and prepends new ones that match the filter', () => {
    const list = [job('j1', T1), job('j2', T0)];
    expect(applyJobEvent(list, job('j2', T2, { state: 'running' }), 'all').map((j) => [nameOf(j.id), j.state])).toEqual(
      [
        ['j1', 'queued'],
        ['j2', 'running'],
      ],
    );
    expect(applyJobEvent(list, job('j3', T2, { state: 'failed' }), 'failed')[0]?.id).toBe(idOf('j', 'j3'));
    expect(applyJobEvent(list, job('j3', T2, { state: 'running' }), 'failed')).toBe(list);
  });
});

describe('parseHash', () => {
  it('maps hashes to pages', () => {
    expect(parseHash('')).toEqual({ page: 'tasks', taskId: null });
    expect(parseHash('#/tasks/t_1%2Fx')).toEqual({ page: 'tasks', taskId: 't_1/x' });
    expect(parseHash('#/jobs')).toEqual({ page: 'jobs' });
    expect(parseHash('#/status')).toEqual({ page: 'status' });
  });
});

describe('formatMs', () => {
  it('scales the unit to the size', () => {
    expect([null, 12, 1_500, 42_000, 125_000, 3_725_000].map(formatMs)).toEqual([
      '—',
      '12 ms',
      '1.5 s',
      '42 s',
      '2 m 5 s',
      '1 h 2 m',
    ]);
  });
  it('shortens long ids to prefix and tail', () => {
    expect(shortId('j_01m89sw1tm6t5p3k6wjkf44zcg')).toBe('j_…jkf44zcg');
    expect(shortId('t_abc')).toBe('t_abc');
  });
});

/** A scriptable EventSource: the test fires its events. */
class FakeSource implements EventSourceLike {
  readyState = 0;
  closed = false;
  private readonly listeners = new Map<string, ((ev: MessageEvent<string>) => void)[]>();
  addEventListener(type: string, fn: (ev: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  fire(type: string, data = ''): void {
    for (const fn of this.listeners.get(type) ?? []) fn(new MessageEvent(type, { data }));
  }
}

describe('connectLive', () => {
  it('reports state, forwards events, and reopens a closed stream with backoff, asking for a refetch', () => {
    vi.useFakeTimers();
    try {
      const sources: FakeSource[] = [];
      const states: LiveState[] = [];
      const jobs: string[] = [];
      let refetches = 0;
      const ac = new AbortController();
      connectLive(
        '/api/events',
        {
          onJob: (j) => jobs.push(nameOf(j.id)),
          onTask: () => undefined,
          onState: (s) => states.push(s),
          onReconnected: () => refetches++,
        },
        ac.signal,
        () => {
          const s = new FakeSource();
          sources.push(s);
          return s;
        },
      );
      const first = sources[0];
      if (!first) throw new Error('connectLive opened no EventSource');
      first.fire('hello', '{}');
      first.fire('job', JSON.stringify(job('j1', T0)));
      first.fire('job', 'not json');
      expect(jobs).toEqual(['j1']);
      expect(states).toEqual(['connecting', 'live']);
      expect(refetches).toBe(0);

      // The browser gave up on the stream (e.g. a 503 during restart): we open a new one after 1 s.
      first.readyState = 2;
      first.fire('error');
      expect(states.at(-1)).toBe('reconnecting');
      vi.advanceTimersByTime(999);
      expect(sources).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(sources).toHaveLength(2);
      sources[1]?.fire('open');
      expect(states.at(-1)).toBe('live');
      expect(refetches).toBe(1);

      ac.abort();
      expect(sources[1]?.closed).toBe(true);
      vi.advanceTimersByTime(60_000);
      expect(sources).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
