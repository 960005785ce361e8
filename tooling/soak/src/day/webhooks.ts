import { setTimeout as sleep } from 'node:timers/promises';
import type { SoakRun } from '../run-state.js';
import { harnessError, violate } from '../run-state.js';
import type { SoakFeature } from './feature.js';
import { readChannelsDb } from './channels-db.js';
import type { ChannelsDb } from './channels-db.js';
import { NOTIFY_RETRY, channelView, outageWindows, retrySets, sleepUntil } from './outages.js';
import { Receiver } from './receiver.js';
import type { ReceiverMode } from './receiver.js';
import { missingFindings, undelivered, unmarked } from './webhook-checks.js';
import type { Finding } from './telegram-checks.js';
import { webhookOutage } from './webhook-outage.js';

export interface WebhooksFeatureOptions {
  /** How many receivers (notify.webhook_urls). Default 2. */
  receivers?: number;
  /** Where in the load (fractions of it) the outages start. Default 0.3 and 0.42 (apart from Telegram's). */
  outageAt?: readonly number[];
  /**
   * Each outage's mode per receiver (cycled): by default all fail in the first (502, and a receiver that never
   * answers), and only the first is unreachable in the second while the other keeps working.
   */
  outageModes?: readonly (readonly ReceiverMode[])[];
  /** How long final() waits for deliveries still in the outbox. Default 3 × notify.retry_max + 20 s. */
  finalWaitMs?: number;
}

/** The webhook receivers of the day, and for the core: whether a job's end reached every receiver. */
export interface WebhooksFeature extends SoakFeature {
  readonly receivers: readonly Receiver[];
  /** Whether every receiver answered 2xx to a notice of this job (at least once); null when there are no receivers. */
  delivered(jobId: string): boolean | null;
}

const DEFAULTS: Required<WebhooksFeatureOptions> = {
  receivers: 2,
  outageAt: [0.3, 0.42],
  outageModes: [
    ['error', 'timeout'],
    ['refuse', 'up'],
  ],
  finalWaitMs: 3 * NOTIFY_RETRY.maxMs + 20_000,
};

const MAX_LISTED = 20;

export function webhooksFeature(options: WebhooksFeatureOptions = {}): WebhooksFeature {
  return new WebhooksDay({ ...DEFAULTS, ...options });
}

class WebhooksDay implements WebhooksFeature {
  readonly name = 'webhooks';
  readonly receivers: Receiver[] = [];
  private lastView = 0;
  private readonly keysChecked = new Map<Receiver, number>();
  private readonly c = {
    receivers: 0,
    posts: 0,
    delivered: 0,
    duplicates: 0,
    failed_posts: 0,
    key_mismatch: 0,
    due: 0,
    undelivered: 0,
    given_up: 0,
    outages: 0,
    outage_ms: 0,
  };

  constructor(private readonly o: Required<WebhooksFeatureOptions>) {}

  async prepare(run: SoakRun): Promise<{ sets: string[]; env: Record<string, string> }> {
    run.result.features.webhooks = this.c;
    for (let i = 0; i < this.o.receivers; i++) {
      const r = new Receiver(`r${i + 1}`);
      await r.start();
      this.receivers.push(r);
    }
    this.c.receivers = this.receivers.length;
    return {
      sets: [
        `notify.webhook_urls=${JSON.stringify(this.receivers.map((r) => r.url))}`,
        ...retrySets(run.opts.durationMs),
      ],
      env: {},
    };
  }

  async load(run: SoakRun, loadEnd: number): Promise<void> {
    const windows = outageWindows(Date.now(), loadEnd, this.o.outageAt);
    for (const [i, w] of windows.entries()) {
      if (!(await sleepUntil(run, w.from, loadEnd))) return;
      const modes = this.o.outageModes[i % this.o.outageModes.length] ?? ['refuse'];
      const rec = await webhookOutage(run, this.receivers, {
        name: `webhook_outage_${i + 1}`,
        modes: this.receivers.map((_, k) => modes[k % modes.length] ?? 'up'),
        window: w,
        loadEnd,
      });
      run.result.moments.push({ ...rec, peerOnly: true });
      this.c.outages++;
      this.c.outage_ms += Math.round(Number(rec.observed.duration_ms ?? 0));
    }
  }

  /** Cheap and continuous: the counters, and each POST carries its dedup key as its Idempotency-Key too. */
  async poll(run: SoakRun): Promise<void> {
    for (const r of this.receivers) {
      for (const p of r.posts.slice(this.keysChecked.get(r) ?? 0)) {
        const want = `${p.jobId}:${p.event}:webhook:`;
        if (p.idempotencyKey !== p.dedupKey || !p.dedupKey.startsWith(want)) this.c.key_mismatch++;
      }
      this.keysChecked.set(r, r.posts.length);
    }
    this.count();
    // The outbox's given-up count, every 5 s (each one is also a delivery missing at the end).
    if (Date.now() - this.lastView < 5000) return;
    this.lastView = Date.now();
    const v = await channelView(run);
    if (v !== null) this.c.given_up = Math.max(this.c.given_up, v.dead);
  }

  private count(): void {
    const all = this.receivers.flatMap((r) => r.posts);
    this.c.posts = all.length;
    this.c.failed_posts = all.filter((p) => p.status < 200 || p.status >= 300).length;
    this.c.delivered = this.receivers.reduce((n, r) => n + r.delivered.size, 0);
    this.c.duplicates = this.receivers.reduce((n, r) => n + r.duplicates(), 0);
  }

  async final(run: SoakRun): Promise<void> {
    let db: ChannelsDb;
    try {
      db = await readChannelsDb(run.dbFile, false, run.signal);
    } catch (err) {
      if (!run.signal.aborted) harnessError(run, 'webhooks: final database check', err);
      return;
    }
    const marks = unmarked(db);
    run.result.checks.notification_lost += marks.checked;
    this.report(run, marks.findings);
    // Bounded wait: what is still in the outbox after the drain is retried within retry_max, then delivered.
    const deadline = Date.now() + this.o.finalWaitMs;
    let u = undelivered(db, this.receivers);
    while (u.missing.length > 0 && Date.now() < deadline && !run.signal.aborted) {
      await sleep(1000, undefined, { signal: run.signal }).catch(() => undefined);
      u = undelivered(db, this.receivers);
    }
    if (run.signal.aborted) return;
    run.result.checks.notification_lost += u.due;
    this.report(run, missingFindings(db, u, Math.round(this.o.finalWaitMs / 1000)));
    this.c.due = u.due;
    this.c.undelivered = u.missing.length;
    this.c.given_up = Math.max(this.c.given_up, db.dead.length);
    this.count();
  }

  private report(run: SoakRun, findings: readonly Finding[]): void {
    for (const f of findings.slice(0, MAX_LISTED)) violate(run, f.kind, f.detail);
    if (findings.length > MAX_LISTED)
      violate(run, 'notification_lost', `… and ${findings.length - MAX_LISTED} more notices not delivered`);
  }

  delivered(jobId: string): boolean | null {
    if (this.receivers.length === 0) return null;
    return this.receivers.every((r) => r.count(jobId) > 0);
  }

  async close(): Promise<void> {
    for (const r of this.receivers) await r.close();
  }
}
