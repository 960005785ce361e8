import { backoffDelayMs, clampTimerMs, errorMessage } from '@alter0/core';
import type { Deliverer } from './delivery.js';
import { DeliveryError } from './delivery.js';
import type { Delivery } from './notice.js';

/** The outbox as the dispatcher sees it (the daemon adapts the store's outbox to this). */
export interface OutboxPort {
  /** Due at `now`, and due further ahead than `horizonMs` (set by a clock that has since stepped back). */
  due(now: number, limit: number, horizonMs: number): Delivery[];
  nextDueAt(): number | null;
  progressed(id: string, parts: number): void;
  sent(id: string, now: number): void;
  /** `nextAttemptAt` null: given up. */
  failed(id: string, p: { error: string; nextAttemptAt: number | null; now: number }): void;
}

export interface DispatcherOptions {
  outbox: OutboxPort;
  deliverers: ReadonlyMap<string, Deliverer>;
  /** Attempts per notice before it is given up. */
  maxAttempts: number;
  /** Backoff between attempts of one notice. */
  retryInitialMs: number;
  retryMaxMs: number;
  now: () => number;
  onSent(d: Delivery): void;
  onFailed(d: Delivery, error: string, givenUp: boolean, retryAt: number | null): void;
  /** A read or write of the outbox failed (the database): logged; the dispatcher tries again later. */
  onError(err: unknown): void;
}

/** Notices to one target go one after another, in order; targets do not wait for each other. */
const MAX_TARGETS_AT_ONCE = 8;
const BATCH = 100;
/** How soon a dispatcher whose outbox read failed looks again. */
const ERROR_PAUSE_MS = 5_000;
/** A notice delivered whose `sent` mark the database refused is delivered again after this long at the soonest. */
const UNMARKED_PAUSE_MS = 2_000;
/** The longest wait a receiver may ask for (Retry-After): a day-long one would hold its notices for a day. */
const MAX_ASKED_WAIT_MS = 3_600_000;

/**
 * Delivers the outbox: every due notice goes to its channel's deliverer; success marks it sent, failure schedules
 * the next attempt with backoff (or the wait the receiver asked for), and after `maxAttempts` it is given up. A
 * target that hangs or fails holds up only its own notices.
 */
export class OutboxDispatcher {
  private readonly busy = new Set<string>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;
  private again = false;
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Targets whose notice failed, until that notice is retried: their later notices wait for it. (due() orders by
   * due time, and the retry is due after them: without the hold they would go as soon as the failure freed the
   * target.)
   */
  private readonly held = new Map<string, { id: string; retryAt: number }>();

  /**
   * The longest wait this dispatcher sets (backoff with its jitter, or a receiver's asked wait). Waits are wall-clock
   * times (they outlive the process): one further ahead than this was set before the clock stepped back, and is over.
   */
  private readonly horizonMs: number;

  constructor(private readonly o: DispatcherOptions) {
    this.horizonMs = Math.max(o.retryMaxMs * 1.25, MAX_ASKED_WAIT_MS);
  }

  start(): void {
    this.kick();
  }

  /** New notices were queued (or a target freed up): look now. */
  kick(): void {
    if (this.abort.signal.aborted) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    // Off the caller's stack: a kick comes from inside other work (a commit, a finished delivery).
    setImmediate(() => this.pump());
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('alter0 is stopping'));
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private pump(): void {
    this.pumping = false;
    this.again = false;
    if (this.abort.signal.aborted) return;
    let due: Delivery[];
    const now = this.o.now();
    try {
      due = this.o.outbox.due(now, BATCH, this.horizonMs);
    } catch (err) {
      this.o.onError(err);
      this.arm(this.o.now() + ERROR_PAUSE_MS);
      return;
    }
    for (const [key, list] of this.byTarget(due, now)) {
      if (this.busy.size >= MAX_TARGETS_AT_ONCE) break;
      this.busy.add(key);
      const p = this.drain(list).finally(() => {
        this.busy.delete(key);
        this.inFlight.delete(p);
        this.kick();
      });
      this.inFlight.add(p);
    }
    if (this.again) this.kick();
    else this.armNext();
  }

  /** The due notices per free target, in order: a held target's failed notice first, or none until it is due. */
  private byTarget(due: readonly Delivery[], now: number): Map<string, Delivery[]> {
    const byTarget = new Map<string, Delivery[]>();
    for (const d of due) {
      const key = targetOf(d);
      if (this.busy.has(key)) continue;
      const list = byTarget.get(key) ?? [];
      if (this.held.get(key)?.id === d.id) list.unshift(d);
      else list.push(d);
      byTarget.set(key, list);
    }
    for (const [key, hold] of this.held) {
      if (this.busy.has(key)) continue;
      // Until its hold ends, a target sends nothing (its held notice is normally not due before then either; one
      // delivered but not marked is, and must wait too).
      if (now < hold.retryAt && hold.retryAt - now <= this.horizonMs) byTarget.delete(key);
      // Due but not read (gone from the outbox, or beyond the batch): the others go rather than wait forever.
      else if (byTarget.get(key)?.[0]?.id !== hold.id) this.held.delete(key);
    }
    return byTarget;
  }

  private armNext(): void {
    let next: number | null;
    try {
      next = this.o.outbox.nextDueAt();
    } catch (err) {
      this.o.onError(err);
      next = this.o.now() + ERROR_PAUSE_MS;
    }
    if (next !== null) this.arm(Math.min(next, this.o.now() + this.horizonMs));
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), clampTimerMs(Math.max(at - this.o.now(), 50)));
    this.timer.unref();
  }

  /** One target's due notices, in order; stops at the first failure so later ones do not overtake it. */
  private async drain(list: readonly Delivery[]): Promise<void> {
    for (const d of list) {
      if (this.abort.signal.aborted) return;
      if (!(await this.deliverOne(d))) return;
    }
  }

  private async deliverOne(d: Delivery): Promise<boolean> {
    const deliverer = this.o.deliverers.get(d.channel);
    try {
      if (!deliverer) throw new DeliveryError(`no channel "${d.channel}" is configured to deliver this notice`);
      await deliverer.deliver(d, (parts) => this.o.outbox.progressed(d.id, parts), this.abort.signal);
    } catch (err) {
      if (this.abort.signal.aborted) return false;
      this.failed(d, err);
      return false;
    }
    if (this.held.get(targetOf(d))?.id === d.id) this.held.delete(targetOf(d));
    try {
      this.o.outbox.sent(d.id, this.o.now());
    } catch (err) {
      // Delivered but not marked (a full disk, another program's write lock): it goes again later, which
      // at-least-once allows — but not at once. Still due, it was delivered again on every pump until the write
      // worked (1,126 repeats to one receiver in a 4-minute day soak); its target now waits as after a failure.
      this.o.onError(err);
      this.held.set(targetOf(d), { id: d.id, retryAt: this.o.now() + UNMARKED_PAUSE_MS });
      this.safely(() => this.o.onSent(d));
      return false;
    }
    this.safely(() => this.o.onSent(d));
    return true;
  }

  private failed(d: Delivery, err: unknown): void {
    const attempts = d.attempts + 1;
    const message = errorMessage(err);
    const asked = err instanceof DeliveryError ? err.retryAfterMs : null;
    const givenUp = attempts >= this.o.maxAttempts;
    const wait = Math.max(
      backoffDelayMs(attempts, { initialMs: this.o.retryInitialMs, maxMs: this.o.retryMaxMs, jitter: 0.2 }),
      Math.min(asked ?? 0, MAX_ASKED_WAIT_MS),
    );
    const now = this.o.now();
    const retryAt = givenUp ? null : now + wait;
    if (retryAt === null) this.held.delete(targetOf(d));
    else this.held.set(targetOf(d), { id: d.id, retryAt });
    try {
      this.o.outbox.failed(d.id, { error: message, nextAttemptAt: retryAt, now });
    } catch (e) {
      this.o.onError(e);
    }
    this.safely(() => this.o.onFailed(d, message, givenUp, retryAt));
  }

  /** A hook that throws (its event could not be written) must not reject a delivery nobody awaits. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.onError(err);
    }
  }
}

/** Notices to one target go in order; the key of that order. */
function targetOf(d: Delivery): string {
  return `${d.channel}\u0000${d.target}`;
}
