import type { DepthSample } from '@alter0/store';
import type { Logger } from '@alter0/obs';

export interface DepthSamplerOptions {
  /** Queued jobs now (an index range count on the daemon's connection: well under a millisecond). */
  read: () => number;
  now: () => number;
  logger: Logger;
  /** Default one a minute. */
  everyMs?: number;
  /** Samples kept (default 180: three hours at one a minute, well beyond the rollup's interval). */
  keep?: number;
}

/**
 * The queue depth, sampled once a minute into a small ring that the stats rollup reads (the rollup counts each
 * sample once, in its hour: stats_hourly.depth_*). Lost with the process; hours the daemon did not run have none.
 */
export class DepthSampler {
  private readonly ring: DepthSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private failing = false;

  constructor(private readonly o: DepthSamplerOptions) {}

  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.o.everyMs ?? 60_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A fresh sample, then every sample kept, oldest first. */
  take(): DepthSample[] {
    this.sample();
    return [...this.ring];
  }

  private sample(): void {
    try {
      this.ring.push({ at: this.o.now(), depth: this.o.read() });
      if (this.failing) this.o.logger.info('queue depth sampling works again');
      this.failing = false;
    } catch (err) {
      // A database that refuses a read for a moment costs a sample, never the daemon; said once per spell.
      if (!this.failing) this.o.logger.warn('could not sample the queue depth', { err });
      this.failing = true;
    }
    const over = this.ring.length - (this.o.keep ?? 180);
    if (over > 0) this.ring.splice(0, over);
  }
}
