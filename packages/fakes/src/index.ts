export type { Behaviour, StreamErrorType } from './behaviour.js';
export {
  reply,
  httpError,
  rateLimited,
  serverError,
  overloaded,
  unauthorized,
  badRequest,
  malformed,
  truncated,
  streamError,
  hang,
  toolCall,
} from './behaviour.js';
export type { ModelFake, RecordedRequest } from './server.js';
export { startAnthropicFake } from './anthropic.js';
export { startOpenAIFake } from './openai.js';
export type {
  ButtonPressInput,
  ChatType,
  TelegramCallbackAnswer,
  TelegramChatAction,
  TelegramCommand,
  TelegramEdit,
  TelegramFake,
  TelegramFault,
  TelegramMessage,
  TelegramRequest,
  TgCallbackQuery,
  TgChat,
  TgEntity,
  TgMessage,
  TgUpdate,
  TgUser,
  UserMessageInput,
  WaitOptions,
} from './telegram-types.js';
export { startTelegramFake, DEFAULT_TELEGRAM_TOKEN } from './telegram.js';
export type { CliName } from './cli.js';
export { cliPath, binDir, missingCliMessage, PINNED_PACKAGES } from './cli.js';
export type {
  ClaudeDaemon,
  ClaudeDaemonOptions,
  ClaudeEnvOptions,
  CodexConfigOptions,
  CodexEnvOptions,
  TempHome,
} from './env.js';
export {
  childPath,
  claudeDaemonOptions,
  claudeEnv,
  codexEnv,
  codexConfigToml,
  writeCodexConfig,
  makeTempHome,
  CODEX_PROVIDER_ID,
  CODEX_ENV_KEY,
} from './env.js';
export type { RunOptions, RunResult } from './run.js';
export { runCli } from './run.js';
