import type { ChatNotice, JobNotice } from '@alter0/channels';
import type { JobRow, NoticeInput, Store } from '@alter0/store';
import { errorMessage } from '@alter0/core';
import type { Logger } from '@alter0/obs';

export interface AnnounceTargets {
  /** JSON receivers (notify.webhook_urls) and text receivers (notify.text_urls). */
  webhookUrls: readonly string[];
  /** Jobs from Telegram get their reply in their chat (when the channel is on). */
  telegram: boolean;
  /**
   * The owner's chats (telegram.allowed_chat_ids while the channel is on): the jobs a schedule started have no chat
   * of their own, so their end goes to each of these.
   */
  ownerChats: readonly string[];
}

const EXCERPT_CHARS = 280;
/** The safety net's pace: a job's end is normally announced right after its commit (`check`). */
const SCAN_EVERY_MS = 30_000;

/**
 * Turns the end of each job nobody waited for into notices in the outbox (durable: the notices and the job's
 * `notified_at` are one commit). Looks at a job when the bus says it changed, and scans for any it missed (a crash
 * between a job's end and its announcement) at start and every 30 s.
 */
export class Announcer {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly o: {
      store: Store;
      targets: AnnounceTargets;
      logger: Logger;
      now: () => number;
      /** Called after notices were queued: the dispatcher delivers them. */
      queued: () => void;
    },
  ) {}

  start(): void {
    this.scan();
    this.timer = setInterval(() => this.scan(), SCAN_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One job changed: announce it if it ended and someone should hear of it. */
  check(jobId: string): void {
    // Called from the bus, inside whoever changed the job: a read that fails must not fail them (the scan retries).
    let job;
    try {
      job = this.o.store.jobs.get(jobId);
    } catch (err) {
      this.o.logger.debug('could not read a changed job; the next scan announces it', { err: errorMessage(err) });
      return;
    }
    if (job && needsAnnouncing(job)) this.announce([job]);
  }

  scan(): void {
    try {
      this.announce(this.o.store.outbox.toAnnounce());
    } catch (err) {
      this.o.logger.warn('could not read the jobs to announce; trying again in 30 s', { err: errorMessage(err) });
    }
  }

  private announce(jobs: readonly JobRow[]): void {
    let any = false;
    for (const job of jobs) {
      try {
        any = this.o.store.outbox.announce(job.id, this.noticesFor(job), this.o.now()) || any;
      } catch (err) {
        // Left unannounced: the next scan tries again.
        this.o.logger
          .child({ job_id: job.id })
          .warn('could not queue the notices of a job', { err: errorMessage(err) });
      }
    }
    if (any) this.o.queued();
  }

  private noticesFor(job: JobRow): NoticeInput[] {
    const { store, targets } = this.o;
    const reply = job.replyMessageId === null ? null : (store.jobs.message(job.replyMessageId)?.content ?? '');
    const event: JobNotice['event'] =
      reply !== null ? 'job.succeeded' : job.state === 'canceled' ? 'job.canceled' : 'job.failed';
    const error = reply !== null ? null : failureText(job);
    const notice: JobNotice = {
      event,
      job_id: job.id,
      task_id: job.taskId,
      state: event.slice('job.'.length),
      reply_excerpt: reply === null ? null : excerpt(reply),
      error,
    };
    const out: NoticeInput[] = targets.webhookUrls.map((url) => ({
      dedupKey: `${job.id}:${event}:webhook:${url}`,
      channel: 'webhook',
      target: url,
      event,
      payload: notice,
    }));
    out.push(...this.chatNotices(job, event, reply, error));
    return out;
  }

  /** Its chat's notice for a job from Telegram; one per owner chat for a job a schedule started. */
  private chatNotices(
    job: JobRow,
    event: JobNotice['event'],
    reply: string | null,
    error: string | null,
  ): NoticeInput[] {
    const { targets } = this.o;
    const text = reply ?? chatFailure(job, error ?? '');
    if (targets.telegram && job.channelId === 'telegram' && job.sessionId !== null) {
      const chat: ChatNotice = { job_id: job.id, text, reply_to: this.ownerMessage(job) };
      return [
        {
          dedupKey: `${job.id}:${event}:telegram:${job.sessionId}`,
          channel: 'telegram',
          target: job.sessionId,
          event,
          payload: chat,
        },
      ];
    }
    if (job.channelId !== 'schedule') return [];
    // Says which schedule spoke: the owner did not just ask for this.
    const schedule = job.sessionId === null ? undefined : this.o.store.schedules.get(job.sessionId);
    const head = `⏰ ${schedule ? clip(schedule.text, 80) : 'a schedule'} (${job.sessionId ?? 'removed'})`;
    return targets.ownerChats.map((chatId) => ({
      dedupKey: `${job.id}:${event}:telegram:${chatId}`,
      channel: 'telegram',
      target: chatId,
      event,
      payload: { job_id: job.id, text: `${head}\n\n${text}`, reply_to: null } satisfies ChatNotice,
    }));
  }

  /** The owner's chat message this job (or the job it retries) came from. */
  private ownerMessage(job: JobRow): number | null {
    let cur: JobRow | undefined = job;
    for (let hops = 0; cur && hops < 10; hops++) {
      const ref = this.o.store.channels.firstRefOf('telegram', cur.id);
      if (ref) return ref.messageId;
      cur = cur.retryOf ? this.o.store.jobs.get(cur.retryOf) : undefined;
    }
    return null;
  }
}

/** Ended (answered, failed or canceled), someone should hear of it, and not announced yet. */
function needsAnnouncing(job: JobRow): boolean {
  if (!job.notify || job.notifiedAt !== null) return false;
  return job.replyMessageId !== null || job.state === 'succeeded' || job.state === 'failed' || job.state === 'canceled';
}

function clip(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

function failureText(job: JobRow): string {
  if (job.state === 'canceled') return job.errorMessage ?? 'canceled';
  const cls = job.errorClass ? `${job.errorClass}: ` : '';
  return `${cls}${job.errorMessage ?? 'failed without an error message'}`;
}

function chatFailure(job: JobRow, error: string): string {
  if (job.state === 'canceled') return `Canceled (job ${job.id}).`;
  return `That failed (job ${job.id}): ${error}\n\nReply /retry to this message to run it again.`;
}

function excerpt(text: string): string {
  const t = text.trim();
  return t.length <= EXCERPT_CHARS ? t : `${t.slice(0, EXCERPT_CHARS - 1)}…`;
}
