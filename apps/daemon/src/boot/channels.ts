import type { Config } from '@alter0/config';
import { parseDuration, readBotTokenFile } from '@alter0/config';
import type { Deliverer, Delivery } from '@alter0/channels';
import { ChannelSupervisor, OutboxDispatcher, TelegramChannel, WebhookDeliverer } from '@alter0/channels';
import type { ChannelTransition } from '@alter0/channels';
import { errorMessage } from '@alter0/core';
import type { Store, OutboxRow } from '@alter0/store';
import type { Logger, Metrics } from '@alter0/obs';
import type { Bus } from '../bus.js';
import { Announcer } from '../channels/announce.js';
import type { TelegramHostDeps } from '../channels/telegram-host.js';
import { telegramHost } from '../channels/telegram-host.js';
import { approvalQuestions } from '../channels/telegram-approvals.js';

/** One getUpdates long poll waits this long for an update (Telegram allows 50); a stop aborts it at once. */
const TELEGRAM_POLL_S = 25;

export interface Channels {
  supervisor: ChannelSupervisor;
  /** Look at once whether this job ended and needs announcing. */
  announce(jobId: string): void;
  start(): void;
  stop(): Promise<void>;
}

export interface ChannelDeps {
  store: Store;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  version: string;
  /** What the Telegram channel needs beyond these (intake, job actions, status); null: built lazily by the caller. */
  telegram: Omit<TelegramHostDeps, 'store' | 'logger' | 'refused' | 'now' | 'bus'>;
}

/**
 * The channels (invariant: a failing channel never takes the daemon or another one down): http (the listener,
 * reported on), telegram (when enabled, run and restarted by the supervisor), webhook (outbound only), the outbox
 * dispatcher that delivers notices through them, and the announcer that queues a job's notices when it ends.
 */
export function buildChannels(config: Config, d: ChannelDeps): Channels {
  const log = d.logger.child({ component: 'gateway' });
  const supervisor = new ChannelSupervisor({
    retryInitialMs: parseDuration(config.channels.retry_initial),
    retryMaxMs: parseDuration(config.channels.retry_max),
    now: d.now,
    onTransition: (t) => recordTransition(d, log, t),
    onRestart: (name) => d.metrics.channelRestarted(name),
  });
  supervisor.add({ name: 'http' });
  const deliverers = new Map<string, Deliverer>();
  const webhookUrls = [...config.notify.webhook_urls, ...config.notify.text_urls];
  if (webhookUrls.length > 0) {
    supervisor.add({ name: 'webhook' });
    deliverers.set(
      'webhook',
      new WebhookDeliverer({
        timeoutMs: config.notify.timeout_s * 1000,
        textUrls: new Set(config.notify.text_urls),
        userAgent: `alter0/${d.version}`,
      }),
    );
  }
  const telegram = config.telegram.enabled ? telegramChannel(config, d, log) : null;
  if (telegram) {
    supervisor.add(telegram);
    deliverers.set('telegram', telegram);
  }
  // Pending approvals are asked in Telegram, and their questions show how they were decided.
  const approvalChanged = telegram
    ? approvalQuestions({ ...d, allowedChatIds: config.telegram.allowed_chat_ids, channel: telegram })
    : null;
  const dispatcher = dispatcherFor(config, d, supervisor, deliverers, log);
  const announcer = new Announcer({
    store: d.store,
    targets: {
      webhookUrls,
      telegram: config.telegram.enabled,
      ownerChats: config.telegram.enabled ? config.telegram.allowed_chat_ids.map(String) : [],
    },
    logger: log,
    now: d.now,
    queued: () => dispatcher.kick(),
  });
  let unsubscribe: (() => void) | null = null;
  return {
    supervisor,
    announce: (id) => announcer.check(id),
    start: () => {
      for (const c of supervisor.snapshot()) d.metrics.channelState(c.name, c.state);
      unsubscribe = d.bus.subscribe((e) => {
        if (e.type === 'job') announcer.check(e.id);
        if (e.type === 'approval') approvalChanged?.(e.id);
      });
      announcer.start();
      dispatcher.start();
      supervisor.start();
    },
    stop: async () => {
      unsubscribe?.();
      announcer.stop();
      await Promise.all([supervisor.stop(), dispatcher.stop()]);
    },
  };
}

function telegramChannel(config: Config, d: ChannelDeps, log: Logger): TelegramChannel {
  const t = config.telegram;
  const host = telegramHost({
    ...d.telegram,
    store: d.store,
    bus: d.bus,
    logger: d.logger,
    now: d.now,
    refused: (chatId, from) => refusedChat(d, log, chatId, from),
  });
  return new TelegramChannel({
    readToken: () => readBotTokenFile(t.token_file),
    tokenFile: t.token_file,
    apiUrl: t.api_url,
    allowedChatIds: new Set(t.allowed_chat_ids),
    pollTimeoutS: TELEGRAM_POLL_S,
    host,
  });
}

function dispatcherFor(
  config: Config,
  d: ChannelDeps,
  supervisor: ChannelSupervisor,
  deliverers: ReadonlyMap<string, Deliverer>,
  log: Logger,
): OutboxDispatcher {
  const { store } = d;
  return new OutboxDispatcher({
    outbox: {
      due: (now, limit, horizonMs) => store.outbox.due(now, limit, horizonMs).map(deliveryOf),
      nextDueAt: () => store.outbox.nextDueAt(),
      progressed: (id, parts) => store.outbox.progressed(id, parts),
      sent: (id, now) => store.outbox.sent(id, now),
      failed: (id, p) => store.outbox.failed(id, p),
    },
    deliverers,
    maxAttempts: config.notify.max_attempts,
    retryInitialMs: parseDuration(config.notify.retry_initial),
    retryMaxMs: parseDuration(config.notify.retry_max),
    now: d.now,
    onSent: (n) => {
      d.metrics.noticeDelivery(n.channel, 'sent');
      supervisor.report(n.channel, 'ok');
      log
        .child({ job_id: jobOf(n) })
        .info('notice delivered', { notice_id: n.id, to: n.channel, event: n.event, attempt: n.attempts + 1 });
    },
    onFailed: (n, error, givenUp, retryAt) => {
      d.metrics.noticeDelivery(n.channel, givenUp ? 'given_up' : 'failed');
      supervisor.report(n.channel, 'degraded', `a notice could not be delivered: ${error}`);
      if (!givenUp) {
        log
          .child({ job_id: jobOf(n) })
          .warn('notice not delivered; retrying', { notice_id: n.id, to: n.channel, err: error, retry_at: retryAt });
        return;
      }
      log.child({ job_id: jobOf(n) }).error('notice given up', { notice_id: n.id, to: n.channel, err: error });
      // Throws when the database refuses it: the dispatcher logs that, and the log line above has the rest.
      d.store.events.add({
        component: 'gateway',
        level: 'error',
        kind: 'notice_given_up',
        message: `a ${n.event} notice to ${n.channel} was given up after ${n.attempts + 1} attempts: ${error}`,
        details: { notice_id: n.id, channel: n.channel, dedup_key: n.dedupKey },
        now: d.now(),
      });
    },
    onError: (err) => log.warn('the outbox could not be read or written; trying again', { err: errorMessage(err) }),
  });
}

/** The job a notice is about (every notice today is a job's end). */
function jobOf(n: Delivery): string | null {
  const p = n.payload as { job_id?: unknown };
  return typeof p.job_id === 'string' ? p.job_id : null;
}

function deliveryOf(r: OutboxRow): Delivery {
  return {
    id: r.id,
    channel: r.channel,
    target: r.target,
    event: r.event,
    dedupKey: r.dedupKey,
    payload: JSON.parse(r.payloadJson) as unknown,
    attempts: r.attempts,
    progress: r.progress,
  };
}

/** Every change of a channel's state: one log line, one event, the metric. */
function recordTransition(d: ChannelDeps, log: Logger, t: ChannelTransition): void {
  d.metrics.channelState(t.channel, t.to);
  const retry = t.retryAt === null ? '' : `; trying again at ${new Date(t.retryAt).toISOString()}`;
  const message =
    t.to === 'ok'
      ? `channel ${t.channel} is ok (was ${t.from})`
      : `channel ${t.channel} is ${t.to}: ${t.error ?? ''}${retry}`;
  const level = t.to === 'ok' ? 'info' : t.to === 'down' ? 'error' : 'warn';
  log.child({ channel_id: t.channel })[level](message, { from: t.from, to: t.to, restarts: t.restarts });
  try {
    d.store.events.add({
      component: 'gateway',
      level,
      kind: `channel_${t.to}`,
      message,
      details: {
        channel: t.channel,
        from: t.from,
        to: t.to,
        error: t.error,
        retry_at: t.retryAt,
        restarts: t.restarts,
      },
      now: d.now(),
    });
  } catch {
    // the log line has it
  }
}

function refusedChat(d: ChannelDeps, log: Logger, chatId: number, from: string): void {
  const message = `ignored a Telegram message from chat ${chatId} (${from}): it is not in telegram.allowed_chat_ids; add it there if it is yours`;
  log.child({ channel_id: 'telegram' }).warn(message, { chat_id: chatId });
  try {
    d.store.events.add({
      component: 'gateway',
      level: 'warn',
      kind: 'chat_refused',
      message,
      details: { chat_id: chatId },
      now: d.now(),
    });
  } catch {
    // the log line has it
  }
}
