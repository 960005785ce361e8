import { ExecutorError } from '@alter0/core';

/**
 * The CLI has no session/thread with the id the task stored (deleted, or from another machine or
 * CLI home). Retrying cannot help; the owner of the task must drop its session id to start fresh.
 * Class `exit` (not retryable); callers can test `instanceof` to offer or do exactly that.
 */
export class SessionNotFoundError extends ExecutorError {
  readonly sessionId: string;
  constructor(label: string, sessionId: string, detail: string, stderrTail: string, exitCode: number | null) {
    super(
      'exit',
      `${label} has no session ${sessionId} to resume (${detail}); the task's agent context is gone there: clear the task's session to start a new one`,
      { stderrTail, exitCode },
    );
    this.sessionId = sessionId;
  }
}
