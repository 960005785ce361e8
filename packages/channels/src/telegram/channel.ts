import { Api } from 'grammy/web';
import type { CallbackQuery, Message, Update } from 'grammy/types';
import { setTimeout as delay } from 'node:timers/promises';
import { clampTimerMs, errorMessage } from '@alter0/core';
import type { RunContext, SupervisedChannel } from '../channel.js';
import type { Deliverer } from '../delivery.js';
import { DeliveryError } from '../delivery.js';
import type { ChatNotice, Delivery } from '../notice.js';
import { splitText } from '../split.js';
import { BOT_COMMANDS, parseText } from './commands.js';
import { channelErrorOf, deliveryErrorOf, isWebhookConflict, retryAfterMs } from './errors.js';
import type { ApprovalQuestion, TelegramHost } from './host.js';
import { answerCommand } from './answer.js';
import { ApprovalQuestions, parseApprovalData } from './approvals.js';

export interface TelegramOptions {
  /** Reads the bot token (at each start, so a replaced token file is picked up without a restart of alter0). */
  readToken(): string;
  tokenFile: string;
  apiUrl: string;
  allowedChatIds: ReadonlySet<number>;
  pollTimeoutS: number;
  host: TelegramHost;
  /** How often "typing…" is renewed while a job runs (Telegram shows it for 5 s). */
  typingEveryMs?: number;
}

/**
 * The Telegram bot: long polling (no inbound port), so it works behind NAT. Each update's offset is committed in the
 * same transaction as what it became, so after a crash no update is lost and none runs twice. Replies and
 * notices are delivered through the outbox (`deliver`). Pending approvals are asked with buttons (`askApproval`),
 * answered by a press (a `callback_query`), and their questions show how they were decided (`approvalDecided`).
 */
export class TelegramChannel implements SupervisedChannel, Deliverer {
  readonly name = 'telegram';
  private api: Api | null = null;
  private readonly refusedChats = new Set<number>();
  private readonly questions: ApprovalQuestions;

  constructor(private readonly o: TelegramOptions) {
    this.questions = new ApprovalQuestions(o.host, () => this.api);
  }

  /** Asks the owner about a pending approval in `q.chatId`, with buttons. Best effort: never throws. */
  askApproval(q: ApprovalQuestion): Promise<void> {
    return this.questions.ask(q);
  }

  /** An approval was decided (anywhere): its question shows `outcome` and loses its buttons. Never throws. */
  approvalDecided(id: string, outcome: string): Promise<void> {
    return this.questions.decided(id, outcome);
  }

  async run(ctx: RunContext): Promise<void> {
    const api = this.connect();
    const { signal } = ctx;
    try {
      await api.setMyCommands([...BOT_COMMANDS], undefined, sig(signal));
    } catch (err) {
      throw this.failure(err);
    }
    ctx.ok();
    const typing = setInterval(() => this.showTyping(api, signal), this.o.typingEveryMs ?? 4_000);
    try {
      await this.poll(api, ctx);
    } finally {
      clearInterval(typing);
    }
  }

  private connect(): Api {
    let token: string;
    try {
      token = this.o.readToken();
    } catch (err) {
      throw channelErrorOf(new Error(errorMessage(err)), this.where());
    }
    // A long poll answers within pollTimeoutS; an answer much later than that is a connection that hangs.
    const api = new Api(token, { apiRoot: this.o.apiUrl, timeoutSeconds: this.o.pollTimeoutS + 15 });
    this.api = api;
    return api;
  }

  private async poll(api: Api, ctx: RunContext): Promise<void> {
    const { signal } = ctx;
    let offset = this.o.host.cursor() ?? undefined;
    while (!signal.aborted) {
      let updates: Update[];
      try {
        updates = await api.getUpdates(
          { offset, timeout: this.o.pollTimeoutS, allowed_updates: ['message', 'callback_query'] },
          sig(signal),
        );
      } catch (err) {
        if (signal.aborted) return;
        const wait = retryAfterMs(err);
        if (wait !== null) {
          ctx.degraded(`Telegram rate-limits the bot: waiting ${Math.ceil(wait / 1000)} s as it asked`);
          // Resolves early (not an error) when the channel is stopping: the loop then ends.
          await delay(clampTimerMs(wait), undefined, { signal }).catch(() => undefined);
          continue;
        }
        if (isWebhookConflict(err)) await api.deleteWebhook(undefined, sig(signal)).catch(() => undefined);
        throw this.failure(err);
      }
      ctx.ok();
      for (const u of updates) {
        if (signal.aborted) return;
        await this.handle(api, u, signal);
        offset = u.update_id + 1;
      }
    }
  }

  /** One update: taken, answered or ignored — and its offset committed in every case. */
  private async handle(api: Api, u: Update, signal: AbortSignal): Promise<void> {
    const next = u.update_id + 1;
    if (u.callback_query) return this.pressed(api, u.callback_query, next, signal);
    const m = u.message;
    if (!m) return this.o.host.commitCursor(next);
    if (!this.o.allowedChatIds.has(m.chat.id)) {
      this.refuse(m);
      return this.o.host.commitCursor(next);
    }
    if (typeof m.text !== 'string') {
      this.o.host.commitCursor(next);
      return this.say(api, m, 'I take text messages only.', signal);
    }
    const parsed = parseText(m.text);
    if (parsed.kind === 'text' || parsed.name === 'new') {
      const newTask = parsed.kind === 'command';
      const text = parsed.kind === 'text' ? parsed.text : parsed.args;
      if (newTask && text === '') {
        this.o.host.commitCursor(next);
        return this.say(api, m, 'Usage: /new <text> — starts a new task with this text.', signal);
      }
      return this.take(api, m, { text, newTask, offset: next }, signal);
    }
    const answer = await answerCommand(this.o.host, parsed, this.repliedJob(m));
    this.o.host.commitCursor(next);
    return this.say(api, m, answer, signal);
  }

  private async take(
    api: Api,
    m: Message,
    p: { text: string; newTask: boolean; offset: number },
    signal: AbortSignal,
  ): Promise<void> {
    const pinned = p.newTask ? null : this.repliedJob(m);
    const answer = await this.o.host.accept({
      text: p.text,
      chatId: m.chat.id,
      userId: m.from?.id ?? m.chat.id,
      messageId: m.message_id,
      offset: p.offset,
      taskId: pinned?.taskId ?? null,
      newTask: p.newTask,
    });
    if (!answer.ok) {
      this.o.host.commitCursor(p.offset);
      return this.say(api, m, answer.message, signal);
    }
    void api.sendChatAction(m.chat.id, 'typing', undefined, sig(signal)).catch(() => undefined);
  }

  /** A button pressed: an approval decided (from an allowed chat only), the press answered, the question edited. */
  private async pressed(api: Api, q: CallbackQuery, next: number, signal: AbortSignal): Promise<void> {
    const chatId = q.message?.chat.id;
    if (chatId === undefined || !this.o.allowedChatIds.has(chatId)) {
      this.o.host.commitCursor(next);
      this.o.host.log('warn', 'ignored a button pressed outside the allowed chats', {
        chat_id: chatId ?? null,
        user_id: q.from.id,
      });
      return this.answerPress(api, q, 'Not allowed: this chat is not in telegram.allowed_chat_ids.', signal);
    }
    const button = parseApprovalData(q.data);
    if (!button) {
      this.o.host.commitCursor(next);
      return this.answerPress(api, q, 'This button does nothing any more.', signal);
    }
    const wasAsked = this.questions.has(button.id);
    // Decided and committed before the offset: after a crash between the two, the press is read again and
    // answered "already …".
    const press = this.o.host.decideApproval(button.id, button.action);
    this.o.host.commitCursor(next);
    await this.answerPress(api, q, press.answer, signal);
    if (press.outcome !== null) await this.questions.pressed(q, button.id, press.outcome, wasAsked);
  }

  /** The little notice the presser sees (Telegram shows 200 characters). Best effort. */
  private async answerPress(api: Api, q: CallbackQuery, text: string, signal: AbortSignal): Promise<void> {
    try {
      await api.answerCallbackQuery(q.id, { text: text.slice(0, 200) }, sig(signal));
    } catch (err) {
      if (!signal.aborted)
        this.o.host.log('warn', 'could not answer a pressed button', {
          chat_id: q.message?.chat.id,
          err: errorMessage(err),
        });
    }
  }

  private repliedJob(m: Message): { jobId: string; taskId: string | null } | null {
    const to = m.reply_to_message?.message_id;
    return to === undefined ? null : this.o.host.jobOf(m.chat.id, to);
  }

  private refuse(m: Message): void {
    if (this.refusedChats.has(m.chat.id)) return;
    this.refusedChats.add(m.chat.id);
    const who = m.from ? `user ${m.from.id}${m.from.username ? ` (@${m.from.username})` : ''}` : 'unknown sender';
    this.o.host.refused(m.chat.id, who);
  }

  /** A direct answer (a command's, a refusal's): best effort, never retried — the owner can ask again. */
  private async say(api: Api, m: Message, text: string, signal: AbortSignal): Promise<void> {
    try {
      for (const part of splitText(text)) {
        await api.sendMessage(
          m.chat.id,
          part,
          { reply_parameters: { message_id: m.message_id, allow_sending_without_reply: true } },
          sig(signal),
        );
      }
    } catch (err) {
      if (!signal.aborted)
        this.o.host.log('warn', 'could not answer in the Telegram chat', {
          chat_id: m.chat.id,
          err: errorMessage(err),
        });
    }
  }

  private showTyping(api: Api, signal: AbortSignal): void {
    let chats: number[];
    try {
      chats = this.o.host.busyChats();
    } catch (err) {
      // A timer's throw would end the process: a database that is busy just skips one "typing…".
      this.o.host.log('debug', 'could not read the chats with running jobs', { err: errorMessage(err) });
      return;
    }
    for (const chat of chats) {
      if (!this.o.allowedChatIds.has(chat)) continue;
      api.sendChatAction(chat, 'typing', undefined, sig(signal)).catch(() => undefined);
    }
  }

  /** Delivers a reply or a failure to its chat, part by part, each part answering the owner's message. */
  async deliver(d: Delivery, progressed: (parts: number) => void, signal: AbortSignal): Promise<void> {
    const api = this.api;
    if (!api) throw new DeliveryError('the Telegram channel has not connected yet; see its state in `alter0 status`');
    const n = d.payload as ChatNotice;
    const chat = Number(d.target);
    const parts = splitText(n.text.trim() === '' ? '(empty reply)' : n.text);
    for (let i = d.progress; i < parts.length; i++) {
      const replyTo = i === 0 && n.reply_to !== null ? n.reply_to : null;
      let sent: Message.TextMessage;
      try {
        sent = await api.sendMessage(
          chat,
          parts[i] ?? '',
          {
            link_preview_options: { is_disabled: true },
            ...(replyTo !== null
              ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }
              : {}),
          },
          sig(signal),
        );
      } catch (err) {
        throw deliveryErrorOf(err, this.where());
      }
      this.o.host.recordSent(chat, sent.message_id, n.job_id);
      progressed(i + 1);
    }
  }

  private failure(err: unknown): Error {
    return channelErrorOf(err, this.where());
  }

  private where(): { tokenFile: string; apiUrl: string } {
    return { tokenFile: this.o.tokenFile, apiUrl: this.o.apiUrl };
  }
}

/**
 * grammY's declarations type its signal parameter with the abort-controller package's class; its web build (the
 * one used here: global fetch, no node-fetch and its deprecation warnings) passes Node's own AbortSignal through.
 */
type ApiSignal = Parameters<Api['getMe']>[0];
function sig(signal: AbortSignal): ApiSignal {
  return signal as unknown as ApiSignal;
}
