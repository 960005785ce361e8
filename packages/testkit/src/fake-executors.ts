import type { ErrorClass, ExecRequest, ExecResult, Executor, ExecutorProbe } from '@alter0/core';
import { ExecutorError } from '@alter0/core';

/** Test doubles for the Executor interface; every call is recorded in `calls`. */
export interface FakeExecutor extends Executor {
  calls: ExecRequest[];
}

function fake(run: (req: ExecRequest) => Promise<ExecResult>): FakeExecutor {
  const calls: ExecRequest[] = [];
  return {
    kind: 'command',
    calls,
    run(req) {
      calls.push(req);
      return run(req);
    },
    probe(): Promise<ExecutorProbe> {
      return Promise.resolve({ kind: 'command', ok: true, path: null, version: 'fake', error: null });
    },
  };
}

function result(text: string): ExecResult {
  return { text, sessionId: null, usage: null, durationMs: 1, stderrTail: '', pid: null };
}

export function replying(text: string): FakeExecutor {
  return fake(() => Promise.resolve(result(text)));
}

export function failing(errorClass: ErrorClass): FakeExecutor {
  return fake(() => Promise.reject(new ExecutorError(errorClass, `fake ${errorClass} failure`)));
}

export function throwingPlain(): FakeExecutor {
  return fake(() => Promise.reject(new TypeError('boom')));
}

/** Answers after `ms` unless the request signal aborts first (a well-behaved adapter). */
export function slow(ms: number, text: string): FakeExecutor {
  return fake(
    (req) =>
      new Promise<ExecResult>((resolve, reject) => {
        const timer = setTimeout(() => resolve(result(text)), ms);
        req.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            reject(new ExecutorError('canceled', 'fake run canceled'));
          },
          { once: true },
        );
      }),
  );
}

/**
 * Ignores its signal and timeout and answers after `ms` (a badly behaved adapter). The timer is
 * unref'd so an abandoned call never holds the test process open.
 */
export function deaf(ms: number, text: string): FakeExecutor {
  return fake(() => new Promise<ExecResult>((resolve) => setTimeout(() => resolve(result(text)), ms).unref()));
}
