import type { ViolationKind } from '../result.js';
import type { ChannelsDb, DbJob } from './channels-db.js';
import { announceable } from './channels-db.js';

/** One update the harness queued at the fake Bot API (an owner's message, or a stranger's). */
export interface SentUpdate {
  chat: number;
  msg: number;
  updateId: number;
  /** The soak plan key in its text. */
  key: string;
  stranger: boolean;
  at: number;
  /** What the checks made of it so far. */
  verdict: 'pending' | 'stored' | 'not_taken' | 'lost';
  job: string | null;
  /** Answers seen in its chat (replies to it), once its job ended. */
  replies: number;
}

/** A message the bot sent, as the fake recorded it. */
export interface BotMessage {
  chatId: number;
  messageId: number;
  replyTo?: number;
  plainText: string;
}

export interface Finding {
  kind: ViolationKind;
  detail: string;
}

/** What the daemon answers, in the chat, to a message it refuses to take (queue full, a vanished task). */
const NOT_TAKEN = 'Not taken';

/** The bot messages answering `msg` in `chat` (the reply, or a "Not taken" refusal). */
function answersTo(sent: readonly BotMessage[], msg: number): BotMessage[] {
  return sent.filter((m) => m.replyTo === msg);
}

/**
 * Every owner update the daemon acknowledged (its getUpdates offset went past it, `confirmed`) must be in the
 * database: a reference (chat, message) to a job whose message carries the update's plan key — or the daemon told the
 * owner it did not take it. Decides each acknowledged pending update once; returns one finding per lost update.
 */
export function checkAcknowledged(
  updates: readonly SentUpdate[],
  confirmed: number,
  db: ChannelsDb,
  sentIn: (chat: number) => readonly BotMessage[],
): { checked: number; findings: Finding[] } {
  const refs = new Map(db.refs.map((r) => [`${r.chat}:${r.msg}`, r.job]));
  const jobs = new Map(db.jobs.map((j) => [j.id, j]));
  const findings: Finding[] = [];
  let checked = 0;
  for (const u of updates) {
    if (u.stranger || u.verdict !== 'pending' || u.updateId >= confirmed) continue;
    checked++;
    const jobId = refs.get(`${u.chat}:${u.msg}`);
    const job = jobId === undefined ? undefined : jobs.get(jobId);
    if (job?.head?.includes(`k=${u.key} `)) {
      u.verdict = 'stored';
      u.job = job.id;
    } else if (answersTo(sentIn(u.chat), u.msg).some((m) => m.plainText.startsWith(NOT_TAKEN))) {
      u.verdict = 'not_taken';
    } else {
      u.verdict = 'lost';
      findings.push({
        kind: 'telegram_message_lost',
        detail: `Telegram update ${u.updateId} (chat ${u.chat}, message ${u.msg}, plan ${u.key}) was acknowledged (offset ${confirmed}) but ${jobId === undefined ? 'no job references it' : `its reference names job ${jobId}, which is not that message`} and the chat got no "Not taken" answer`,
      });
    }
  }
  return { checked, findings };
}

/**
 * Every stored owner update whose job ended must have been answered in its chat at least once (the reply or the
 * failure, replying to the owner's message). Returns the ones still unanswered; counts answers on each update.
 */
export function unanswered(
  updates: readonly SentUpdate[],
  db: ChannelsDb,
  sentIn: (chat: number) => readonly BotMessage[],
): { due: number; missing: SentUpdate[]; unfinished: number } {
  const jobs = new Map(db.jobs.map((j) => [j.id, j]));
  const missing: SentUpdate[] = [];
  let due = 0;
  let unfinished = 0;
  for (const u of updates) {
    if (u.verdict !== 'stored' || u.job === null) continue;
    const job = jobs.get(u.job);
    if (job === undefined || !announceable(job)) {
      unfinished++;
      continue;
    }
    due++;
    u.replies = answersTo(sentIn(u.chat), u.msg).length;
    if (u.replies === 0) missing.push(u);
  }
  return { due, missing, unfinished };
}

/** A stranger (a chat not on the allowlist) must never get an answer, and nothing of theirs may become a job. */
export function checkStrangers(
  strangers: readonly number[],
  db: ChannelsDb | null,
  sentIn: (chat: number) => readonly BotMessage[],
): Finding[] {
  const findings: Finding[] = [];
  for (const chat of strangers) {
    const said = sentIn(chat);
    if (said.length > 0)
      findings.push({
        kind: 'hostile_outcome',
        detail: `the bot sent ${said.length} message(s) to chat ${chat}, which is not on telegram.allowed_chat_ids (first: ${JSON.stringify(said[0]?.plainText.slice(0, 80))})`,
      });
    const jobs = db?.jobs.filter((j) => j.channel === 'telegram' && j.session === String(chat)) ?? [];
    if (jobs.length > 0)
      findings.push({
        kind: 'hostile_outcome',
        detail: `chat ${chat} is not on telegram.allowed_chat_ids, yet ${jobs.length} job(s) came from it (${jobs
          .slice(0, 5)
          .map((j) => j.id)
          .join(', ')})`,
      });
  }
  return findings;
}

/** Each update is taken once: no two original (non-retry) Telegram jobs carry the same plan key. */
export function checkTakenOnce(
  updates: readonly SentUpdate[],
  db: ChannelsDb,
): { checked: number; findings: Finding[] } {
  const byKey = new Map<string, DbJob[]>();
  const keyOf = /\[soak k=([a-z0-9-]+) /;
  for (const j of db.jobs) {
    if (j.channel !== 'telegram' || j.retryOf !== null || j.head === null) continue;
    const key = keyOf.exec(j.head)?.[1];
    if (key !== undefined) byKey.set(key, [...(byKey.get(key) ?? []), j]);
  }
  const findings: Finding[] = [];
  let checked = 0;
  for (const u of updates) {
    if (u.verdict !== 'stored') continue;
    checked++;
    const jobs = byKey.get(u.key) ?? [];
    if (jobs.length > 1)
      findings.push({
        kind: 'reexecuted',
        detail: `Telegram update ${u.updateId} (chat ${u.chat}, message ${u.msg}) was taken ${jobs.length} times: jobs ${jobs.map((j) => j.id).join(', ')}`,
      });
  }
  return { checked, findings };
}
