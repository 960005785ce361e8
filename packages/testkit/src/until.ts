import { setTimeout as sleep } from 'node:timers/promises';

type Falsy = false | 0 | '' | null | undefined;

/** Subscribes `notify` to something that may make the condition true (e.g. a log line); returns the unsubscribe. */
export type Wake = (notify: () => void) => () => void;

export interface UntilOptions {
  /** Bound on the whole wait (default 30 s: a job through a Node agent spawns Node two or three times). */
  timeoutMs?: number;
  /** How often to check when nothing wakes the wait (default 50 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
  /** More context for the timeout message, read when the wait fails (e.g. a log tail). */
  detail?: () => string;
  /** Checks again as soon as this fires, not only every `intervalMs`. */
  wake?: Wake;
  signal?: AbortSignal;
}

export const DEFAULT_UNTIL_MS = 30_000;

export class UntilTimeoutError extends Error {
  override readonly name = 'UntilTimeoutError';
}

/**
 * Calls `fn` until it returns a truthy value and resolves with it; throws UntilTimeoutError after `timeoutMs`,
 * naming `what`. The one poll helper of the tests and the tooling harnesses.
 */
export async function until<T>(fn: () => T | PromiseLike<T>, opts: UntilOptions = {}): Promise<Exclude<T, Falsy>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_UNTIL_MS;
  const intervalMs = opts.intervalMs ?? 50;
  const end = performance.now() + timeoutMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    const v = await fn();
    if (v) return v as Exclude<T, Falsy>;
    const left = end - performance.now();
    if (left <= 0) {
      const detail = opts.detail?.();
      throw new UntilTimeoutError(
        `timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${detail ? `; ${detail}` : ''}`,
      );
    }
    await pause(Math.min(intervalMs, left), opts.wake, opts.signal);
  }
}

/** Sleeps `ms`, or less when `wake` fires first. */
async function pause(ms: number, wake: Wake | undefined, signal: AbortSignal | undefined): Promise<void> {
  if (wake === undefined) {
    await sleep(ms, undefined, { signal });
    return;
  }
  const ctl = new AbortController();
  const off = wake(() => ctl.abort());
  try {
    await sleep(ms, undefined, { signal: signal === undefined ? ctl.signal : AbortSignal.any([signal, ctl.signal]) });
  } catch (err) {
    signal?.throwIfAborted();
    if (!ctl.signal.aborted) throw err;
  } finally {
    off();
  }
}

/** Waits until `text()` matches `pattern` and resolves with the text; the failure carries the text's tail. */
export async function untilText(
  text: () => string,
  pattern: RegExp | string,
  opts: UntilOptions = {},
): Promise<string> {
  const matches = (t: string): boolean => (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t));
  return until(
    () => {
      const t = text();
      return matches(t) ? t : null;
    },
    { what: String(pattern), ...opts, detail: () => `the text so far ends with:\n${text().slice(-3000)}` },
  );
}
