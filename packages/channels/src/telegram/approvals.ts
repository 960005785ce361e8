import type { Api } from 'grammy/web';
import type { CallbackQuery, InlineKeyboardMarkup } from 'grammy/types';
import { errorMessage } from '@alter0/core';
import type { ApprovalAction, ApprovalQuestion, TelegramHost } from './host.js';

/** The prefix of an approval button's callback_data: `ap:<approval id>:<action>` (Telegram allows 64 bytes). */
const PREFIX = 'ap';
const ACTIONS: readonly ApprovalAction[] = ['allow', 'deny', 'always'];
const MAX_DATA_BYTES = 64;

/** The inline keyboard under a question: Approve, Deny, and Always for this task. */
function approvalKeyboard(id: string): InlineKeyboardMarkup {
  const button = (text: string, action: ApprovalAction): { text: string; callback_data: string } => {
    const data = `${PREFIX}:${id}:${action}`;
    if (Buffer.byteLength(data) > MAX_DATA_BYTES) throw new Error(`approval id ${id} is too long for a button`);
    return { text, callback_data: data };
  };
  return {
    inline_keyboard: [[button('Approve', 'allow'), button('Deny', 'deny')], [button('Always for this task', 'always')]],
  };
}

/** A button's data as one of ours, or null. */
export function parseApprovalData(data: string | undefined): { id: string; action: ApprovalAction } | null {
  const m = /^ap:([^:]+):([a-z]+)$/.exec(data ?? '');
  const action = ACTIONS.find((a) => a === m?.[2]);
  return m?.[1] && action ? { id: m[1], action } : null;
}

interface Asked {
  chatId: number;
  /** null while the question is being sent. */
  messageId: number | null;
  text: string;
  /** Decided while the question was being sent: shown as soon as it is. */
  outcome: string | null;
}

/**
 * The approval questions the bot asked and has not yet closed (in memory: a restart denies every pending approval,
 * and a press on a question of a previous process is answered from the message itself). Every Telegram call here
 * is best effort: a failure is logged, never thrown.
 */
export class ApprovalQuestions {
  private readonly asked = new Map<string, Asked>();

  constructor(
    private readonly host: TelegramHost,
    private readonly api: () => Api | null,
  ) {}

  has(id: string): boolean {
    return this.asked.has(id);
  }

  async ask(q: ApprovalQuestion): Promise<void> {
    if (this.asked.has(q.id)) return;
    const api = this.api();
    if (!api) return this.warn('could not ask for an approval in Telegram: the channel has not connected yet', q.id);
    const entry: Asked = { chatId: q.chatId, messageId: null, text: q.text, outcome: null };
    this.asked.set(q.id, entry);
    try {
      const sent = await api.sendMessage(q.chatId, q.text, {
        reply_markup: approvalKeyboard(q.id),
        link_preview_options: { is_disabled: true },
      });
      entry.messageId = sent.message_id;
    } catch (err) {
      this.asked.delete(q.id);
      return this.warn('could not ask for an approval in Telegram', q.id, err);
    }
    if (entry.outcome !== null) await this.decided(q.id, entry.outcome);
  }

  /** The approval was decided (anywhere): its question shows the outcome and loses its buttons. */
  async decided(id: string, outcome: string): Promise<void> {
    const entry = this.asked.get(id);
    if (!entry) return;
    if (entry.messageId === null) {
      entry.outcome = outcome;
      return;
    }
    // Taken out before the edit: the edit is made once, whoever (a bus event, a press) gets here first.
    this.asked.delete(id);
    await this.edit(entry.chatId, entry.messageId, entry.text, outcome, id);
  }

  /**
   * After a press was answered: the question shows the outcome. A question of this process was edited already
   * (the decision's event got to `decided`); one of a previous process is edited from the pressed message, unless
   * it has no buttons any more (it shows its outcome already).
   */
  async pressed(q: CallbackQuery, id: string, outcome: string, wasAsked: boolean): Promise<void> {
    if (this.asked.has(id)) return this.decided(id, outcome);
    const m = q.message;
    if (wasAsked || !m || m.date === 0 || !m.reply_markup?.inline_keyboard.length) return;
    await this.edit(m.chat.id, m.message_id, m.text ?? '', outcome, id);
  }

  private async edit(chatId: number, messageId: number, text: string, outcome: string, id: string): Promise<void> {
    const api = this.api();
    if (!api) return;
    try {
      // Without reply_markup: the buttons go.
      await api.editMessageText(chatId, messageId, `${text}\n\n→ ${outcome}`, {
        link_preview_options: { is_disabled: true },
      });
    } catch (err) {
      // Shown already (two edits raced): nothing to say.
      if (/message is not modified/i.test(errorMessage(err))) return;
      this.warn('could not show the outcome of an approval in Telegram', id, err);
    }
  }

  private warn(message: string, id: string, err?: unknown): void {
    this.host.log('warn', message, { approval_id: id, ...(err === undefined ? {} : { err: errorMessage(err) }) });
  }
}
