import { setTimeout as sleep } from 'node:timers/promises';
import { summarize } from '@alter0/closing';
import type { TaskRow } from '@alter0/store';
import type { Logger } from '@alter0/obs';
import type { Executed } from './execute.js';
import type { JobRun, PipelineDeps, Step } from './run.js';
import { failed } from './run.js';

const WRITE_RETRY_DELAYS_MS = [1000, 3000, 10_000];

/**
 * Stores the reply, the task's session and summary and the job's reply pointer in one commit (the sync answer is
 * released here): from then on the job has answered (invariant 9).
 */
export async function storeReplyStage(
  deps: PipelineDeps,
  run: JobRun,
  task: TaskRow,
  executed: Executed,
  xlog: Logger,
): Promise<Step<void>> {
  const { store } = deps;
  const { job, fence, message } = run;
  const { reply, executeMs } = executed;
  // The agent's turn is done and cannot be undone: a database that refuses the reply for a moment (another
  // process's write lock, a full disk) gets a few more chances before the turn is given up and the job goes back
  // to the queue (createPipeline), to run again once the database takes writes.
  const stored = await withWriteRetries(deps.writeRetryDelaysMs ?? WRITE_RETRY_DELAYS_MS, run.signal, xlog, () =>
    store.jobs.storeReply(fence, {
      taskId: task.id,
      content: reply.text,
      sessionId: reply.sessionId ?? task.sessionId,
      summary: summarize(task.summary, message.content, reply.text),
      usageJson: reply.usage ? JSON.stringify(reply.usage) : null,
      denialsJson: reply.denials ? JSON.stringify(reply.denials) : null,
      executeMs,
      channelId: job.channelId,
      userId: job.userId,
      // The sync answer is released below and reports the stage: a job with a closer still to run is in `close`.
      nextStage: deps.closer ? 'close' : undefined,
      now: deps.now(),
    }),
  );
  if (!stored) return failed('canceled', 'the job was superseded before its reply could be stored');
  if (reply.usage) deps.metrics.usage(task.executor, reply.usage);
  xlog
    .child({ session_id: reply.sessionId ?? undefined })
    .info('reply stored', { execute_ms: Math.round(executeMs), reply_chars: reply.text.length });
  deps.bus.job(job.id);
  deps.bus.task(task.id);
  return { next: undefined };
}

async function withWriteRetries<T>(
  delays: readonly number[],
  signal: AbortSignal,
  log: Logger,
  write: () => T,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return write();
    } catch (err) {
      const wait = delays[i];
      if (wait === undefined || signal.aborted) throw err;
      log.warn('the database refused a write; trying again', { err, retry_in_ms: wait });
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }
}
