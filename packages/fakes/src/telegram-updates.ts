import { conflict } from './telegram-errors.js';
import type { TgUpdate } from './telegram-types.js';

/** Telegram's update ids are large; starting high catches a bot that assumes they start at 1. */
const FIRST_UPDATE_ID = 100_000_001;

interface HeldPoll {
  /** Another getUpdates arrived: this one is answered 409. */
  supersede(): void;
  /** An update was queued: answer it if it is one this poll wants. */
  wake(): void;
  /** The fake went down: end without an answer. */
  drop(): void;
}

export interface PollParams {
  offset?: number | undefined;
  limit?: number | undefined;
  /** Seconds to hold the request when nothing is pending. */
  timeout?: number | undefined;
}

/** The updates not yet confirmed, and the one long poll that may wait for them (getUpdates semantics). */
export class UpdateQueue {
  private updates: TgUpdate[] = [];
  private nextId = FIRST_UPDATE_ID;
  private confirmed = 0;
  private held: HeldPoll | null = null;

  /** Queues an update and answers the held poll with it; returns its update_id. */
  push(update: Omit<TgUpdate, 'update_id'>): number {
    const updateId = this.nextId++;
    this.updates.push({ update_id: updateId, ...update });
    this.held?.wake();
    return updateId;
  }

  pending(): number {
    return this.updates.length;
  }

  confirmedOffset(): number {
    return this.confirmed;
  }

  /** deleteWebhook/setWebhook with drop_pending_updates. */
  dropPending(): void {
    this.updates = [];
  }

  /** The fake went down: the held request ends without an answer (its socket is gone). */
  dropHeld(): void {
    this.held?.drop();
  }

  /**
   * Confirms the updates below `offset`, then answers what is pending at once, or holds the request up to
   * `timeout` seconds until an update is queued. Rejects with 409 when a later getUpdates supersedes it;
   * resolves [] when the client leaves (nobody reads that answer).
   */
  poll(p: PollParams, signal: AbortSignal): Promise<TgUpdate[]> {
    this.confirm(p.offset);
    // Telegram serves one poll per bot: the newer one wins and the held one is told why it lost.
    this.held?.supersede();
    const limit = Math.min(100, Math.max(1, p.limit ?? 100));
    const ready = this.updates.slice(0, limit);
    const timeout = p.timeout ?? 0;
    if (ready.length > 0 || timeout <= 0 || signal.aborted) return Promise.resolve(ready);
    return new Promise<TgUpdate[]>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.held === held) this.held = null;
      };
      const held: HeldPoll = {
        supersede: () => {
          done();
          reject(conflict());
        },
        wake: () => {
          const updates = this.updates.slice(0, limit);
          if (updates.length === 0) return;
          done();
          resolve(updates);
        },
        drop: () => {
          done();
          resolve([]);
        },
      };
      const onAbort = (): void => held.drop();
      const timer = setTimeout(() => held.drop(), timeout * 1000);
      signal.addEventListener('abort', onAbort, { once: true });
      this.held = held;
    });
  }

  private confirm(offset: number | undefined): void {
    if (offset === undefined || offset === 0) return;
    if (offset < 0) {
      // A negative offset keeps only the last -offset updates and forgets the earlier ones.
      this.updates = this.updates.slice(offset);
      return;
    }
    this.updates = this.updates.filter((u) => u.update_id >= offset);
    this.confirmed = Math.max(this.confirmed, offset);
  }
}
