import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunContext, SupervisedChannel } from '../src/channel.js';
import { ChannelDownError, ChannelFaultError } from '../src/channel.js';
import type { ChannelTransition } from '../src/supervisor.js';
import { ChannelSupervisor } from '../src/supervisor.js';

/*
 * The supervisor's backoff is timers and the clock: fake timers let a test step to exactly one millisecond before
 * and at a restart. The runs themselves are real async functions.
 */

const INITIAL_MS = 100;
const MAX_MS = 1_000;

/** A channel whose n-th run (from 1) does what `script` says. */
class Scripted implements SupervisedChannel {
  runs = 0;
  readonly signals: AbortSignal[] = [];
  constructor(
    readonly name: string,
    private readonly script: (ctx: RunContext, n: number) => Promise<void>,
  ) {}
  run(ctx: RunContext): Promise<void> {
    this.runs += 1;
    this.signals.push(ctx.signal);
    return this.script(ctx, this.runs);
  }
}

/** Resolves when the signal aborts (a run that works until it is stopped). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

let transitions: ChannelTransition[];
let restarted: string[];
let sup: ChannelSupervisor;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
  transitions = [];
  restarted = [];
  sup = new ChannelSupervisor({
    retryInitialMs: INITIAL_MS,
    retryMaxMs: MAX_MS,
    now: () => Date.now(),
    onTransition: (t) => transitions.push(t),
    onRestart: (name) => restarted.push(name),
  });
});

afterEach(async () => {
  await sup.stop();
  vi.useRealTimers();
});

/** Lets the runs' promises settle without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

function snap(name: string) {
  const s = sup.get(name);
  if (!s) throw new Error(`no channel ${name}`);
  return s;
}

/** The wait before the next restart, as the supervisor scheduled it at the current (frozen) time. */
function scheduledDelay(name: string): number {
  const at = snap(name).nextRetryAt;
  if (at === null) throw new Error(`${name} has no restart scheduled`);
  return at - Date.now();
}

/** Within the supervisor's ±10% jitter of `base`. */
function expectAbout(ms: number, base: number): void {
  expect(ms).toBeGreaterThanOrEqual(Math.floor(base * 0.9));
  expect(ms).toBeLessThanOrEqual(Math.ceil(base * 1.1));
}

describe('ChannelSupervisor', () => {
  it('shows a failing channel as degraded with its error, restarts it after the backoff, and shows ok once it works', async () => {
    const tg = new Scripted('telegram', async (ctx, n) => {
      if (n === 1) throw new ChannelFaultError('getUpdates failed: 502 Bad Gateway');
      ctx.ok();
      await aborted(ctx.signal);
    });
    sup.add(tg);
    const t0 = Date.now();
    sup.start();
    await settle();

    const failing = snap('telegram');
    expect(failing).toMatchObject({
      state: 'degraded',
      since: t0,
      lastError: { message: 'getUpdates failed: 502 Bad Gateway', at: t0 },
      restarts: 0,
    });
    const delay = scheduledDelay('telegram');
    expectAbout(delay, INITIAL_MS);

    await advance(delay - 1);
    expect(tg.runs).toBe(1);
    await advance(1);
    expect(tg.runs).toBe(2);
    expect(restarted).toEqual(['telegram']);
    expect(snap('telegram')).toMatchObject({ state: 'ok', since: t0 + delay, restarts: 1, nextRetryAt: null });
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['ok->degraded', 'degraded->ok']);
  });

  it('shows a channel that needs the owner as down and retries it only at the slowest pace', async () => {
    const tg = new Scripted('telegram', async (ctx, n) => {
      if (n === 1) throw new ChannelDownError('the bot token was revoked');
      ctx.ok();
      await aborted(ctx.signal);
    });
    sup.add(tg);
    sup.start();
    await settle();
    expect(snap('telegram')).toMatchObject({ state: 'down', lastError: { message: 'the bot token was revoked' } });
    expect(scheduledDelay('telegram')).toBe(MAX_MS);

    await advance(MAX_MS - 1);
    expect(tg.runs).toBe(1);
    expect(snap('telegram').state).toBe('down');
    await advance(1);
    expect(tg.runs).toBe(2);
    expect(snap('telegram').state).toBe('ok');
  });

  it('waits at least as long as the other side asked before restarting', async () => {
    const tg = new Scripted('telegram', async (ctx, n) => {
      if (n === 1) throw new ChannelFaultError('429 Too Many Requests', 5_000);
      ctx.ok();
      await aborted(ctx.signal);
    });
    sup.add(tg);
    sup.start();
    await settle();
    expect(scheduledDelay('telegram')).toBe(5_000);
    await advance(4_999);
    expect(tg.runs).toBe(1);
    await advance(1);
    expect(tg.runs).toBe(2);
  });

  it('doubles the wait for each failure in a row up to the maximum, and starts over once the channel works', async () => {
    const tg = new Scripted('telegram', async (ctx, n) => {
      if (n === 6) {
        ctx.ok();
        await Promise.resolve();
      }
      throw new ChannelFaultError(`failure ${n}`);
    });
    sup.add(tg);
    sup.start();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      await settle();
      const d = scheduledDelay('telegram');
      delays.push(d);
      await advance(d);
    }
    expect(tg.runs).toBe(8);
    // Runs 1–5 fail in a row; run 6 works (ok) and then fails: the backoff starts over.
    const bases = [100, 200, 400, 800, 1_000, 100, 200];
    delays.forEach((d, i) => expectAbout(d, bases[i] ?? 0));
    expect(snap('telegram').restarts).toBe(7);
  });

  it('keeps another channel running untouched while one keeps failing', async () => {
    const good = new Scripted('webchat', async (ctx) => {
      ctx.ok();
      await aborted(ctx.signal);
    });
    const bad = new Scripted('telegram', async (_ctx, n) => {
      throw new ChannelFaultError(`failure ${n}`);
    });
    sup.add(good);
    sup.add(bad);
    sup.start();
    await advance(5_000);
    expect(bad.runs).toBeGreaterThan(4);
    expect(snap('telegram').state).toBe('degraded');
    expect(good.runs).toBe(1);
    expect(good.signals[0]?.aborted).toBe(false);
    expect(snap('webchat')).toMatchObject({ state: 'ok', lastError: null, restarts: 0, nextRetryAt: null });
    expect(transitions.filter((t) => t.channel === 'webchat')).toEqual([]);
  });

  it('reports each change of state once, and a new error within degraded once, never a repeat', async () => {
    const tg = new Scripted('telegram', async (ctx, n) => {
      if (n === 1) {
        ctx.degraded('rate limited, waiting 3 s');
        ctx.degraded('rate limited, waiting 3 s');
        ctx.degraded('rate limited, waiting 5 s');
        ctx.ok();
        ctx.ok();
        throw new ChannelFaultError('network down');
      }
      if (n === 2) throw new ChannelFaultError('network down');
      if (n === 3) throw new ChannelFaultError('502 Bad Gateway');
      ctx.ok();
      ctx.ok();
      await aborted(ctx.signal);
    });
    sup.add(tg);
    sup.start();
    for (let i = 0; i < 3; i++) {
      await settle();
      await advance(scheduledDelay('telegram'));
    }
    expect(tg.runs).toBe(4);
    expect(transitions.map(({ from, to, error }) => ({ from, to, error }))).toEqual([
      { from: 'ok', to: 'degraded', error: 'rate limited, waiting 3 s' },
      { from: 'degraded', to: 'degraded', error: 'rate limited, waiting 5 s' },
      { from: 'degraded', to: 'ok', error: null },
      { from: 'ok', to: 'degraded', error: 'network down' },
      { from: 'degraded', to: 'degraded', error: '502 Bad Gateway' },
      { from: 'degraded', to: 'ok', error: null },
    ]);
    expect(transitions.every((t) => t.channel === 'telegram')).toBe(true);
    // A failure says when the restart is; a state the run reports itself has none.
    expect(transitions[0]?.retryAt).toBeNull();
    expect(transitions[3]?.retryAt).toEqual(expect.any(Number));
    expect(transitions.map((t) => t.restarts)).toEqual([0, 0, 0, 0, 2, 3]);
  });

  it('takes states reported from outside for a channel without a run of its own', async () => {
    sup.add({ name: 'webhook' });
    sup.start();
    await advance(10_000);
    expect(snap('webhook')).toMatchObject({ state: 'ok', restarts: 0, nextRetryAt: null });

    sup.report('webhook', 'degraded', 'a notice could not be delivered: 500');
    sup.report('webhook', 'degraded', 'a notice could not be delivered: 500');
    expect(snap('webhook')).toMatchObject({
      state: 'degraded',
      lastError: { message: 'a notice could not be delivered: 500' },
      nextRetryAt: null,
    });
    sup.report('webhook', 'ok');
    sup.report('webhook', 'ok');
    sup.report('nobody', 'down', 'not a channel');
    expect(snap('webhook').state).toBe('ok');
    expect(sup.get('nobody')).toBeUndefined();
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['ok->degraded', 'degraded->ok']);
  });

  it('lets a channel that runs itself say how it is: a delivery report neither hides nor fakes a failing poll', async () => {
    const tg = new Scripted('telegram', async () => {
      throw new ChannelFaultError('getUpdates failed: 409 Conflict');
    });
    sup.add(tg);
    sup.start();
    await settle();
    sup.report('telegram', 'ok');
    expect(snap('telegram')).toMatchObject({
      state: 'degraded',
      lastError: { message: 'getUpdates failed: 409 Conflict' },
    });
    sup.report('telegram', 'down', 'a notice could not be delivered');
    expect(snap('telegram').state).toBe('degraded');
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['ok->degraded']);
  });

  it('counts a run that ends by itself as a failure and restarts it', async () => {
    const tg = new Scripted('telegram', async (ctx, n) => {
      if (n === 1) return;
      ctx.ok();
      await aborted(ctx.signal);
    });
    sup.add(tg);
    sup.start();
    await settle();
    expect(snap('telegram')).toMatchObject({
      state: 'degraded',
      lastError: { message: 'channel telegram stopped by itself' },
    });
    await advance(scheduledDelay('telegram'));
    expect(tg.runs).toBe(2);
    expect(snap('telegram').state).toBe('ok');
  });

  it('stops every run and waits for each to finish; nothing restarts afterwards', async () => {
    let cleanedUp = false;
    const slow = new Scripted('telegram', async (ctx) => {
      ctx.ok();
      await aborted(ctx.signal);
      await new Promise((r) => setTimeout(r, 50));
      cleanedUp = true;
      // What a poller typically does when its signal aborts: it throws the abort.
      throw new Error('aborted');
    });
    const quick = new Scripted('webchat', async (ctx) => aborted(ctx.signal));
    const failing = new Scripted('matrix', async () => {
      throw new ChannelFaultError('cannot connect');
    });
    sup.add(slow);
    sup.add(quick);
    sup.add(failing);
    sup.start();
    await settle();
    expect(snap('matrix').nextRetryAt).not.toBeNull();
    const before = transitions.length;

    let stopped = false;
    const stopping = sup.stop().then(() => {
      stopped = true;
    });
    expect(slow.signals[0]?.aborted).toBe(true);
    expect(quick.signals[0]?.aborted).toBe(true);
    await advance(49);
    expect(stopped).toBe(false);
    await advance(1);
    await stopping;
    expect(cleanedUp).toBe(true);

    await advance(MAX_MS * 10);
    expect([slow.runs, quick.runs, failing.runs]).toEqual([1, 1, 1]);
    expect(restarted).toEqual([]);
    expect(transitions).toHaveLength(before);
    expect(snap('telegram').state).toBe('ok');
    sup.start();
    await settle();
    expect([slow.runs, quick.runs, failing.runs]).toEqual([1, 1, 1]);
  });

  it('refuses a second channel with the same name', () => {
    sup.add({ name: 'telegram' });
    expect(() => sup.add({ name: 'telegram' })).toThrow('channel telegram is added twice');
  });
});
