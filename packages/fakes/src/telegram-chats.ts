import { badRequest } from './telegram-errors.js';
import type { Formatted } from './telegram-markdown.js';
import type {
  ChatType,
  TelegramEdit,
  TelegramMessage,
  TgChat,
  TgEntity,
  TgMessage,
  TgUser,
  UserMessageInput,
} from './telegram-types.js';

/** One message of a chat, user's or bot's, as it stands now. */
interface Stored {
  chatId: number;
  messageId: number;
  from: TgUser;
  fromBot: boolean;
  date: number;
  editDate?: number;
  /** As sent, markup included. */
  raw: string;
  formatted: Formatted;
  parseMode?: string;
  replyTo?: number;
  /** As the bot sent it (any keyboard kind). */
  replyMarkup?: unknown;
  editCount: number;
}

interface ChatState {
  chat: TgChat;
  /** message_ids are per chat and shared by the user's and the bot's messages. */
  lastMessageId: number;
  messages: Map<number, Stored>;
}

export interface BotMessageInput {
  chatId: number;
  raw: string;
  formatted: Formatted;
  parseMode?: string;
  replyTo?: number;
  replyMarkup?: unknown;
}

const now = (): number => Math.floor(Date.now() / 1000);

const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

/** The chats the fake knows: every message in them, who wrote it, and the bot's edits. */
export class ChatStore {
  private readonly chats = new Map<number, ChatState>();
  private readonly users = new Map<number, TgUser>();
  private readonly botMessages: Stored[] = [];
  private readonly editLog: TelegramEdit[] = [];

  constructor(private readonly bot: TgUser) {}

  user(userId: number, firstName?: string): TgUser {
    const known = this.users.get(userId);
    const user: TgUser = {
      id: userId,
      is_bot: false,
      first_name: firstName ?? known?.first_name ?? 'Tester',
      language_code: 'en',
    };
    this.users.set(userId, user);
    return user;
  }

  addUserMessage(m: UserMessageInput): TgMessage {
    const state = this.chat(m.chatId, m.chatType, m.firstName);
    if (m.replyTo !== undefined && !state.messages.has(m.replyTo)) {
      throw new Error(`sendUserMessage: chat ${m.chatId} has no message ${m.replyTo} to reply to`);
    }
    const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(m.text)?.[0];
    const entities: TgEntity[] = command ? [{ type: 'bot_command', offset: 0, length: command.length }] : [];
    const stored = this.store(state, {
      from: this.user(m.userId ?? m.chatId, m.firstName),
      fromBot: false,
      raw: m.text,
      formatted: { text: m.text, entities },
      ...(m.replyTo !== undefined ? { replyTo: m.replyTo } : {}),
    });
    return this.toMessage(stored, true);
  }

  addBotMessage(m: BotMessageInput): TgMessage {
    const state = this.chat(m.chatId);
    const { chatId: _chatId, ...rest } = m;
    const stored = this.store(state, { from: this.bot, fromBot: true, ...rest });
    this.botMessages.push(stored);
    return this.toMessage(stored, true);
  }

  /** A bot message's Message object, for a callback_query; undefined when the chat has no such message of the bot. */
  botMessage(chatId: number, messageId: number): TgMessage | undefined {
    const stored = this.chats.get(chatId)?.messages.get(messageId);
    return stored?.fromBot ? this.toMessage(stored, true) : undefined;
  }

  has(chatId: number, messageId: number): boolean {
    return this.chats.get(chatId)?.messages.has(messageId) ?? false;
  }

  /** editMessageText: refused as Telegram does when the message is unknown, not the bot's, or unchanged. */
  edit(chatId: number, messageId: number, raw: string, formatted: Formatted, replyMarkup: unknown): TgMessage {
    const stored = this.chats.get(chatId)?.messages.get(messageId);
    if (!stored) throw badRequest('message to edit not found');
    if (!stored.fromBot) throw badRequest("message can't be edited");
    const same =
      stored.formatted.text === formatted.text &&
      JSON.stringify(stored.formatted.entities) === JSON.stringify(formatted.entities) &&
      JSON.stringify(inlineMarkup(stored.replyMarkup)) === JSON.stringify(inlineMarkup(replyMarkup));
    if (same) throw badRequest(NOT_MODIFIED);
    this.editLog.push({
      chatId,
      messageId,
      text: raw,
      previousText: stored.raw,
      ...(replyMarkup !== undefined ? { replyMarkup } : {}),
      at: Date.now(),
    });
    stored.raw = raw;
    stored.formatted = formatted;
    // editMessageText without reply_markup removes the inline keyboard, as on Telegram.
    stored.replyMarkup = replyMarkup;
    stored.editDate = now();
    stored.editCount++;
    return this.toMessage(stored, true);
  }

  sent(chatId?: number): TelegramMessage[] {
    return this.botMessages.filter((s) => chatId === undefined || s.chatId === chatId).map(describe);
  }

  edits(chatId?: number): TelegramEdit[] {
    return this.editLog.filter((e) => chatId === undefined || e.chatId === chatId);
  }

  /** The chat, known from a user's message or made up for the bot's first message (type from the id's sign). */
  private chat(chatId: number, type?: ChatType, firstName?: string): ChatState {
    const known = this.chats.get(chatId);
    if (known) return known;
    const chatType: ChatType = type ?? (chatId > 0 ? 'private' : chatId < -1_000_000_000_000 ? 'supergroup' : 'group');
    const chat: TgChat =
      chatType === 'private'
        ? { id: chatId, type: chatType, first_name: firstName ?? 'Tester' }
        : { id: chatId, type: chatType, title: 'alter0 test group' };
    const state: ChatState = { chat, lastMessageId: 0, messages: new Map() };
    this.chats.set(chatId, state);
    return state;
  }

  private store(state: ChatState, m: Omit<Stored, 'chatId' | 'messageId' | 'date' | 'editCount'>): Stored {
    const stored: Stored = { chatId: state.chat.id, messageId: ++state.lastMessageId, date: now(), editCount: 0, ...m };
    state.messages.set(stored.messageId, stored);
    return stored;
  }

  /** The Message object; a reply carries the replied-to message, without that one's own reply (as Telegram does). */
  private toMessage(s: Stored, withReply: boolean): TgMessage {
    const state = this.chats.get(s.chatId);
    const replied = s.replyTo !== undefined ? state?.messages.get(s.replyTo) : undefined;
    const markup = inlineMarkup(s.replyMarkup);
    return {
      message_id: s.messageId,
      from: s.from,
      chat: state?.chat ?? { id: s.chatId, type: 'private' },
      date: s.date,
      ...(s.editDate !== undefined ? { edit_date: s.editDate } : {}),
      ...(withReply && replied ? { reply_to_message: this.toMessage(replied, false) } : {}),
      text: s.formatted.text,
      ...(s.formatted.entities.length > 0 ? { entities: s.formatted.entities } : {}),
      ...(markup !== undefined ? { reply_markup: markup } : {}),
    };
  }
}

/** Only an inline keyboard with buttons stays on a message (reply keyboards go to the client, not the message). */
function inlineMarkup(markup: unknown): unknown {
  if (typeof markup !== 'object' || markup === null) return undefined;
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  return Array.isArray(rows) && rows.length > 0 ? { inline_keyboard: rows } : undefined;
}

function describe(s: Stored): TelegramMessage {
  return {
    chatId: s.chatId,
    messageId: s.messageId,
    text: s.raw,
    plainText: s.formatted.text,
    ...(s.parseMode !== undefined ? { parseMode: s.parseMode } : {}),
    ...(s.replyTo !== undefined ? { replyTo: s.replyTo } : {}),
    ...(s.replyMarkup !== undefined ? { replyMarkup: s.replyMarkup } : {}),
    date: s.date,
    editCount: s.editCount,
  };
}
