import type { ServerResponse } from 'node:http';
import { pause } from './server.js';
import type { TelegramApiError } from './telegram-errors.js';
import { conflict, rateLimited, serverError, serverErrorHtml, unauthorized } from './telegram-errors.js';
import type { TelegramFault } from './telegram-types.js';

interface Scripted {
  fault: TelegramFault;
  /** Lower-cased: Telegram's method names are case-insensitive. */
  method: string | null;
  remaining: number;
}

/** The faults scripted with fault(), taken in order by the requests they match. */
export class FaultScript {
  private readonly queue: Scripted[] = [];

  add(fault: TelegramFault, opts: { method?: string; times?: number } = {}): void {
    const times = opts.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new Error(`fault: times must be a positive integer, got ${times}`);
    this.queue.push({ fault, method: opts.method?.toLowerCase() ?? null, remaining: times });
  }

  /** The first scripted fault that matches `method`, used up once. */
  take(method: string): TelegramFault | undefined {
    const lower = method.toLowerCase();
    const index = this.queue.findIndex((s) => s.method === null || s.method === lower);
    const scripted = this.queue[index];
    if (!scripted) return undefined;
    if (--scripted.remaining === 0) this.queue.splice(index, 1);
    return scripted.fault;
  }
}

/** What a fault does to its request: answered (with this status), cut, or let through after a delay. */
export type FaultOutcome =
  | { kind: 'error'; error: TelegramApiError }
  | { kind: 'html'; status: number; body: string }
  | { kind: 'reset' }
  | { kind: 'proceed' }
  | { kind: 'gone' };

export async function applyFault(fault: TelegramFault, signal: AbortSignal): Promise<FaultOutcome> {
  switch (fault.kind) {
    case 'rate_limit':
      return { kind: 'error', error: rateLimited(fault.retryAfter) };
    case 'conflict':
      return { kind: 'error', error: conflict() };
    case 'unauthorized':
      return { kind: 'error', error: unauthorized() };
    case 'server_error': {
      const status = fault.status ?? 502;
      return fault.html
        ? { kind: 'html', status, body: serverErrorHtml(status) }
        : { kind: 'error', error: serverError(status) };
    }
    case 'reset':
      return { kind: 'reset' };
    case 'slow':
      return (await pause(fault.ms, signal)) ? { kind: 'proceed' } : { kind: 'gone' };
  }
}

export function sendHtml(res: ServerResponse, status: number, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/html', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}
