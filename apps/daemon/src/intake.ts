import type { AcceptInput, Accepted, Store } from '@alter0/store';

export interface IntakeOptions {
  store: Store;
  /** After the commit, for each accepted message: metrics, live updates, waking the workers. */
  onAccepted(a: Accepted): void;
  /** The most messages one commit takes (the rest go in the next one, right after). */
  maxBatch?: number;
}

interface Pending {
  input: AcceptInput;
  resolve(a: Accepted): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 256;

/**
 * Group commit of incoming messages (invariant 1): every message that arrives while the event loop is busy — in
 * the same turn of the loop, or while the previous commit's fsync ran — is committed in one transaction, and each
 * caller's promise resolves only after that commit. An fsync costs ~1.5 ms here whether it covers one message or a
 * hundred, so a flood of accepts costs one fsync per turn of the loop instead of one per message. A message the
 * queue cannot take is refused on its own; a write that fails refuses the whole group, and nothing of it is kept.
 */
export class Intake {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly o: IntakeOptions) {}

  accept(input: AcceptInput): Promise<Accepted> {
    return new Promise<Accepted>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the I/O of this turn: requests read in the same poll phase join this group.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const max = this.o.maxBatch ?? MAX_BATCH;
    const group = this.pending.splice(0, max);
    if (this.pending.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    let results;
    try {
      results = this.o.store.jobs.acceptMany(group.map((p) => p.input));
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    // Committed: only now are the callers answered and the workers woken.
    group.forEach((p, i) => {
      const r = results[i];
      if (r === undefined) p.reject(new Error('the group commit returned fewer results than inputs'));
      else if (r.ok) {
        this.o.onAccepted(r.value);
        p.resolve(r.value);
      } else p.reject(r.error);
    });
  }
}
