import type { ApprovalAction, ApprovalPress, ApprovalQuestion } from '@alter0/channels';
import { ConflictError, NotFoundError, errorMessage } from '@alter0/core';
import type { ApprovalRow, Store } from '@alter0/store';
import type { Logger } from '@alter0/obs';
import type { Approvals } from '../approvals/service.js';

/** How much of a tool's input a question shows (it is redacted already; long input is cut). */
const INPUT_MAX = 600;
const TITLE_MAX = 80;

/** What the daemon does with an approval's changes when Telegram is on. */
interface ApprovalAsker {
  askApproval(q: ApprovalQuestion): Promise<void>;
  approvalDecided(id: string, outcome: string): Promise<void>;
}

export interface TelegramApprovalDeps {
  store: Store;
  logger: Logger;
  now: () => number;
  /** telegram.allowed_chat_ids: the first is the owner's, where approvals of jobs from elsewhere are asked. */
  allowedChatIds: readonly number[];
  channel: ApprovalAsker;
}

/**
 * The bus listener for approval events: a new pending approval is asked in Telegram (in the chat its job came from,
 * else the owner's), a decided one has its question edited. Never throws: it runs inside whatever emitted the event.
 */
export function approvalQuestions(d: TelegramApprovalDeps): (id: string) => void {
  const log = d.logger.child({ component: 'gateway', channel_id: 'telegram' });
  return (id) => {
    try {
      const a = d.store.approvals.get(id);
      if (!a) return;
      if (a.state !== 'pending') {
        void d.channel.approvalDecided(id, approvalOutcome(a));
        return;
      }
      const chatId = chatFor(d, a);
      if (chatId === null) {
        log.warn('an approval waits, but telegram.allowed_chat_ids is empty: not asked in Telegram', {
          approval_id: id,
        });
        return;
      }
      void d.channel.askApproval({ id, chatId, text: questionText(d, a) });
    } catch (err) {
      log.warn('could not ask or update an approval in Telegram', { approval_id: id, err: errorMessage(err) });
    }
  };
}

/** The chat a job from Telegram came from (if still allowed), else the first allowed chat. */
function chatFor(d: TelegramApprovalDeps, a: ApprovalRow): number | null {
  const job = d.store.jobs.get(a.jobId);
  const own = job?.channelId === 'telegram' && job.sessionId !== null ? Number(job.sessionId) : null;
  if (own !== null && d.allowedChatIds.includes(own)) return own;
  return d.allowedChatIds[0] ?? null;
}

/** The question, in plain text: the tool, its input, the job and task, and when it expires. */
function questionText(d: Pick<TelegramApprovalDeps, 'store' | 'now'>, a: ApprovalRow): string {
  const task = a.taskId === null ? undefined : d.store.tasks.get(a.taskId);
  const left = Math.max(0, Math.round((a.expiresAt - d.now()) / 1000));
  const inTime = left < 90 ? `${left} s` : `${Math.round(left / 60)} min`;
  const at = new Date(a.expiresAt).toISOString().slice(11, 16);
  return [
    `Approve a tool use? ${a.tool}`,
    readableInput(a.inputJson),
    '',
    `Job: ${a.jobId} (attempt ${a.attempt}, ${a.agent})`,
    `Task: ${task ? `${cut(task.title, TITLE_MAX)} (${task.id})` : (a.taskId ?? 'none yet')}`,
    `Expires: ${at} UTC (in ${inTime}); unanswered, it is denied.`,
  ].join('\n');
}

/** The input as the owner reads it: one string field as itself, an object as `key: value` lines; cut when long. */
function readableInput(json: string): string {
  let input: unknown;
  try {
    input = JSON.parse(json) as unknown;
  } catch {
    input = json;
  }
  const show = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));
  let text: string;
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const entries = Object.entries(input);
    const only = entries.length === 1 ? entries[0] : undefined;
    text = only && typeof only[1] === 'string' ? only[1] : entries.map(([k, v]) => `${k}: ${show(v)}`).join('\n');
  } else {
    text = show(input);
  }
  return cut(text.trim() === '' ? '(no input)' : text, INPUT_MAX);
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** How a decided approval is shown: "allowed (cli)", "denied (telegram): denied from Telegram", "expired: …". */
function approvalOutcome(a: ApprovalRow): string {
  const by = a.decidedBy ? ` (${a.decidedBy})` : '';
  switch (a.state) {
    case 'allowed':
      // "allowed, and always for this task: Bash(make deploy)" keeps its rule.
      return a.always && a.reason?.startsWith('allowed') ? `allowed${by}${a.reason.slice(7)}` : `allowed${by}`;
    case 'denied':
      return `denied${by}${a.reason ? `: ${a.reason}` : ''}`;
    case 'expired':
      return `expired: ${a.reason ?? 'nobody answered in time'}`;
    default:
      return a.state;
  }
}

/** A press of an approval button: decided by 'telegram', or told how it was decided already. */
export function decideFromTelegram(
  d: { store: Store; approvals: Pick<Approvals, 'decide'> },
  id: string,
  action: ApprovalAction,
): ApprovalPress {
  const a = d.store.approvals.get(id);
  if (!a) return { answer: 'alter0 does not know this approval (any more).', outcome: null };
  if (a.state !== 'pending') return already(a);
  try {
    const decided = d.approvals.decide(id, {
      allow: action !== 'deny',
      by: 'telegram',
      always: action === 'always',
      ...(action === 'deny' ? { reason: 'denied from Telegram' } : {}),
    });
    const outcome = approvalOutcome(decided);
    return { answer: `${outcome.charAt(0).toUpperCase()}${outcome.slice(1)}`, outcome };
  } catch (err) {
    // Decided elsewhere in between (or deleted): told as it is now.
    if (err instanceof ConflictError) return already(d.store.approvals.mustGet(id));
    if (err instanceof NotFoundError)
      return { answer: 'alter0 does not know this approval (any more).', outcome: null };
    throw err;
  }
}

function already(a: ApprovalRow): ApprovalPress {
  const outcome = approvalOutcome(a);
  return { answer: `Already ${outcome}`, outcome };
}
