import type { ExecRequest, ExecResult, Executor, ExecutorProbe } from '@alter0/core';
import { ExecutorError } from '@alter0/core';

/**
 * An executor that answers every call with a recorded model output, for replaying regression
 * cases without a model. A case without `model_output` that still reaches the model is a broken
 * case, so the call fails with ExecutorError('exit'), which the router/closer record as an executor error.
 */
export function replayExecutor(modelOutput: string | null | undefined): Executor {
  return {
    kind: 'command',
    run(req: ExecRequest): Promise<ExecResult> {
      if (req.signal.aborted) return Promise.reject(req.signal.reason);
      if (modelOutput === undefined || modelOutput === null) {
        return Promise.reject(
          new ExecutorError(
            'exit',
            `replay: the case has no model_output but the ${req.stage} stage called the model; add model_output to the case`,
          ),
        );
      }
      return Promise.resolve({
        text: modelOutput,
        sessionId: null,
        usage: null,
        durationMs: 0,
        stderrTail: '',
        pid: null,
      });
    },
    probe(): Promise<ExecutorProbe> {
      return Promise.resolve({ kind: 'command', ok: true, path: null, version: 'replay', error: null });
    },
  };
}
