import type { ChatStore } from './telegram-chats.js';
import type { FaultScript } from './telegram-faults.js';
import type { UpdateQueue } from './telegram-updates.js';
import type { Waiters } from './telegram-wait.js';
import type {
  TelegramCallbackAnswer,
  TelegramChatAction,
  TelegramCommand,
  TelegramRequest,
  TgUser,
} from './telegram-types.js';

/** Everything one Telegram fake keeps; it survives down()/up(). */
export interface TelegramState {
  token: string;
  bot: TgUser & { username: string };
  revoked: boolean;
  chats: ChatStore;
  updates: UpdateQueue;
  faults: FaultScript;
  waiters: Waiters;
  requests: TelegramRequest[];
  seq: number;
  chatActions: TelegramChatAction[];
  commands: TelegramCommand[];
  callbackAnswers: TelegramCallbackAnswer[];
  /** callback_query ids handed out, and whether the bot answered each (a second answer is refused). */
  callbackQueries: Map<string, boolean>;
  nextCallbackId: number;
}
