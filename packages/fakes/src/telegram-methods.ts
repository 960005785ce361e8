import { badRequest } from './telegram-errors.js';
import { formatMessageText } from './telegram-format.js';
import type { Params } from './telegram-params.js';
import { boolParam, chatIdParam, intParam, objectParam, stringParam } from './telegram-params.js';
import type { TelegramState } from './telegram-state.js';
import type { TelegramCommand } from './telegram-types.js';

/** One Bot API method: its result, or a thrown TelegramApiError. */
export type MethodHandler = (state: TelegramState, p: Params, signal: AbortSignal) => unknown;

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

const QUERY_INVALID = 'query is too old and response timeout expired or query ID is invalid';

/** The methods the fake serves, by lower-cased name (Telegram's method names are case-insensitive). */
export const METHODS: Record<string, MethodHandler> = {
  getme: (s) => ({
    ...s.bot,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  }),
  getupdates: (s, p, signal) =>
    s.updates.poll(
      { offset: intParam(p, 'offset'), limit: intParam(p, 'limit'), timeout: intParam(p, 'timeout') },
      signal,
    ),
  deletewebhook: (s, p) => {
    if (boolParam(p, 'drop_pending_updates')) s.updates.dropPending();
    return true;
  },
  getwebhookinfo: (s) => ({ url: '', has_custom_certificate: false, pending_update_count: s.updates.pending() }),
  sendmessage: sendMessage,
  editmessagetext: editMessageText,
  sendchataction: (s, p) => {
    const chatId = chatIdParam(p);
    const action = stringParam(p, 'action');
    if (action === undefined || !CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
    s.chatActions.push({ chatId, action, at: Date.now() });
    return true;
  },
  answercallbackquery: (s, p) => {
    const id = stringParam(p, 'callback_query_id');
    if (id === undefined || s.callbackQueries.get(id) !== false) throw badRequest(QUERY_INVALID);
    s.callbackQueries.set(id, true);
    const text = stringParam(p, 'text');
    s.callbackAnswers.push({
      callbackQueryId: id,
      ...(text !== undefined ? { text } : {}),
      ...(p['show_alert'] !== undefined ? { showAlert: boolParam(p, 'show_alert') } : {}),
      at: Date.now(),
    });
    return true;
  },
  setmycommands: (s, p) => {
    s.commands = commandsParam(p);
    return true;
  },
  getmycommands: (s) => s.commands,
  deletemycommands: (s) => {
    s.commands = [];
    return true;
  },
};

function sendMessage(s: TelegramState, p: Params): unknown {
  const chatId = chatIdParam(p);
  const raw = stringParam(p, 'text');
  const parseMode = stringParam(p, 'parse_mode');
  const formatted = formatMessageText(raw, parseMode, p['entities']);
  const replyMarkup = markupParam(p);
  const replyTo = replyTarget(s, chatId, p);
  return s.chats.addBotMessage({
    chatId,
    raw: raw ?? '',
    formatted,
    ...(parseMode !== undefined ? { parseMode } : {}),
    ...(replyTo !== undefined ? { replyTo } : {}),
    ...(replyMarkup !== undefined ? { replyMarkup } : {}),
  });
}

function editMessageText(s: TelegramState, p: Params): unknown {
  if (p['inline_message_id'] !== undefined) throw badRequest('MESSAGE_ID_INVALID');
  const chatId = chatIdParam(p);
  const messageId = intParam(p, 'message_id');
  if (messageId === undefined) throw badRequest('message identifier is not specified');
  const raw = stringParam(p, 'text');
  const formatted = formatMessageText(raw, stringParam(p, 'parse_mode'), p['entities']);
  return s.chats.edit(chatId, messageId, raw ?? '', formatted, markupParam(p));
}

/** reply_parameters.message_id or the older reply_to_message_id; unknown targets refused unless allowed. */
function replyTarget(s: TelegramState, chatId: number, p: Params): number | undefined {
  const params = objectParam(p, 'reply_parameters');
  const replyTo = params ? intParam(params, 'message_id') : intParam(p, 'reply_to_message_id');
  if (replyTo === undefined) return undefined;
  if (s.chats.has(chatId, replyTo)) return replyTo;
  const allow = params ? boolParam(params, 'allow_sending_without_reply') : boolParam(p, 'allow_sending_without_reply');
  if (allow) return undefined;
  throw badRequest('message to be replied not found');
}

/** reply_markup, with the checks that bite real bots: every inline button has text and 1–64 bytes of data. */
function markupParam(p: Params): unknown {
  if (p['reply_markup'] === undefined || p['reply_markup'] === null) return undefined;
  const markup = objectParam(p, 'reply_markup');
  const rows = markup?.['inline_keyboard'];
  if (rows === undefined) return markup;
  if (!Array.isArray(rows)) throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array');
  for (const row of rows as unknown[]) {
    if (!Array.isArray(row))
      throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays');
    for (const button of row as unknown[]) checkButton(button);
  }
  return markup;
}

function checkButton(button: unknown): void {
  const b = typeof button === 'object' && button !== null ? (button as Record<string, unknown>) : {};
  if (typeof b['text'] !== 'string' || b['text'].length === 0)
    throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
  const data = b['callback_data'];
  if (data !== undefined) {
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : 0;
    if (bytes < 1 || bytes > 64) throw badRequest('BUTTON_DATA_INVALID');
  } else if (b['url'] === undefined && b['switch_inline_query'] === undefined && b['web_app'] === undefined) {
    throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
  }
}

function commandsParam(p: Params): TelegramCommand[] {
  const list = p['commands'];
  if (!Array.isArray(list)) throw badRequest("can't parse commands JSON object");
  return (list as unknown[]).map((c) => {
    const o = typeof c === 'object' && c !== null ? (c as Record<string, unknown>) : {};
    const command = typeof o['command'] === 'string' ? o['command'] : '';
    const description = typeof o['description'] === 'string' ? o['description'] : '';
    if (!/^[a-z0-9_]{1,32}$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
    if (description.length < 1 || description.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
    return { command, description };
  });
}
