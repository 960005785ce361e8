import type { ErrorClass, ExecRequest, Executor } from '@alter0/core';
import { ExecutorError, clampTimerMs, errorMessage } from '@alter0/core';

export type ModelCallResult =
  | { ok: true; text: string }
  | { ok: false; fallback: 'timeout' | 'executor_error'; errorClass: ErrorClass; detail: string };

/** Raw model output is stored for diagnosis, capped so one runaway reply cannot bloat the database. */
export const RAW_OUTPUT_MAX_BYTES = 4096;

class DeadlineExceeded extends Error {}

/**
 * Runs one executor call under our own deadline as well as the executor's: an adapter that ignores
 * its `timeoutMs` or signal still cannot hold a routing/closing decision hostage.
 * Failures come back as values; only an abort of the caller's `signal` is rethrown.
 */
export async function callModel(
  executor: Executor,
  req: Omit<ExecRequest, 'signal' | 'timeoutMs'>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ModelCallResult> {
  signal.throwIfAborted();
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new DeadlineExceeded(`no answer within ${timeoutMs} ms`)),
    clampTimerMs(timeoutMs),
  );
  const combined = AbortSignal.any([signal, deadline.signal]);
  let onAbort: (() => void) | undefined;
  try {
    const run = executor.run({ ...req, timeoutMs, signal: combined });
    // If the deadline wins the race, a later rejection of `run` must not go unhandled.
    run.catch(() => undefined);
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(combined.reason);
      if (combined.aborted) onAbort();
      else combined.addEventListener('abort', onAbort, { once: true });
    });
    const result = await Promise.race([run, aborted]);
    if (typeof result.text !== 'string') {
      return {
        ok: false,
        fallback: 'executor_error',
        errorClass: 'bad_output',
        detail: 'executor returned no reply text',
      };
    }
    return { ok: true, text: result.text };
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (deadline.signal.aborted) {
      return {
        ok: false,
        fallback: 'timeout',
        errorClass: 'timeout',
        detail: `model call timed out after ${timeoutMs} ms`,
      };
    }
    if (err instanceof ExecutorError) {
      return {
        ok: false,
        fallback: err.errorClass === 'timeout' ? 'timeout' : 'executor_error',
        errorClass: err.errorClass,
        detail: err.message,
      };
    }
    return {
      ok: false,
      fallback: 'executor_error',
      errorClass: 'internal',
      detail: `executor failed unexpectedly: ${errorMessage(err)}`,
    };
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) combined.removeEventListener('abort', onAbort);
  }
}
