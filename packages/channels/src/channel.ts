import { Alter0Error } from '@alter0/core';

/** ok: working; degraded: failing and retrying by itself; down: cannot work until the owner acts (retried slowly). */
export type ChannelState = 'ok' | 'degraded' | 'down';

/** One channel as the status page, the metrics and the events show it. */
export interface ChannelSnapshot {
  name: string;
  state: ChannelState;
  /** Epoch ms: when it entered this state. */
  since: number;
  lastError: { message: string; at: number } | null;
  /** How many times its run was restarted after a failure. */
  restarts: number;
  /** Epoch ms of the next restart while it is failing; null when it runs. */
  nextRetryAt: number | null;
}

/** What a running channel tells its supervisor, and the signal that stops it. */
export interface RunContext {
  readonly signal: AbortSignal;
  /** Working (again): clears the failure count, so the next failure starts the backoff from the beginning. */
  ok(): void;
  /** Failing but still running (e.g. rate limited and waiting as told): shown, no restart. */
  degraded(message: string): void;
}

/**
 * A channel the supervisor keeps running. `run` works until `ctx.signal` aborts; it throws when it cannot go on,
 * and is then started again after a backoff. A channel without `run` (outbound only, or run by someone else) is
 * only reported on.
 */
export interface SupervisedChannel {
  readonly name: string;
  run?(ctx: RunContext): Promise<void>;
}

/** A failure that needs the owner (a revoked token): the channel is `down`, retried at the slowest pace. */
export class ChannelDownError extends Alter0Error {
  constructor(message: string) {
    super('channel_down', message);
  }
}

/** A failure that passes by itself; `retryAfterMs` is the wait the other side asked for, when it said one. */
export class ChannelFaultError extends Alter0Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super('channel_fault', message);
  }
}
