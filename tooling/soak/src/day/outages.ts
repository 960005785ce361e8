import { setTimeout as sleep } from 'node:timers/promises';
import type { SoakRun } from '../run-state.js';

/** The daemon's retry pace for channels and notices in a compressed day: retries happen within seconds. */
export const CHANNEL_RETRY = { initialMs: 1000, maxMs: 15_000 };
export const NOTIFY_RETRY = { initialMs: 1000, maxMs: 10_000 };
/** Seconds one webhook request may take (the "timeout" outage holds requests longer than this). */
export const NOTIFY_TIMEOUT_S = 3;

export interface OutageWindow {
  from: number;
  to: number;
}

/** Each outage lasts this share of the load time, at least MIN_OUTAGE_MS (10 s in a 3-minute run, 9.6 min in 2 h). */
const OUTAGE_SHARE = 0.08;
const MIN_OUTAGE_MS = 10_000;

function outageMs(loadMs: number): number {
  return Math.max(MIN_OUTAGE_MS, Math.round(OUTAGE_SHARE * loadMs));
}

/**
 * The outage windows of a load phase: one per start fraction, each `outageMs` long. Only windows that end within 75 %
 * of the load are kept, so the daemon has the rest of the load (under kills) and the drain to deliver what waited.
 */
export function outageWindows(start: number, loadEnd: number, fractions: readonly number[]): OutageWindow[] {
  const load = loadEnd - start;
  const len = outageMs(load);
  return fractions
    .map((f) => ({ from: start + Math.round(f * load), to: start + Math.round(f * load) + len }))
    .filter((w) => w.to <= start + 0.75 * load);
}

/**
 * notify.max_attempts for a run of this load time: the attempts an outage costs one notice (one per retry_max),
 * twice over, plus slack for kills and the start of the backoff. A notice given up is then a defect, not the soak's
 * own outage outlasting the daemon's patience.
 */
function noticeMaxAttempts(loadMs: number): number {
  return Math.ceil(outageMs(loadMs) / NOTIFY_RETRY.maxMs) * 2 + 20;
}

/** The daemon settings both channel features need (the same values from either, so their order does not matter). */
export function retrySets(loadMs: number): string[] {
  return [
    `channels.retry_initial=${CHANNEL_RETRY.initialMs}ms`,
    `channels.retry_max=${CHANNEL_RETRY.maxMs}ms`,
    `notify.retry_initial=${NOTIFY_RETRY.initialMs}ms`,
    `notify.retry_max=${NOTIFY_RETRY.maxMs}ms`,
    `notify.max_attempts=${noticeMaxAttempts(loadMs)}`,
    `notify.timeout_s=${NOTIFY_TIMEOUT_S}`,
  ];
}

/** What GET /api/status says of the channels and the outbox; null when the daemon did not answer. */
export interface ChannelView {
  states: Record<string, string>;
  pending: number;
  dead: number;
}

export async function channelView(run: SoakRun): Promise<ChannelView | null> {
  if (!run.up) return null;
  try {
    const a = await run.api.call((c, o) => c.status(o), 5000);
    if (a.kind !== 'ok') return null;
    const g = a.value.components.gateway.details;
    return {
      states: Object.fromEntries(g.channels.map((c) => [c.name, c.state])),
      pending: g.outbox.pending,
      dead: g.outbox.dead,
    };
  } catch {
    // Down or restarting (a kill): nothing to see this time.
    return null;
  }
}

/** Sleeps until `at`, the run's end or its abort; false when the run is over. */
export async function sleepUntil(run: SoakRun, at: number, loadEnd = Infinity): Promise<boolean> {
  const until = Math.min(at, loadEnd);
  while (!run.signal.aborted && Date.now() < until) {
    // At least 1 ms: `until` may be fractional, and the clock can tick past it between the check and here (Node
    // warned of a negative timeout once in a day).
    await sleep(Math.min(1000, Math.max(1, until - Date.now())), undefined, { signal: run.signal }).catch(
      () => undefined,
    );
  }
  return !run.signal.aborted && Date.now() >= at;
}
