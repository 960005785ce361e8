export type { ChannelSnapshot, ChannelState, RunContext, SupervisedChannel } from './channel.js';
export { ChannelDownError, ChannelFaultError } from './channel.js';
export { ChannelSupervisor } from './supervisor.js';
export type { ChannelTransition, SupervisorOptions } from './supervisor.js';
export type { ChatNotice, Delivery, JobNotice } from './notice.js';
export { noticeLine } from './notice.js';
export type { Deliverer } from './delivery.js';
export { DeliveryError } from './delivery.js';
export { OutboxDispatcher } from './dispatcher.js';
export type { DispatcherOptions, OutboxPort } from './dispatcher.js';
export { WebhookDeliverer } from './webhook.js';
export type { WebhookOptions } from './webhook.js';
export { splitText, TELEGRAM_MAX_CHARS } from './split.js';
export { TelegramChannel } from './telegram/channel.js';
export type { TelegramOptions } from './telegram/channel.js';
export type {
  AcceptAnswer,
  ApprovalAction,
  ApprovalPress,
  ApprovalQuestion,
  IncomingText,
  TelegramHost,
} from './telegram/host.js';
