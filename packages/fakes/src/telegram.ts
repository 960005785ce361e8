import { ChatStore } from './telegram-chats.js';
import type { Listener } from './telegram-exchange.js';
import { listenLoopback, serveRequest } from './telegram-exchange.js';
import { FaultScript } from './telegram-faults.js';
import type { TelegramState } from './telegram-state.js';
import type { ButtonPressInput, TelegramFake, TelegramRequest, UserMessageInput } from './telegram-types.js';
import { UpdateQueue } from './telegram-updates.js';
import { Waiters } from './telegram-wait.js';

export const DEFAULT_TELEGRAM_TOKEN = '123456:TEST-token-abcdefghijklmnopqrstuvwxyz';

/**
 * A fake Telegram Bot API server on 127.0.0.1: `POST ${url}/bot${token}/${method}` answered with Telegram's
 * envelope, long polling with getUpdates, the sendMessage/editMessageText checks that bite real bots, and
 * scripted faults. Point grammY at it with `new Api(fake.token, { apiRoot: fake.url })`.
 */
export async function startTelegramFake(opts: { token?: string; port?: number } = {}): Promise<TelegramFake> {
  const state = createState(opts.token ?? DEFAULT_TELEGRAM_TOKEN);
  const onRequest = serveRequest.bind(null, state);
  let listener: Listener | null = await listenLoopback(opts.port ?? 0, onRequest);
  const port = listener.port;
  let closing: Promise<void> | null = null;

  const down = async (): Promise<void> => {
    const current = listener;
    listener = null;
    await current?.stop();
    state.updates.dropHeld();
  };
  const up = async (): Promise<void> => {
    if (closing) throw new Error('telegram fake: up() after close()');
    listener ??= await listenLoopback(port, onRequest);
  };
  const close = (): Promise<void> =>
    (closing ??= down().then(() => {
      state.waiters.close();
    }));

  const { bot, chats, updates } = state;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    token: state.token,
    bot: { id: bot.id, username: bot.username, first_name: bot.first_name },
    requests: state.requests,
    revoke: () => {
      state.revoked = true;
    },
    restore: () => {
      state.revoked = false;
    },
    sendUserMessage: (m) => sendUserMessage(state, m),
    pressButton: (b) => pressButton(state, b),
    confirmedOffset: () => updates.confirmedOffset(),
    pendingUpdates: () => updates.pending(),
    sent: (chatId) => chats.sent(chatId),
    edits: (chatId) => chats.edits(chatId),
    chatActions: (chatId) => state.chatActions.filter((a) => chatId === undefined || a.chatId === chatId),
    commands: () => [...state.commands],
    callbackAnswers: () => [...state.callbackAnswers],
    waitFor: (probe, waitOpts) => state.waiters.wait(probe, waitOpts),
    fault: (f, faultOpts) => state.faults.add(f, faultOpts),
    down,
    up,
    close,
  };
}

function createState(token: string): TelegramState {
  const prefix = Number(token.split(':')[0]);
  const bot = {
    id: Number.isSafeInteger(prefix) && prefix > 0 ? prefix : 123456,
    is_bot: true,
    first_name: 'alter0 test bot',
    username: 'alter0_test_bot',
  };
  const requests: TelegramRequest[] = [];
  return {
    token,
    bot,
    revoked: false,
    chats: new ChatStore(bot),
    updates: new UpdateQueue(),
    faults: new FaultScript(),
    waiters: new Waiters(requests),
    requests,
    seq: 0,
    chatActions: [],
    commands: [],
    callbackAnswers: [],
    callbackQueries: new Map(),
    // Real callback query ids are long decimal strings.
    nextCallbackId: 1_234_567_890_000_001,
  };
}

function sendUserMessage(state: TelegramState, m: UserMessageInput): { updateId: number; messageId: number } {
  const message = state.chats.addUserMessage(m);
  const updateId = state.updates.push({ message });
  state.waiters.notify();
  return { updateId, messageId: message.message_id };
}

function pressButton(state: TelegramState, b: ButtonPressInput): { updateId: number; callbackQueryId: string } {
  const message = state.chats.botMessage(b.chatId, b.messageId);
  if (!message) throw new Error(`pressButton: chat ${b.chatId} has no message ${b.messageId} of the bot`);
  const callbackQueryId = String(state.nextCallbackId++);
  state.callbackQueries.set(callbackQueryId, false);
  const updateId = state.updates.push({
    callback_query: {
      id: callbackQueryId,
      from: state.chats.user(b.userId ?? b.chatId),
      message,
      // Stable per chat, like Telegram's.
      chat_instance: String(8_000_000_000_000 + b.chatId),
      data: b.data,
    },
  });
  state.waiters.notify();
  return { updateId, callbackQueryId };
}
