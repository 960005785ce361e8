import { setTimeout as sleep } from 'node:timers/promises';
import type { SoakRun } from '../run-state.js';
import { violate } from '../run-state.js';
import type { MomentRecord } from './feature.js';
import { NOTIFY_RETRY, NOTIFY_TIMEOUT_S, channelView } from './outages.js';
import type { OutageWindow } from './outages.js';
import type { Receiver, ReceiverMode } from './receiver.js';

/** After the outage a waiting notice is retried within retry_max (one attempt may take the timeout), then goes. */
const RECOVERY_MS = NOTIFY_RETRY.maxMs + NOTIFY_TIMEOUT_S * 1000 + 40_000;

interface Seen {
  upPolls: number;
  degraded: boolean;
  pendingMax: number;
}

/**
 * One outage of the webhook receivers: each receiver in its mode for the window ('up' ones keep working, so a
 * failing receiver is seen not to hold up another), then all back up; judged on deliveries resuming.
 */
export async function webhookOutage(
  run: SoakRun,
  receivers: readonly Receiver[],
  o: { name: string; modes: readonly ReceiverMode[]; window: OutageWindow; loadEnd: number },
): Promise<MomentRecord> {
  const startedAt = Date.now();
  const downed = receivers.filter((_, i) => (o.modes[i] ?? 'up') !== 'up');
  const healthy = receivers.filter((r) => !downed.includes(r));
  const seen: Seen = { upPolls: 0, degraded: false, pendingMax: 0 };
  try {
    for (const [i, r] of receivers.entries()) await r.setMode(o.modes[i] ?? 'up');
    await watch(run, o.window.to, seen, () => false);
  } finally {
    for (const r of receivers) await r.setMode('up');
  }
  const backAt = Date.now();
  const since = (rs: readonly Receiver[], t: number, ok: boolean): number =>
    rs.reduce((n, r) => n + r.posts.filter((p) => p.at >= t && p.status >= 200 && p.status < 300 === ok).length, 0);
  const failedDuring = since(downed, startedAt, false);
  // Something waited for a downed receiver: a failed attempt it saw, or notices pending in the outbox.
  const backlog = failedDuring > 0 || seen.pendingMax > 0;
  const resumedAt = new Map<Receiver, number>();
  const resumed = (): boolean => {
    for (const r of downed) {
      const first = r.posts.find((p) => p.at >= backAt && p.status >= 200 && p.status < 300);
      if (first && !resumedAt.has(r)) resumedAt.set(r, first.at);
    }
    return resumedAt.size === downed.length;
  };
  const bound = Math.min(backAt + RECOVERY_MS, o.loadEnd);
  if (backlog) await watch(run, bound, { upPolls: 0, degraded: false, pendingMax: 0 }, resumed);
  const observed: WebhookOutageObserved = {
    modes: o.modes.join(','),
    duration_ms: backAt - startedAt,
    failed_posts_during: failedDuring,
    delivered_to_healthy_during: since(healthy, startedAt, true) - since(healthy, backAt, true),
    degraded_seen: seen.degraded,
    pending_max: seen.pendingMax,
    resumed_after_ms: resumed() ? Math.max(...[...resumedAt.values()].map((t) => t - backAt)) : -1,
  };
  const j = judgeWebhookOutage(observed, {
    backlog,
    judged: bound === backAt + RECOVERY_MS,
    downed: downed.map((r) => r.name),
    recoveryMs: RECOVERY_MS,
  });
  run.result.checks.hostile_outcome += j.checked;
  for (const f of j.failed) violate(run, 'hostile_outcome', `${o.name} (${observed.modes}): ${f}`);
  const ok = j.failed.length === 0;
  return { name: o.name, startedAt, endedAt: Date.now(), ok, observed: { ...observed } };
}

export interface WebhookOutageObserved {
  modes: string;
  duration_ms: number;
  failed_posts_during: number;
  delivered_to_healthy_during: number;
  degraded_seen: boolean;
  pending_max: number;
  /** -1: a downed receiver got no delivery within the bound. */
  resumed_after_ms: number;
}

/**
 * The expectation of a webhook outage: when something waited for the downed receivers, deliveries to each of them
 * resumed within the bound after they came back (judged only when the load left the whole bound).
 */
export function judgeWebhookOutage(
  ob: WebhookOutageObserved,
  o: { backlog: boolean; judged: boolean; downed: readonly string[]; recoveryMs: number },
): { checked: number; failed: string[] } {
  if (!o.backlog || !o.judged) return { checked: 0, failed: [] };
  if (ob.resumed_after_ms >= 0) return { checked: 1, failed: [] };
  return {
    checked: 1,
    failed: [
      `deliveries to ${o.downed.join(', ')} did not resume within ${o.recoveryMs / 1000}s of the receivers coming back (${ob.failed_posts_during} failed attempts during the outage, up to ${ob.pending_max} notices waiting)`,
    ],
  };
}

async function watch(run: SoakRun, until: number, seen: Seen, done: () => boolean): Promise<void> {
  while (!run.signal.aborted && Date.now() < until && !done()) {
    const v = await channelView(run);
    if (v !== null) {
      seen.upPolls++;
      seen.pendingMax = Math.max(seen.pendingMax, v.pending);
      if (v.states.webhook === 'degraded') seen.degraded = true;
    }
    await sleep(1000, undefined, { signal: run.signal }).catch(() => undefined);
  }
}
