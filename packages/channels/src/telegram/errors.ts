import { GrammyError, HttpError } from 'grammy/web';
import { errorMessage } from '@alter0/core';
import { ChannelDownError, ChannelFaultError } from '../channel.js';
import { DeliveryError } from '../delivery.js';
import { fetchFailure } from '../net-error.js';

/** A 429's wait, when Telegram said one. */
export function retryAfterMs(err: unknown): number | null {
  if (err instanceof GrammyError && err.error_code === 429) {
    const s = err.parameters.retry_after;
    return typeof s === 'number' && s >= 0 ? s * 1000 : 1000;
  }
  return null;
}

/** Telegram answered 409 because a webhook is set: long polling needs it removed. */
export function isWebhookConflict(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 409 && /webhook/i.test(err.description);
}

/**
 * What a failed Bot API call means for the channel, in the owner's words: a refused token needs the owner (down);
 * everything else passes by itself (degraded, restarted with backoff).
 */
export function channelErrorOf(err: unknown, where: { tokenFile: string; apiUrl: string }): Error {
  if (err instanceof GrammyError) {
    const said = `${err.error_code}: ${err.description}`;
    if (err.error_code === 401 || err.error_code === 404) {
      return new ChannelDownError(
        `Telegram refused the bot token (${said}): it was revoked or is wrong. Get the token from @BotFather (/token), write it to ${where.tokenFile} (mode 0600); alter0 tries again by itself`,
      );
    }
    if (err.error_code === 409) {
      return new ChannelFaultError(
        `another program is reading this bot's updates with the same token (${said}). Stop the other bot process, or give alter0 a bot of its own`,
      );
    }
    if (err.error_code === 429)
      return new ChannelFaultError(`Telegram rate-limits the bot (${said})`, retryAfterMs(err));
    return new ChannelFaultError(`Telegram answered ${said}`);
  }
  if (err instanceof HttpError) {
    return new ChannelFaultError(`cannot reach Telegram at ${where.apiUrl}: ${fetchFailure(err.error)}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** The same for a delivery: what failed, and how long Telegram asked to wait. */
export function deliveryErrorOf(err: unknown, where: { tokenFile: string; apiUrl: string }): DeliveryError {
  const asChannel = channelErrorOf(err, where);
  return new DeliveryError(errorMessage(asChannel), retryAfterMs(err));
}
