import { backoffDelayMs, clampTimerMs, errorMessage } from '@alter0/core';
import type { ChannelSnapshot, ChannelState, RunContext, SupervisedChannel } from './channel.js';
import { ChannelDownError, ChannelFaultError } from './channel.js';

/** One change of a channel's state or error: the daemon logs it and writes it to the event table. */
export interface ChannelTransition {
  channel: string;
  from: ChannelState;
  to: ChannelState;
  error: string | null;
  /** Epoch ms of the next restart, when one is scheduled. */
  retryAt: number | null;
  restarts: number;
}

export interface SupervisorOptions {
  /** First restart delay; doubles per failure in a row up to `retryMaxMs`. */
  retryInitialMs: number;
  /** The longest wait between restarts, and the pace at which a `down` channel is retried. */
  retryMaxMs: number;
  now: () => number;
  onTransition(t: ChannelTransition): void;
  /** After each restart, for the metrics. */
  onRestart?(channel: string): void;
}

interface Slot {
  channel: SupervisedChannel;
  snap: ChannelSnapshot;
  /** Failures in a row since the channel last said it works. */
  failures: number;
  abort: AbortController;
  running: Promise<void> | null;
  timer: NodeJS.Timeout | null;
}

/**
 * Keeps each channel running (invariant: a failing channel never takes the daemon or another channel down). A run
 * that throws is restarted after an exponential backoff, or at the slowest pace when it is `down`; each change of
 * state (or of the error within a state) is one transition, reported once.
 */
export class ChannelSupervisor {
  private readonly slots = new Map<string, Slot>();
  private stopped = false;

  constructor(private readonly o: SupervisorOptions) {}

  add(channel: SupervisedChannel): void {
    if (this.slots.has(channel.name)) throw new Error(`channel ${channel.name} is added twice`);
    const now = this.o.now();
    this.slots.set(channel.name, {
      channel,
      snap: { name: channel.name, state: 'ok', since: now, lastError: null, restarts: 0, nextRetryAt: null },
      failures: 0,
      abort: new AbortController(),
      running: null,
      timer: null,
    });
  }

  /** Starts every channel that has a run of its own. */
  start(): void {
    for (const slot of this.slots.values()) if (slot.channel.run) this.launch(slot);
  }

  /**
   * A state reported from outside the channel's run (deliveries, the HTTP listener). A channel that runs itself
   * says when it works (`ctx.ok()`): reports only apply to channels without a run, so a delivery that succeeds
   * never hides a failing poll, nor a failed one flap a channel whose poll works.
   */
  report(name: string, state: ChannelState, error?: string): void {
    const slot = this.slots.get(name);
    if (!slot || slot.channel.run) return;
    if (state === 'ok') slot.failures = 0;
    this.set(slot, state, error ?? null, slot.snap.nextRetryAt);
  }

  snapshot(): ChannelSnapshot[] {
    return [...this.slots.values()].map((s) => ({ ...s.snap, lastError: s.snap.lastError && { ...s.snap.lastError } }));
  }

  get(name: string): ChannelSnapshot | undefined {
    return this.snapshot().find((s) => s.name === name);
  }

  /** Stops every run and waits for them (each run ends when its signal aborts). */
  async stop(): Promise<void> {
    this.stopped = true;
    const runs: Promise<void>[] = [];
    for (const slot of this.slots.values()) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.abort.abort(new Error('alter0 is stopping'));
      if (slot.running) runs.push(slot.running);
    }
    await Promise.allSettled(runs);
  }

  private launch(slot: Slot): void {
    const run = slot.channel.run;
    if (!run || this.stopped) return;
    slot.timer = null;
    slot.abort = new AbortController();
    const { signal } = slot.abort;
    const ctx: RunContext = {
      signal,
      ok: () => {
        if (signal.aborted) return;
        slot.failures = 0;
        this.set(slot, 'ok', null, null);
      },
      degraded: (message) => {
        if (!signal.aborted) this.set(slot, 'degraded', message, null);
      },
    };
    slot.running = (async () => {
      try {
        await run.call(slot.channel, ctx);
        if (!signal.aborted) this.failed(slot, new ChannelFaultError(`channel ${slot.channel.name} stopped by itself`));
      } catch (err) {
        if (!signal.aborted) this.failed(slot, err);
      }
    })();
  }

  private failed(slot: Slot, err: unknown): void {
    slot.failures += 1;
    const down = err instanceof ChannelDownError;
    const asked = err instanceof ChannelFaultError ? err.retryAfterMs : null;
    const backoff = backoffDelayMs(slot.failures, {
      initialMs: this.o.retryInitialMs,
      maxMs: this.o.retryMaxMs,
      jitter: 0.1,
    });
    const delay = down ? this.o.retryMaxMs : Math.max(backoff, asked ?? 0);
    const retryAt = this.o.now() + delay;
    this.set(slot, down ? 'down' : 'degraded', errorMessage(err), retryAt);
    slot.timer = setTimeout(() => {
      slot.snap.restarts += 1;
      slot.snap.nextRetryAt = null;
      this.o.onRestart?.(slot.channel.name);
      this.launch(slot);
    }, clampTimerMs(delay));
  }

  private set(slot: Slot, state: ChannelState, error: string | null, retryAt: number | null): void {
    const prev = slot.snap;
    const now = this.o.now();
    const changed = prev.state !== state || (error !== null && error !== prev.lastError?.message);
    slot.snap = {
      ...prev,
      state,
      since: prev.state === state ? prev.since : now,
      lastError: error !== null ? { message: error, at: now } : prev.lastError,
      nextRetryAt: retryAt,
    };
    if (!changed) return;
    this.o.onTransition({
      channel: prev.name,
      from: prev.state,
      to: state,
      error,
      retryAt,
      restarts: slot.snap.restarts,
    });
  }
}
