import type { JobHandler } from '@alter0/queue';
import { closeStage } from './pipeline/close.js';
import { executeStage, taskForRun } from './pipeline/execute.js';
import { storeReplyStage } from './pipeline/reply.js';
import { routeStage } from './pipeline/route.js';
import type { JobRun, PipelineDeps } from './pipeline/run.js';
import { fail } from './pipeline/run.js';
import { storageRefusal } from './errors.js';

export type { PipelineDeps } from './pipeline/run.js';

/**
 * One run of a job: route (unless its task is known) → execute in the task's agent session → store the reply
 * (the sync answer is released here) → close. Each stage is timed on the job. Returns the outcome for the queue
 * to record; only an abort of the signal escapes as an exception.
 *
 * A write the database refused for a reason of its storage (another program holding the lock past the busy
 * timeout, a full disk) is alter0's hiccup, not the job's failure: the job goes back to the queue with its attempt
 * not counted, and runs again once the database takes writes (the queue keeps trying to record that meanwhile).
 */
export function createPipeline(deps: PipelineDeps): JobHandler {
  const run = runJob(deps);
  return async (job, ctx) => {
    try {
      return await run(job, ctx);
    } catch (err) {
      const refused = storageRefusal(err);
      if (refused === null || ctx.signal.aborted) throw err;
      const code = (err as { code: string }).code;
      deps.logger
        .child({ job_id: job.id, task_id: job.taskId ?? undefined })
        .warn('the database refused a write the job needed; it goes back to the queue', { err, code });
      return {
        kind: 'yield',
        reason: `the database refused a write while the job ran (${code}, ${refused.code}); back in the queue, this attempt not counted`,
      };
    }
  };
}

function runJob(deps: PipelineDeps): JobHandler {
  return async (job, { fence, signal }) => {
    // This attempt's deadline (the queue's timer, started at the claim, is the same), on the monotonic clock like
    // that timer: a wall clock that jumps (NTP, a hand-set date) must neither kill a job nor give it an hour more.
    const deadline = performance.now() + job.timeoutS * 1000;
    const jobLog = deps.logger.child({
      job_id: job.id,
      task_id: job.taskId ?? undefined,
      user_id: job.userId,
      channel_id: job.channelId,
      session_id: job.sessionId ?? undefined,
    });
    const message = deps.store.jobs.message(job.messageId);
    if (!message) return fail('internal', `the message ${job.messageId} of job ${job.id} is missing`);
    jobLog.info('job started', { attempt: job.attempt, lane: job.lane });
    const run: JobRun = { job, fence, signal, deadline, message };

    const routed = await routeStage(deps, run, jobLog);
    if ('done' in routed) return routed.done;
    const { log } = routed.next;
    const task = taskForRun(deps, run, routed.next.taskId, log);
    if ('done' in task) return task.done;
    const xlog = log.child({ stage: 'execute' });
    const executed = await executeStage(deps, run, task.next, xlog);
    if ('done' in executed) return executed.done;
    const stored = await storeReplyStage(deps, run, task.next, executed.next, xlog);
    if ('done' in stored) return stored.done;

    // Close after the reply is delivered: it never adds to the user's wait. From here on the job has answered:
    // nothing below may fail, retry or cancel it. A closer that fails, runs out of the job's time, or is aborted
    // (cancel = "don't close", timeout, shutdown) only keeps the task open.
    if (deps.closer) {
      await closeStage(deps, deps.closer, run, {
        taskId: task.next.id,
        lastUser: message.content,
        lastAssistant: executed.next.reply.text,
        log,
      });
    }
    log.info('job succeeded');
    return { kind: 'succeeded' };
  };
}
