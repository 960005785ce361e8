import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TelegramFake } from '@alter0/fakes';
import type { SoakRun } from '../run-state.js';
import { violate } from '../run-state.js';
import type { MomentRecord } from './feature.js';
import { LoopbackServer } from './loopback.js';
import { CHANNEL_RETRY, channelView } from './outages.js';
import type { OutageWindow } from './outages.js';
import type { SentUpdate } from './telegram-checks.js';

/** refuse: nothing listens (ECONNREFUSED); error: every Bot API call answers 502 Bad Gateway. */
export type TelegramOutageKind = 'refuse' | 'error';

/** After the outage: the channel restarts within its backoff (retry_max), then its next long poll takes the backlog. */
const RECOVERY_MS = CHANNEL_RETRY.maxMs + 45_000;
/** Polls seen during the outage before "it never showed degraded" is judged (a kill may hide a short outage). */
const MIN_POLLS = 3;

interface Seen {
  upPolls: number;
  degraded: boolean;
  okAt: number | null;
  ackedAt: number | null;
}

/** Takes the fake Bot API off the network for the window, watches the channel, brings it back, judges it. */
export async function telegramOutage(
  run: SoakRun,
  fake: TelegramFake,
  o: { name: string; kind: TelegramOutageKind; window: OutageWindow; loadEnd: number },
  sentDuring: () => SentUpdate[],
): Promise<MomentRecord> {
  const startedAt = Date.now();
  const offsetBefore = fake.confirmedOffset();
  const during: Seen = { upPolls: 0, degraded: false, okAt: null, ackedAt: null };
  await fake.down();
  let gate: LoopbackServer | null = null;
  try {
    // 502 on the same port: the daemon's connections reach a "proxy" that says Telegram is unavailable.
    if (o.kind === 'error') gate = await LoopbackServer.start(badGateway, fake.port);
    await watch(run, o.window.to, during, null);
  } finally {
    await gate?.down();
    await fake.up();
  }
  const backAt = Date.now();
  const ackedDuring = fake.confirmedOffset() - offsetBefore;
  const last = Math.max(0, ...sentDuring().map((u) => u.updateId));
  const after: Seen = { upPolls: 0, degraded: false, okAt: null, ackedAt: null };
  const bound = Math.min(backAt + RECOVERY_MS, o.loadEnd);
  await watch(run, bound, after, () => (last === 0 || fake.confirmedOffset() > last ? Date.now() : null));
  const judged = bound === backAt + RECOVERY_MS;
  const observed: TelegramOutageObserved = {
    kind: o.kind,
    duration_ms: backAt - startedAt,
    updates_during: sentDuring().length,
    acknowledged_during: ackedDuring > 0 ? ackedDuring : 0,
    polls_during: during.upPolls,
    degraded_seen: during.degraded,
    ok_again_after_ms: after.okAt === null ? -1 : after.okAt - backAt,
    backlog_taken_after_ms: after.ackedAt === null ? -1 : after.ackedAt - backAt,
  };
  const failures = judgeTelegramOutage(observed, { judged, recoveryMs: RECOVERY_MS });
  run.result.checks.hostile_outcome += failures.checked;
  const dur = Math.round(observed.duration_ms / 1000);
  for (const f of failures.failed) violate(run, 'hostile_outcome', `${o.name} (${o.kind}, ${dur}s): ${f}`);
  const ok = failures.failed.length === 0;
  return { name: o.name, startedAt, endedAt: Date.now(), ok, observed: { ...observed } };
}

export interface TelegramOutageObserved {
  kind: TelegramOutageKind;
  duration_ms: number;
  updates_during: number;
  acknowledged_during: number;
  polls_during: number;
  degraded_seen: boolean;
  /** -1: not seen within the bound. */
  ok_again_after_ms: number;
  backlog_taken_after_ms: number;
}

/**
 * The expectations of a Telegram outage: the status showed the channel degraded (when the daemon answered often
 * enough to see it), nothing was taken while Telegram was unreachable, and after it came back the channel was ok again
 * and took the updates sent meanwhile, within the bound (judged only when the load left the whole bound).
 */
export function judgeTelegramOutage(
  ob: TelegramOutageObserved,
  o: { judged: boolean; recoveryMs: number },
): { checked: number; failed: string[] } {
  const failed: string[] = [];
  let checked = 1;
  if (ob.acknowledged_during > 0)
    failed.push(`${ob.acknowledged_during} update(s) were acknowledged while the Bot API was unreachable`);
  if (ob.polls_during >= MIN_POLLS) {
    checked++;
    if (!ob.degraded_seen)
      failed.push(`GET /api/status never showed the telegram channel degraded in ${ob.polls_during} polls`);
  }
  if (o.judged) {
    checked += 2;
    const s = o.recoveryMs / 1000;
    if (ob.ok_again_after_ms < 0) failed.push(`the telegram channel was not ok again within ${s}s`);
    if (ob.backlog_taken_after_ms < 0)
      failed.push(`the ${ob.updates_during} update(s) sent during the outage were not taken within ${s}s`);
  }
  return { checked, failed };
}

/** Every second until `until`: the channel's state, and (after the outage) whether the backlog was taken. */
async function watch(run: SoakRun, until: number, seen: Seen, acked: (() => number | null) | null): Promise<void> {
  while (!run.signal.aborted && Date.now() < until) {
    const v = await channelView(run);
    if (v !== null) {
      seen.upPolls++;
      const st = v.states.telegram;
      if (st === 'degraded' || st === 'down') seen.degraded = true;
      if (st === 'ok') seen.okAt ??= Date.now();
    }
    if (acked !== null) {
      seen.ackedAt ??= acked();
      if (seen.okAt !== null && seen.ackedAt !== null) return;
    }
    await sleep(1000, undefined, { signal: run.signal }).catch(() => undefined);
  }
}

function badGateway(_req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify({ ok: false, error_code: 502, description: 'Bad Gateway' });
  res.writeHead(502, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}
