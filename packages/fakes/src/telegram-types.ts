/** The Telegram Bot API objects the fake sends (the subset it produces), and the fake's public shapes. */

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
  language_code?: string;
}

export type ChatType = 'private' | 'group' | 'supergroup';

export interface TgChat {
  id: number;
  type: ChatType;
  first_name?: string;
  title?: string;
}

export interface TgEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
}

export interface TgMessage {
  message_id: number;
  date: number;
  edit_date?: number;
  chat: TgChat;
  from: TgUser;
  text: string;
  entities?: TgEntity[];
  reply_to_message?: TgMessage;
  reply_markup?: unknown;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message: TgMessage;
  chat_instance: string;
  data: string;
}

export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  callback_query?: TgCallbackQuery;
}

/** One HTTP request the fake received. */
export interface TelegramRequest {
  /** 1-based arrival order. */
  seq: number;
  /** The Bot API method as named in the URL (e.g. 'sendMessage'); '' when the path is not /bot<token>/<method>. */
  method: string;
  /** Query-string and body parameters merged (body wins); form values that look like JSON are parsed. */
  params: Record<string, unknown>;
  /** HTTP status answered; 0 while held or when nothing was answered (reset, client gone, fake down). */
  status: number;
  /** Date.now() on arrival. */
  at: number;
  /** The scripted fault this request got, if any. */
  fault?: TelegramFault['kind'];
}

/** A message the bot sent, as it stands now (after any edits). */
export interface TelegramMessage {
  chatId: number;
  messageId: number;
  /** The text as the bot sent it (with its MarkdownV2/HTML markup). */
  text: string;
  /** The text as Telegram shows it (markup removed): the `text` of the Message the bot got back. */
  plainText: string;
  parseMode?: string;
  /** The message_id this message replies to. */
  replyTo?: number;
  replyMarkup?: unknown;
  /** Unix seconds, as in the Message. */
  date: number;
  /** How many times editMessageText changed it. */
  editCount: number;
}

export interface TelegramEdit {
  chatId: number;
  messageId: number;
  /** The new text as the bot sent it. */
  text: string;
  previousText: string;
  replyMarkup?: unknown;
  at: number;
}

export interface TelegramChatAction {
  chatId: number;
  action: string;
  at: number;
}

export interface TelegramCommand {
  command: string;
  description: string;
}

export interface TelegramCallbackAnswer {
  callbackQueryId: string;
  text?: string;
  showAlert?: boolean;
  at: number;
}

/** What the next matching request gets instead of its normal answer. */
export type TelegramFault =
  /** 429 with parameters.retry_after (seconds). */
  | { kind: 'rate_limit'; retryAfter: number }
  /** 409, as when another instance polls with the same token. */
  | { kind: 'conflict' }
  /** 500/502/503 (default 502) with a JSON envelope, or a proxy's HTML page when `html`. */
  | { kind: 'server_error'; status?: 500 | 502 | 503; html?: boolean }
  /** The socket is destroyed without an answer. */
  | { kind: 'reset' }
  /** Waits `ms`, then answers normally. */
  | { kind: 'slow'; ms: number }
  /** 401 Unauthorized for this request only (see `revoke()` for a lasting one). */
  | { kind: 'unauthorized' };

export interface UserMessageInput {
  chatId: number;
  /** Defaults to chatId (a private chat's id is the user's id). */
  userId?: number;
  text: string;
  /** message_id (in this chat) of the message this one replies to. */
  replyTo?: number;
  /** Defaults to 'private' for the first message of a chat; later messages keep the chat's type. */
  chatType?: ChatType;
  firstName?: string;
}

export interface ButtonPressInput {
  chatId: number;
  /** Defaults to chatId. */
  userId?: number;
  /** The bot message whose inline button is pressed. */
  messageId: number;
  /** The button's callback_data (not checked against the message's keyboard: stale buttons can be pressed). */
  data: string;
}

export interface WaitOptions {
  /** Default 10 000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A fake Telegram Bot API server on 127.0.0.1 (see startTelegramFake). */
export interface TelegramFake {
  /** API root without a trailing slash, for grammY's `apiRoot`: calls go to `${url}/bot${token}/${method}`. */
  readonly url: string;
  readonly port: number;
  /** The one token the fake accepts. */
  readonly token: string;
  /** The bot's own user, as getMe answers it. */
  readonly bot: { id: number; username: string; first_name: string };
  /** Every request received, in arrival order (faults and refusals included). */
  readonly requests: readonly TelegramRequest[];
  /** From now on every call answers 401 Unauthorized (the token was revoked in BotFather). */
  revoke(): void;
  /** Undoes revoke(). */
  restore(): void;
  /** Queues a `message` update from a user; returns its update_id and the message_id it got in the chat. */
  sendUserMessage(m: UserMessageInput): { updateId: number; messageId: number };
  /** Queues a `callback_query` update: the user pressed an inline button under a bot message. */
  pressButton(b: ButtonPressInput): { updateId: number; callbackQueryId: string };
  /** The highest `offset` the bot has confirmed through getUpdates (0 before any). */
  confirmedOffset(): number;
  /** Updates queued and not yet confirmed (delivered or not). */
  pendingUpdates(): number;
  /** The bot's messages in send order (all chats, or one), with their current text and keyboard. */
  sent(chatId?: number): TelegramMessage[];
  /** Successful editMessageText calls, in order. */
  edits(chatId?: number): TelegramEdit[];
  /** sendChatAction calls, in order. */
  chatActions(chatId?: number): TelegramChatAction[];
  /** The commands of the last setMyCommands ([] before any, or after deleteMyCommands). */
  commands(): TelegramCommand[];
  /** answerCallbackQuery calls that were accepted, in order. */
  callbackAnswers(): TelegramCallbackAnswer[];
  /**
   * Resolves with the first truthy value of `probe`, checked after every request (on arrival and on answer)
   * and every 25 ms; rejects after `timeoutMs` naming the probe and the last requests seen.
   */
  waitFor<T>(probe: () => T | undefined | null | false, opts?: WaitOptions): Promise<T>;
  /** The next `times` (default 1) requests for `method` (default: any) get `f` instead of their answer. */
  fault(f: TelegramFault, opts?: { method?: string; times?: number }): void;
  /** Stops listening: held requests and open sockets are dropped; all state is kept. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Ends everything. Idempotent. */
  close(): Promise<void>;
}
