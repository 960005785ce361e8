import type { TelegramRequest, WaitOptions } from './telegram-types.js';

const POLL_MS = 25;

/** The waitFor() calls in progress: each re-checks its probe whenever the fake has handled something. */
export class Waiters {
  private readonly checks = new Set<() => void>();
  private closed = false;

  constructor(private readonly requests: readonly TelegramRequest[]) {}

  notify(): void {
    for (const check of [...this.checks]) check();
  }

  /** The fake closed: every waiter fails now instead of at its timeout. */
  close(): void {
    this.closed = true;
    this.notify();
  }

  wait<T>(probe: () => T | undefined | null | false, opts: WaitOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const { signal } = opts;
    return new Promise<T>((resolve, reject) => {
      const finish = (err: Error | null, value?: T): void => {
        clearTimeout(timer);
        clearInterval(interval);
        this.checks.delete(check);
        signal?.removeEventListener('abort', onAbort);
        if (err === null) resolve(value as T);
        else reject(err);
      };
      const check = (): void => {
        try {
          const value = probe();
          if (value) finish(null, value);
          else if (this.closed) finish(new Error(`telegram fake closed while waiting for ${this.describe(probe)}`));
        } catch (err) {
          finish(err instanceof Error ? err : new Error(String(err)));
        }
      };
      const onAbort = (): void =>
        finish(signal?.reason instanceof Error ? signal.reason : new Error('waitFor aborted'));
      const timer = setTimeout(
        () => finish(new Error(`waitFor timed out after ${timeoutMs} ms waiting for ${this.describe(probe)}`)),
        timeoutMs,
      );
      const interval = setInterval(check, POLL_MS);
      this.checks.add(check);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  /** The probe's source and the last requests, so a timeout says what was expected and what happened. */
  private describe(probe: () => unknown): string {
    const source = probe.toString().replace(/\s+/g, ' ').slice(0, 200);
    const last = this.requests.slice(-8).map(describeRequest);
    return `${source}; last requests: ${last.length > 0 ? last.join(', ') : 'none'}`;
  }
}

function describeRequest(r: TelegramRequest): string {
  const params = JSON.stringify(r.params);
  const shown = params.length > 80 ? `${params.slice(0, 77)}...` : params;
  return `#${r.seq} ${r.method || '(no method)'} ${shown} → ${r.status || 'pending'}${r.fault ? ` (${r.fault})` : ''}`;
}
