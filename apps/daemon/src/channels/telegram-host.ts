import type { AcceptAnswer, IncomingText, TelegramHost } from '@alter0/channels';
import type { StatusDocument } from '@alter0/api';
import { LimitError, NotFoundError } from '@alter0/core';
import type { Store } from '@alter0/store';
import type { Logger } from '@alter0/obs';
import type { Approvals } from '../approvals/service.js';
import type { Intake } from '../intake.js';
import type { JobActionDeps } from '../job-actions.js';
import { cancelJob, retryJob } from '../job-actions.js';
import { decideFromTelegram } from './telegram-approvals.js';

export interface TelegramHostDeps extends JobActionDeps {
  store: Store;
  intake: Intake;
  logger: Logger;
  defaults: { timeoutS: number; maxAttempts: number; queueDepth: number };
  closeTask(taskId: string, reason: string): void;
  status(): Promise<StatusDocument>;
  /** The owner's answers to approvals: a press of a button decides by 'telegram'. */
  approvals: Pick<Approvals, 'decide'>;
  /** A chat not on the allowlist wrote: recorded as an event. */
  refused(chatId: number, from: string): void;
}

const CHANNEL = 'telegram';

/** The daemon as the Telegram channel sees it: the same intake, rules and answers as the API's. */
export function telegramHost(d: TelegramHostDeps): TelegramHost {
  const { store } = d;
  const log = d.logger.child({ component: 'gateway', channel_id: CHANNEL });
  return {
    cursor: () => {
      const v = store.channels.cursor(CHANNEL);
      return v === null ? null : Number(v);
    },
    commitCursor: (offset) => store.transaction(() => store.channels.setCursor(CHANNEL, String(offset), d.now())),
    accept: (m) => accept(d, m),
    jobOf: (chatId, messageId) => {
      const jobId = store.channels.jobOf(CHANNEL, String(chatId), messageId);
      const job = jobId === null ? undefined : store.jobs.get(jobId);
      return job ? { jobId: job.id, taskId: job.taskId } : null;
    },
    recordSent: (chatId, messageId, jobId) =>
      store.relaxed(() =>
        store.channels.addRef({ channel: CHANNEL, chatId: String(chatId), messageId, jobId, now: d.now() }),
      ),
    busyChats: () =>
      store.jobs
        .list({ state: 'running', limit: 200 })
        .filter((j) => j.channelId === CHANNEL && j.sessionId !== null)
        .map((j) => Number(j.sessionId)),
    tasksText: () => tasksText(store),
    statusText: async () => statusText(await d.status()),
    closeTask: (taskId, reason) => {
      d.closeTask(taskId, reason);
      const t = store.tasks.mustGet(taskId);
      return Promise.resolve(`Closed task ${t.id}: ${t.title}`);
    },
    cancelJob: (jobId) => {
      const job = cancelJob(d, jobId);
      return job.state === 'canceled' ? `Canceled job ${job.id}.` : `Canceling job ${job.id}: it stops shortly.`;
    },
    retryJob: (jobId) => {
      const r = retryJob(d, jobId);
      return r.created
        ? `Running it again as job ${r.job.id}.`
        : `It was retried already, as job ${r.job.id} (${r.job.state}).`;
    },
    decideApproval: (id, action) => decideFromTelegram(d, id, action),
    refused: (chatId, from) => d.refused(chatId, from),
    log: (level, message, meta) => log[level](message, meta),
  };
}

/** Accepts a chat message: the message, its job and the update offset in one commit (the intake's group commit). */
async function accept(d: TelegramHostDeps, m: IncomingText): Promise<AcceptAnswer> {
  try {
    const { job } = await d.intake.accept({
      content: m.text,
      channelId: CHANNEL,
      userId: String(m.userId),
      sessionId: String(m.chatId),
      taskId: m.taskId,
      lane: 'interactive',
      maxAttempts: d.defaults.maxAttempts,
      timeoutS: d.defaults.timeoutS,
      now: d.now(),
      maxQueued: d.defaults.queueDepth,
      notify: true,
      routeHint: m.newTask ? 'new' : null,
      cursor: { channel: CHANNEL, value: String(m.offset) },
      ref: { chatId: String(m.chatId), messageId: m.messageId },
    });
    return { ok: true, jobId: job.id };
  } catch (err) {
    // Refused on its own (nothing of it was written): told to the owner. Anything else is the database failing.
    if (err instanceof LimitError) return { ok: false, message: `Not taken: ${err.message}` };
    if (err instanceof NotFoundError) {
      return { ok: false, message: `Not taken: ${err.message} any more. Send it without replying to start anew.` };
    }
    throw err;
  }
}

function tasksText(store: Store): string {
  const open = store.tasks.list({ state: 'open', limit: 10 });
  if (open.length === 0) return 'No open tasks.';
  const lines = open.map((t) => `• ${t.title} (${t.id})`);
  const total = store.tasks.countByState().open;
  return [
    `Open tasks (${total}):`,
    ...lines,
    ...(total > open.length ? [`… and ${total - open.length} more`] : []),
  ].join('\n');
}

function statusText(s: StatusDocument): string {
  const q = s.components.queue.details;
  const lines = [
    `alter0 ${s.version}: ${s.state}`,
    `queued: ${q.depth.interactive + q.depth.background}, running: ${q.running}`,
  ];
  for (const [name, c] of Object.entries(s.components)) {
    if (c.state !== 'ok') lines.push(`${name}: ${c.state}${c.last_error ? ` — ${c.last_error.message}` : ''}`);
  }
  for (const ch of s.components.gateway.details.channels) lines.push(`channel ${ch.name}: ${ch.state}`);
  return lines.join('\n');
}
