import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, tempDir } from './harness.js';
import {
  DaemonProcess,
  checkAcknowledged,
  checkStrangers,
  checkTakenOnce,
  judgeTelegramOutage,
  judgeWebhookOutage,
  parseOptions,
  prepareRun,
  readChannelsDb,
  telegramFeature,
  unanswered,
  undelivered,
  unmarked,
  webhooksFeature,
} from '@alter0/soak';
import type {
  ChannelsDb,
  SentUpdate,
  SoakRun,
  TelegramFeature,
  TelegramOutageObserved,
  WebhookOutageObserved,
  WebhooksFeature,
} from '@alter0/soak';

// The day profile's channels (tooling/soak/src/day/telegram.ts, webhooks.ts) against the real `alter0 serve`: a
// short load of Telegram messages (owner chats and a stranger) with an outage of the fake Bot API and of the webhook
// receivers and three kill -9s, every invariant holding; then each check fed a broken observation, or a misbehaving
// "bot" (an update acknowledged and never stored, a message to the stranger), and seen to fail.

const AGENT = fileURLToPath(new URL('../../../tooling/soak/dist/agent.js', import.meta.url));
const STRANGER = 6_660_003;
const LOAD_MS = 28_000;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function newRun(controller: AbortController, lines: string[]): SoakRun {
  const dir = tempDir('alter0-soak-ch-');
  dirs.push(dir);
  const faults = 'slow=0,hang=0,rate_limited=0,unavailable=0.05,auth=0.15,malformed_route=0,malformed_close=0';
  const argv = ['--duration', `${LOAD_MS / 1000}s`, '--out', path.join(dir, 'r.md'), '--seed', '11'];
  argv.push('--job-timeout', '5s', '--long', '1s', '--faults', faults, '--kill-every', '0');
  const run = prepareRun(parseOptions(argv, BIN), { agent: AGENT }, controller.signal, (l) => lines.push(l));
  dirs.push(run.work);
  return run;
}

/** kill -9 and a new generation on the same data, as the storm does. */
async function kill9(run: SoakRun, features: readonly (TelegramFeature | WebhooksFeature)[]): Promise<void> {
  const d = run.daemon;
  if (!d) return;
  run.up = false;
  d.kill9();
  await d.exited;
  run.gen++;
  run.daemon = await DaemonProcess.start(run.spec, run.gen, run.signal);
  run.up = true;
  for (const f of features) await f.afterRestart?.(run);
}

/** Some async jobs of the API as well (announced to the webhooks). */
async function apiJob(run: SoakRun, n: number): Promise<void> {
  if (!run.up) return;
  const content = `[soak k=api${n}-11 exec=ok route=ok close=no] a job nobody waits for`;
  await run.api.call((c, o) => c.submitJob({ content, channel_id: 'soak', lane: 'background' }, o)).catch(() => null);
}

async function drain(run: SoakRun): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const a = await run.api.call((c, o) => c.status(o)).catch(() => null);
    const s = a?.kind === 'ok' ? a.value.components.queue.details.jobs_by_state : null;
    if (s !== null && s.queued + s.running === 0) return;
    await sleep(1000);
  }
}

describe('the day profile: Telegram and webhooks under outages and kill -9', () => {
  it('holds every channel invariant, and each check fails on a broken observation or a misbehaving bot', async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const run = newRun(controller, lines);
    const tg = telegramFeature({
      meanEveryMs: 1200,
      strangerShare: 0.15,
      replyShare: 0.3,
      outageAt: [0.05],
      checkEveryMs: 3000,
      finalWaitMs: 40_000,
    });
    const wh = webhooksFeature({ outageAt: [0.3], outageModes: [['error', 'timeout']], finalWaitMs: 40_000 });
    const features = [tg, wh];
    try {
      for (const f of features) {
        const p = await f.prepare(run);
        run.spec.sets.push(...p.sets);
        Object.assign(run.spec.env, p.env);
      }
      run.daemon = await DaemonProcess.start(run.spec, run.gen, run.signal);
      run.up = true;
      const loadEnd = Date.now() + LOAD_MS;
      const loads = Promise.all(features.map((f) => f.load?.(run, loadEnd) ?? Promise.resolve()));
      let n = 0;
      const kills = [6_000, 15_000, 23_000].map((t) => Date.now() + t);
      while (Date.now() < loadEnd) {
        await sleep(1000);
        if (n % 2 === 0) await apiJob(run, n);
        n++;
        if (kills[0] !== undefined && Date.now() >= kills[0]) {
          kills.shift();
          await kill9(run, features);
        }
        for (const f of features) await f.poll?.(run);
      }
      await loads;
      await drain(run);
      for (const f of features) await f.final?.(run);

      const t = run.result.features.telegram ?? {};
      const w = run.result.features.webhooks ?? {};
      expect(run.result.violations, lines.slice(-20).join('\n')).toEqual([]);
      expect(run.result.harnessErrors).toEqual([]);
      expect(t.updates_sent).toBeGreaterThan(8);
      expect(t.stranger_sent).toBeGreaterThan(0);
      expect(t.stored).toBe(t.updates_sent);
      expect(t.answered).toBe(t.stored);
      expect(t.outages).toBe(1);
      expect(w.outages).toBe(1);
      expect(w.delivered).toBeGreaterThan(8);
      expect(w.failed_posts).toBeGreaterThan(0);
      expect(w.undelivered).toBe(0);
      expect(run.result.checks.telegram_message_lost).toBe(t.stored);
      expect(run.result.checks.notification_lost).toBeGreaterThan(0);
      const moments = run.result.moments;
      expect(moments.map((m) => m.name).sort()).toEqual(['telegram_outage_1', 'webhook_outage_1']);
      expect(moments.every((m) => m.ok)).toBe(true);
      const tgMoment = moments.find((m) => m.name === 'telegram_outage_1');
      expect(tgMoment?.observed.degraded_seen).toBe(true);
      expect(Number(tgMoment?.observed.backlog_taken_after_ms)).toBeGreaterThanOrEqual(0);
      const job = tg.updates.find((u) => u.job !== null)?.job ?? '';
      expect(tg.answered(job)).toBe(true);
      expect(wh.delivered(job)).toBe(true);

      await brokenChecks(run, tg, wh);
    } finally {
      controller.abort();
      run.daemon?.kill9();
      await run.daemon?.exited;
      for (const f of features) await f.close();
    }
  });

  it('judges outages: each expectation can fail', () => {
    const good: TelegramOutageObserved = {
      kind: 'refuse',
      duration_ms: 10_000,
      updates_during: 4,
      acknowledged_during: 0,
      polls_during: 9,
      degraded_seen: true,
      ok_again_after_ms: 1200,
      backlog_taken_after_ms: 1300,
    };
    const o = { judged: true, recoveryMs: 60_000 };
    expect(judgeTelegramOutage(good, o).failed).toEqual([]);
    expect(judgeTelegramOutage({ ...good, degraded_seen: false }, o).failed).toEqual([
      expect.stringMatching(/never showed the telegram channel degraded/),
    ]);
    expect(judgeTelegramOutage({ ...good, acknowledged_during: 2 }, o).failed).toEqual([
      expect.stringMatching(/acknowledged while the Bot API was unreachable/),
    ]);
    expect(judgeTelegramOutage({ ...good, ok_again_after_ms: -1 }, o).failed).toEqual([
      expect.stringMatching(/not ok again/),
    ]);
    expect(judgeTelegramOutage({ ...good, backlog_taken_after_ms: -1 }, o).failed).toEqual([
      expect.stringMatching(/were not taken/),
    ]);
    // A short outage hidden by a kill, or a bound cut by the end of the load, is not judged on what it could not see.
    expect(judgeTelegramOutage({ ...good, polls_during: 1, degraded_seen: false }, o).failed).toEqual([]);
    expect(judgeTelegramOutage({ ...good, ok_again_after_ms: -1 }, { ...o, judged: false }).failed).toEqual([]);
    const wgood: WebhookOutageObserved = {
      modes: 'error,timeout',
      duration_ms: 10_000,
      failed_posts_during: 6,
      delivered_to_healthy_during: 0,
      degraded_seen: true,
      pending_max: 3,
      resumed_after_ms: 900,
    };
    const wo = { backlog: true, judged: true, downed: ['r1', 'r2'], recoveryMs: 53_000 };
    expect(judgeWebhookOutage(wgood, wo).failed).toEqual([]);
    expect(judgeWebhookOutage({ ...wgood, resumed_after_ms: -1 }, wo).failed).toEqual([
      expect.stringMatching(/deliveries to r1, r2 did not resume/),
    ]);
  });
});

/** After the good run: each invariant check fails when the daemon (or what the harness saw) breaks it. */
async function brokenChecks(run: SoakRun, tg: TelegramFeature, wh: WebhooksFeature): Promise<void> {
  const fake = tg.fake;
  if (!fake) throw new Error('no fake');
  await run.daemon?.stop(10_000);
  run.up = false;
  const db = await readChannelsDb(run.dbFile, false, run.signal);
  const sentIn = (chat: number) => fake.sent(chat);
  const copy = (): SentUpdate[] => tg.updates.map((u) => ({ ...u }));

  // A bot that acknowledges an owner's update (getUpdates past it) and never stores it: telegram_message_lost.
  const r = fake.sendUserMessage({ chatId: 5_550_001, text: '[soak k=lost1-11 exec=ok route=ok close=no] lost' });
  const ack = await fetch(`${fake.url}/bot${fake.token}/getUpdates?offset=${r.updateId + 1}&timeout=0`);
  expect(ack.status).toBe(200);
  const lost: SentUpdate = {
    chat: 5_550_001,
    msg: r.messageId,
    updateId: r.updateId,
    key: 'lost1-11',
    stranger: false,
    at: Date.now(),
    verdict: 'pending',
    job: null,
    replies: 0,
  };
  const acked = checkAcknowledged([...copy(), lost], fake.confirmedOffset(), db, sentIn);
  expect(acked.findings.map((f) => f.kind)).toEqual(['telegram_message_lost']);
  expect(acked.findings[0]?.detail).toContain(`update ${r.updateId}`);

  // A reply the harness did not see (its chat's record without it): notification_lost on that job.
  const answeredOne = copy().find((u) => u.verdict === 'stored' && u.job !== null);
  if (!answeredOne) throw new Error('no stored update');
  const hide = (chat: number) => sentIn(chat).filter((m) => chat !== answeredOne.chat || m.replyTo !== answeredOne.msg);
  const dropped = unanswered(copy(), db, hide);
  expect(dropped.missing.map((u) => u.job)).toEqual([answeredOne.job]);

  // A receiver whose bookkeeping dropped a delivery: notification_lost for that job and receiver only.
  const r1 = wh.receivers[0];
  if (!r1 || !answeredOne.job) throw new Error('no receiver');
  const gone = answeredOne.job;
  const lossy = { name: r1.name, count: (id: string) => (id === gone ? 0 : r1.count(id)) };
  expect(undelivered(db, [lossy]).missing).toEqual([{ job: gone, receiver: r1.name }]);

  // A background job the daemon forgot to mark for announcing.
  const bg = db.jobs.find((j) => j.lane === 'background');
  if (!bg) throw new Error('no background job');
  const unmarkedDb: ChannelsDb = { ...db, jobs: db.jobs.map((j) => (j.id === bg.id ? { ...j, notify: 0 } : j)) };
  expect(unmarked(unmarkedDb).findings.map((f) => f.detail)).toEqual([expect.stringContaining(bg.id)]);

  // An update taken twice (a second original job with the same plan key).
  const twin = db.jobs.find((j) => j.id === answeredOne.job);
  if (!twin) throw new Error('no job');
  const twice: ChannelsDb = { ...db, jobs: [...db.jobs, { ...twin, id: 'j_twin' }] };
  expect(checkTakenOnce(copy(), twice).findings.map((f) => f.kind)).toEqual(['reexecuted']);
  expect(checkTakenOnce(copy(), db).findings).toEqual([]);

  // The stranger: a job from their chat, and (through the feature's own poll) a message the bot sent them.
  const strangerJob: ChannelsDb = { ...db, jobs: [...db.jobs, { ...twin, id: 'j_str', session: String(STRANGER) }] };
  expect(checkStrangers([STRANGER], strangerJob, sentIn).map((f) => f.detail)).toEqual([
    expect.stringContaining('j_str'),
  ]);
  expect(checkStrangers([STRANGER], db, sentIn)).toEqual([]);
  await fetch(`${fake.url}/bot${fake.token}/sendMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chat_id: STRANGER, text: 'hello stranger' }),
  });
  await tg.poll?.(run);
  expect(run.result.violations.map((v) => v.kind)).toEqual(['hostile_outcome']);
  expect(run.result.violations[0]?.detail).toContain(`chat ${STRANGER}`);
}
