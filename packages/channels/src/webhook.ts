import { fetchFailure } from './net-error.js';
import type { Deliverer } from './delivery.js';
import { DeliveryError } from './delivery.js';
import type { Delivery, JobNotice } from './notice.js';
import { noticeLine } from './notice.js';

export interface WebhookOptions {
  /** Per request. */
  timeoutMs: number;
  /** Targets that get a plain-text line (ntfy-style) instead of JSON. */
  textUrls: ReadonlySet<string>;
  userAgent: string;
}

/**
 * POSTs a job's end to a URL: JSON `{event, job_id, task_id, state, reply_excerpt, error, dedup_key}`, or one text
 * line for text targets. The dedup key also goes as the `Idempotency-Key` header, so a receiver can drop a repeat
 * (delivery is at least once). Any 2xx is delivered; 429 and 503 with Retry-After are waited out as asked.
 */
export class WebhookDeliverer implements Deliverer {
  constructor(private readonly o: WebhookOptions) {}

  async deliver(d: Delivery, _progressed: (parts: number) => void, signal: AbortSignal): Promise<void> {
    const notice = d.payload as JobNotice;
    const text = this.o.textUrls.has(d.target);
    const body = text ? noticeLine(notice) : JSON.stringify({ ...notice, dedup_key: d.dedupKey });
    let res: Response;
    try {
      res = await fetch(d.target, {
        method: 'POST',
        headers: {
          'content-type': text ? 'text/plain; charset=utf-8' : 'application/json',
          'idempotency-key': d.dedupKey,
          'user-agent': this.o.userAgent,
          ...(text ? { title: `alter0: ${notice.event}` } : {}),
        },
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.timeoutMs)]),
        redirect: 'error',
      });
    } catch (err) {
      const why =
        err instanceof Error && err.name === 'TimeoutError' ? `no answer in ${this.o.timeoutMs} ms` : fetchFailure(err);
      throw new DeliveryError(`webhook ${where(d.target)} could not be reached: ${why}`);
    }
    // The body is not needed; reading it frees the connection.
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return;
    throw new DeliveryError(
      `webhook ${where(d.target)} answered ${res.status} ${res.statusText}`.trimEnd(),
      retryAfterMs(res.headers.get('retry-after')),
    );
  }
}

/** The receiver without path or query: both may carry a secret (an ntfy topic, a key). */
function where(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(bad URL)';
  }
}

function retryAfterMs(h: string | null): number | null {
  if (h === null) return null;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
