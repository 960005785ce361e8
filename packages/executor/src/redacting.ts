import type { ExecRequest, ExecResult, Executor, ExecutorProbe } from '@alter0/core';
import { ExecutorError } from '@alter0/core';

/**
 * An executor whose output to alter0 passes through `redact`: the stderr tail of every result and error, error
 * messages (they quote stderr and the CLI's own error text), and probe errors. An agent that prints a configured
 * secret (an `executor.env` value, the API token) does not get it into the database, the API or the log. The reply
 * itself is the agent's answer and is left as it is.
 */
export function redacting(inner: Executor, redact: (text: string) => string): Executor {
  return {
    kind: inner.kind,
    async run(req: ExecRequest): Promise<ExecResult> {
      let res: ExecResult;
      try {
        res = await inner.run(req);
      } catch (err) {
        throw err instanceof ExecutorError ? redactError(err, redact) : err;
      }
      return { ...res, stderrTail: redact(res.stderrTail) };
    },
    async probe(signal: AbortSignal): Promise<ExecutorProbe> {
      const p = await inner.probe(signal);
      return p.error === null ? p : { ...p, error: redact(p.error) };
    },
  };
}

/**
 * Redacts the error in place: its class (SessionNotFoundError, …) and extra fields stay what callers test for.
 * `stderrTail` is readonly to callers, not to the one place that cleans it.
 */
function redactError(err: ExecutorError, redact: (text: string) => string): ExecutorError {
  err.message = redact(err.message);
  (err as { stderrTail: string }).stderrTail = redact(err.stderrTail);
  if (err.stack !== undefined) err.stack = redact(err.stack);
  return err;
}
