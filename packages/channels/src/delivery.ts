import { Alter0Error } from '@alter0/core';
import type { Delivery } from './notice.js';

/** A delivery that failed; `retryAfterMs` when the receiver said how long to wait. */
export class DeliveryError extends Alter0Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super('delivery_failed', message);
  }
}

/** A channel's way of delivering a notice. Throws DeliveryError (or anything) when it did not arrive. */
export interface Deliverer {
  deliver(d: Delivery, progressed: (parts: number) => void, signal: AbortSignal): Promise<void>;
}
