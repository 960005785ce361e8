import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTelegramFake } from '@alter0/fakes';
import type { TelegramFake } from '@alter0/fakes';
import type { SoakRun } from '../run-state.js';
import { harnessError, violate } from '../run-state.js';
import { createRng } from '../rng.js';
import type { Rng } from '../rng.js';
import { drawPlan, messageText } from '../workload.js';
import type { SoakFeature } from './feature.js';
import { readChannelsDb } from './channels-db.js';
import type { ChannelsDb } from './channels-db.js';
import { NOTIFY_RETRY, outageWindows, retrySets, sleepUntil } from './outages.js';
import { telegramOutage } from './telegram-outage.js';
import type { TelegramOutageKind } from './telegram-outage.js';
import { checkAcknowledged, checkStrangers, checkTakenOnce, unanswered } from './telegram-checks.js';
import type { BotMessage, Finding, SentUpdate } from './telegram-checks.js';

export interface TelegramFeatureOptions {
  /** Mean wall time between two messages (uniform in 0.5–1.5 × this). Default 11 s. */
  meanEveryMs?: number;
  /** Share of messages written by a stranger (a chat not on the allowlist). Default 0.1. */
  strangerShare?: number;
  /** Share of owner messages sent as a reply to one of the bot's answers (continuing that task). Default 0.15. */
  replyShare?: number;
  /** The owner's chats (on the allowlist): a private chat and a group. */
  ownerChats?: readonly number[];
  strangerChat?: number;
  /** Where in the load (fractions of it) the Telegram outages start, and what each one is. */
  outageAt?: readonly number[];
  outageKinds?: readonly TelegramOutageKind[];
  /** How long final() waits for answers still in the outbox. Default 3 × notify.retry_max + 20 s. */
  finalWaitMs?: number;
  /** How often poll() reads the database to check acknowledged updates. Default 15 s. */
  checkEveryMs?: number;
  /** At most this many messages in a run. Default 5000. */
  maxMessages?: number;
}

/** The Telegram part of the day, and for the core: whether a Telegram job's answer reached its chat. */
export interface TelegramFeature extends SoakFeature {
  /** The fake Bot API (null before prepare or after close). */
  readonly fake: TelegramFake | null;
  /** The updates sent, with what the checks made of them. */
  readonly updates: readonly SentUpdate[];
  /** Whether the job that came from a Telegram message got its answer in the chat; null: not a job of ours. */
  answered(jobId: string): boolean | null;
}

const DEFAULTS: Required<TelegramFeatureOptions> = {
  meanEveryMs: 11_000,
  strangerShare: 0.1,
  replyShare: 0.15,
  ownerChats: [5_550_001, -5_550_002],
  strangerChat: 6_660_003,
  outageAt: [0.2, 0.5],
  outageKinds: ['refuse', 'error'],
  finalWaitMs: 3 * NOTIFY_RETRY.maxMs + 20_000,
  checkEveryMs: 15_000,
  maxMessages: 5000,
};

/** The most violations of one kind listed one by one from a single check; the rest are summed in one line. */
const MAX_LISTED = 20;

export function telegramFeature(options: TelegramFeatureOptions = {}): TelegramFeature {
  return new TelegramDay({ ...DEFAULTS, ...options });
}

class TelegramDay implements TelegramFeature {
  readonly name = 'telegram';
  fake: TelegramFake | null = null;
  readonly updates: SentUpdate[] = [];
  private rng: Rng | null = null;
  private seq = 0;
  private lastCheck = 0;
  private checking = false;
  private strangerReported = false;
  private readonly c = {
    updates_sent: 0,
    stranger_sent: 0,
    sent_as_reply: 0,
    acknowledged: 0,
    stored: 0,
    not_taken: 0,
    lost: 0,
    answered: 0,
    answer_duplicates: 0,
    unanswered: 0,
    unfinished_at_end: 0,
    outages: 0,
    outage_ms: 0,
  };

  constructor(private readonly o: Required<TelegramFeatureOptions>) {}

  async prepare(run: SoakRun): Promise<{ sets: string[]; env: Record<string, string> }> {
    run.result.features.telegram = this.c;
    // Its own stream: the core's plans and kill times stay those of the seed, whatever this feature draws.
    this.rng = createRng(run.opts.seed ^ 0x7e1e9a3);
    this.fake = await startTelegramFake();
    const tokenFile = path.join(run.work, 'telegram.token');
    fs.writeFileSync(tokenFile, `${this.fake.token}\n`, { mode: 0o600 });
    return {
      sets: [
        'telegram.enabled=true',
        `telegram.token_file=${tokenFile}`,
        `telegram.allowed_chat_ids=${JSON.stringify(this.o.ownerChats)}`,
        `telegram.api_url=${this.fake.url}`,
        ...retrySets(run.opts.durationMs),
      ],
      env: {},
    };
  }

  async load(run: SoakRun, loadEnd: number): Promise<void> {
    await Promise.all([this.traffic(run, loadEnd), this.outages(run, Date.now(), loadEnd)]);
  }

  private async traffic(run: SoakRun, loadEnd: number): Promise<void> {
    const rng = this.rng;
    if (rng === null) return;
    while (run.loadOn && !run.signal.aborted && this.seq < this.o.maxMessages) {
      const wait = this.o.meanEveryMs * (0.5 + rng.next());
      if (!(await sleepUntil(run, Date.now() + wait, loadEnd)) || !run.loadOn || Date.now() >= loadEnd) break;
      this.sendOne(run, rng);
    }
  }

  /** One message from an owner chat (sometimes replying to an answer of the bot) or from the stranger. */
  private sendOne(run: SoakRun, rng: Rng): void {
    const fake = this.fake;
    if (fake === null) return;
    const { opts } = run;
    const key = `tg${(this.seq++).toString(36)}-${opts.seed}`;
    const plan = drawPlan(
      rng,
      key,
      { faults: opts.faults, maxAttempts: opts.maxAttempts, jobTimeoutS: opts.jobTimeoutS, syncWaitMs: run.syncWaitMs },
      0,
    );
    const stranger = rng.chance(this.o.strangerShare);
    const chat = stranger ? this.o.strangerChat : (rng.pick(this.o.ownerChats) ?? this.o.strangerChat);
    // Continuing a task by replying to one of the bot's answers (the reply pins the task, reopening it if closed).
    const answers = stranger ? [] : fake.sent(chat).filter((m) => m.replyTo !== undefined);
    const replyTo = answers.length > 0 && rng.chance(this.o.replyShare) ? rng.pick(answers.slice(-10)) : undefined;
    if (!stranger) {
      // Counted like the core's plans: the report compares the faults planned with those the agent injected.
      if (plan.exec !== 'ok' && plan.exec !== 'long') run.result.faultsPlanned[plan.exec]++;
      if (plan.route === 'malformed') run.result.faultsPlanned.malformed_route++;
      if (plan.close === 'malformed') run.result.faultsPlanned.malformed_close++;
    }
    const text = messageText(rng, plan);
    const r = fake.sendUserMessage({ chatId: chat, text, ...(replyTo ? { replyTo: replyTo.messageId } : {}) });
    this.updates.push({
      chat,
      msg: r.messageId,
      updateId: r.updateId,
      key,
      stranger,
      at: Date.now(),
      verdict: 'pending',
      job: null,
      replies: 0,
    });
    if (stranger) this.c.stranger_sent++;
    else this.c.updates_sent++;
    if (replyTo) this.c.sent_as_reply++;
  }

  private async outages(run: SoakRun, start: number, loadEnd: number): Promise<void> {
    const fake = this.fake;
    if (fake === null) return;
    const windows = outageWindows(start, loadEnd, this.o.outageAt);
    for (const [i, w] of windows.entries()) {
      if (!(await sleepUntil(run, w.from, loadEnd))) return;
      const kind = this.o.outageKinds[i % this.o.outageKinds.length] ?? 'refuse';
      const rec = await telegramOutage(run, fake, { name: `telegram_outage_${i + 1}`, kind, window: w, loadEnd }, () =>
        this.updates.filter((u) => !u.stranger && u.at >= w.from && u.at <= w.to),
      );
      run.result.moments.push({ ...rec, peerOnly: true });
      this.c.outages++;
      this.c.outage_ms += Math.round(Number(rec.observed.duration_ms ?? 0));
    }
  }

  /** Cheap and continuous: no answer to the stranger; acknowledged updates are in the database (every 15 s). */
  async poll(run: SoakRun): Promise<void> {
    this.strangers(run, null);
    if (this.checking || Date.now() - this.lastCheck < this.o.checkEveryMs) return;
    this.checking = true;
    this.lastCheck = Date.now();
    try {
      await this.checkStored(run);
    } catch (err) {
      if (!run.signal.aborted) harnessError(run, 'telegram: database check', err);
    } finally {
      this.checking = false;
    }
  }

  /** The acknowledged updates not decided yet, against one read of the database taken after the offset was read. */
  private async checkStored(run: SoakRun): Promise<ChannelsDb | null> {
    const fake = this.fake;
    if (fake === null) return null;
    // The offset first: whatever it acknowledges was committed before the read below starts.
    const confirmed = fake.confirmedOffset();
    const db = await readChannelsDb(run.dbFile, true, run.signal);
    const r = checkAcknowledged(this.updates, confirmed, db, (chat) => this.sentIn(chat));
    run.result.checks.telegram_message_lost += r.checked;
    this.report(run, r.findings);
    this.count();
    return db;
  }

  private sentIn(chat: number): BotMessage[] {
    return this.fake?.sent(chat) ?? [];
  }

  private strangers(run: SoakRun, db: ChannelsDb | null): void {
    if (this.strangerReported && db === null) return;
    const findings = checkStrangers([this.o.strangerChat], db, (chat) => this.sentIn(chat));
    if (db !== null) run.result.checks.hostile_outcome++;
    if (findings.length > 0) this.strangerReported = true;
    this.report(run, findings);
  }

  private report(run: SoakRun, findings: readonly Finding[]): void {
    for (const f of findings.slice(0, MAX_LISTED)) violate(run, f.kind, f.detail);
    if (findings.length > MAX_LISTED)
      violate(run, findings[MAX_LISTED]?.kind ?? 'telegram_message_lost', `… and ${findings.length - MAX_LISTED} more`);
  }

  private count(): void {
    const owner = this.updates.filter((u) => !u.stranger);
    this.c.acknowledged = owner.filter((u) => u.verdict !== 'pending').length;
    this.c.stored = owner.filter((u) => u.verdict === 'stored').length;
    this.c.not_taken = owner.filter((u) => u.verdict === 'not_taken').length;
    this.c.lost = owner.filter((u) => u.verdict === 'lost').length;
  }

  async final(run: SoakRun): Promise<void> {
    const deadline = Date.now() + this.o.finalWaitMs;
    let db: ChannelsDb | null = null;
    let missing: SentUpdate[] = [];
    // Bounded wait: updates still at Telegram are taken and answers still in the outbox go out (at least once).
    for (;;) {
      try {
        db = await this.checkStored(run);
      } catch (err) {
        if (run.signal.aborted) return;
        harnessError(run, 'telegram: final database check', err);
      }
      const pending = this.updates.filter((u) => !u.stranger && u.verdict === 'pending');
      missing = db === null ? [] : unanswered(this.updates, db, (chat) => this.sentIn(chat)).missing;
      if ((db !== null && pending.length === 0 && missing.length === 0) || Date.now() >= deadline) break;
      await sleep(2000, undefined, { signal: run.signal }).catch(() => undefined);
      if (run.signal.aborted) return;
    }
    if (db !== null) this.finalFindings(run, db, missing);
  }

  private finalFindings(run: SoakRun, db: ChannelsDb, missing: readonly SentUpdate[]): void {
    const waitS = Math.round(this.o.finalWaitMs / 1000);
    const pending = this.updates.filter((u) => !u.stranger && u.verdict === 'pending');
    this.report(
      run,
      pending.map((u) => ({
        kind: 'telegram_message_lost',
        detail: `Telegram update ${u.updateId} (chat ${u.chat}, plan ${u.key}) was never taken: the daemon had not acknowledged it ${waitS}s after the drain (offset ${this.fake?.confirmedOffset() ?? '?'})`,
      })),
    );
    const r = unanswered(this.updates, db, (chat) => this.sentIn(chat));
    run.result.checks.notification_lost += r.due;
    this.report(
      run,
      missing.map((u) => ({
        kind: 'notification_lost',
        detail: `job ${u.job ?? '?'} from Telegram (chat ${u.chat}, message ${u.msg}) ended but its chat got no answer within ${waitS}s after the drain`,
      })),
    );
    const once = checkTakenOnce(this.updates, db);
    run.result.checks.reexecuted += once.checked;
    this.report(run, once.findings);
    this.strangers(run, db);
    const stored = this.updates.filter((u) => u.verdict === 'stored');
    this.c.answered = stored.filter((u) => u.replies > 0).length;
    this.c.answer_duplicates = stored.reduce((n, u) => n + Math.max(0, u.replies - 1), 0);
    this.c.unanswered = missing.length;
    this.c.unfinished_at_end = r.unfinished;
    this.count();
  }

  answered(jobId: string): boolean | null {
    const u = this.updates.find((x) => x.job === jobId);
    if (u === undefined || this.fake === null) return null;
    return this.sentIn(u.chat).some((m) => m.replyTo === u.msg);
  }

  async close(): Promise<void> {
    await this.fake?.close();
    this.fake = null;
  }
}
