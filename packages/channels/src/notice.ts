/** The end of a job, as the outbox carries it to a chat or a webhook. */
export interface JobNotice {
  event: 'job.succeeded' | 'job.failed' | 'job.canceled';
  job_id: string;
  task_id: string | null;
  state: string;
  /** The reply's first characters (webhooks); null when the job did not answer. */
  reply_excerpt: string | null;
  /** What failed and what to do; null when it answered. */
  error: string | null;
}

/** What the Telegram channel sends for a job: the whole reply (or the failure), answering the owner's message. */
export interface ChatNotice {
  job_id: string;
  text: string;
  /** The owner's message it answers, in the chat; null when unknown. */
  reply_to: number | null;
}

/** One notice due for delivery, as the dispatcher hands it to a channel. */
export interface Delivery {
  id: string;
  channel: string;
  /** The chat id, or the URL. */
  target: string;
  event: string;
  dedupKey: string;
  payload: unknown;
  attempts: number;
  /** Parts already delivered (a long reply split into several chat messages). */
  progress: number;
}

/** The one line a text receiver (ntfy and the like) gets. */
export function noticeLine(n: JobNotice): string {
  const what = n.event === 'job.succeeded' ? 'answered' : n.event === 'job.failed' ? 'failed' : 'was canceled';
  const task = n.task_id ? ` (task ${n.task_id})` : '';
  const body = n.event === 'job.succeeded' ? (n.reply_excerpt ?? '') : (n.error ?? '');
  return `alter0: job ${n.job_id}${task} ${what}${body ? `: ${body}` : ''}`;
}
