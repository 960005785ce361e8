/** A text message from an allowed chat, to be accepted as a job. */
export interface IncomingText {
  text: string;
  chatId: number;
  userId: number;
  messageId: number;
  /** The update offset to commit with it (its update id + 1). */
  offset: number;
  /** The task it is pinned to (a reply to one of that task's messages), or null: routed. */
  taskId: string | null;
  /** /new: start a new task. */
  newTask: boolean;
}

/** An accept refused on its own (a full queue): said to the owner, and the update is done. */
export type AcceptAnswer = { ok: true; jobId: string } | { ok: false; message: string };

/** A button under an approval question: allow once, deny, or allow this tool use for the rest of the task. */
export type ApprovalAction = 'allow' | 'deny' | 'always';

/** A pending approval to ask in a chat: the whole question, already in the owner's words. */
export interface ApprovalQuestion {
  id: string;
  chatId: number;
  text: string;
}

/** What a press decided: the short answer the presser sees, and the line the question shows now. */
export interface ApprovalPress {
  answer: string;
  /** null: there is nothing to show (an approval alter0 does not know). */
  outcome: string | null;
}

/**
 * What the Telegram channel needs of the daemon. Accepting commits the message, its job and the update offset in
 * one transaction; an infrastructure failure throws (the update is then read again after the restart).
 */
export interface TelegramHost {
  /** The next update offset committed, or null before the first update. */
  cursor(): number | null;
  commitCursor(offset: number): void;
  accept(m: IncomingText): Promise<AcceptAnswer>;
  /** The job (and its task, once routed) a chat message belongs to; null when alter0 does not know it. */
  jobOf(chatId: number, messageId: number): { jobId: string; taskId: string | null } | null;
  /** A bot message that carried (part of) a job's reply: replies to it continue that job's task. */
  recordSent(chatId: number, messageId: number, jobId: string): void;
  /** Chats where a job from this channel runs now: they see "typing…". */
  busyChats(): number[];
  /** Answers of the commands, in the owner's words. Throwing says the error's message to the owner. */
  tasksText(): string;
  statusText(): Promise<string>;
  closeTask(taskId: string, reason: string): Promise<string>;
  cancelJob(jobId: string): string;
  retryJob(jobId: string): string;
  /** An approval button was pressed in an allowed chat: decides it (by 'telegram') unless it is decided already. */
  decideApproval(id: string, action: ApprovalAction): ApprovalPress;
  /** A chat not on the allowlist wrote (reported once per chat while the channel runs). */
  refused(chatId: number, from: string): void;
  log(level: 'debug' | 'info' | 'warn', message: string, meta?: Record<string, unknown>): void;
}
