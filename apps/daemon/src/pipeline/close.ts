import { ConflictError } from '@alter0/core';
import type { Closer } from '@alter0/closing';
import { abortCauseOf } from '@alter0/queue';
import type { MessageRow, Store } from '@alter0/store';
import type { Logger } from '@alter0/obs';
import type { JobRun, PipelineDeps } from './run.js';
import { modelCallRecord } from './run.js';

const RECENT_PER_CANDIDATE = 3;

export interface CloseContext {
  taskId: string;
  lastUser: string;
  lastAssistant: string;
  log: Logger;
}

/** The close stage of an answered job: judges and applies the close rule; never throws. */
export async function closeStage(deps: PipelineDeps, closer: Closer, run: JobRun, c: CloseContext): Promise<void> {
  const { store, metrics } = deps;
  const clog = c.log.child({ stage: 'close' });
  const cStarted = performance.now();
  try {
    const remainingMs = run.deadline - performance.now();
    if (remainingMs <= 0) {
      clog.warn('no time left before the job deadline to judge the task; it stays open');
      return;
    }
    const fresh = store.tasks.mustGet(c.taskId);
    const outcome = await closer.judge({
      task: { id: fresh.id, title: fresh.title, summary: fresh.summary, recent: recentOf(store, fresh.id) },
      lastUser: c.lastUser,
      lastAssistant: c.lastAssistant,
      cwd: deps.systemCwd,
      jobId: run.job.id,
      signal: run.signal,
      timeoutMs: remainingMs,
    });
    if (store.tasks.mustGet(c.taskId).state !== 'open') return;
    // Without an fsync (`Store.relaxed`): the job's outcome, written right after by the queue, is the durable
    // commit that carries this decision to disk; a power cut before it leaves the task open, as a failed closer does.
    const { decision } = store.relaxed(() =>
      store.tasks.applyCloseDecision({
        taskId: c.taskId,
        jobId: run.job.id,
        source: 'auto',
        action: outcome.close ? 'close' : 'keep_open',
        ...modelCallRecord(outcome),
        now: deps.now(),
      }),
    );
    const closed = decision.action === 'close';
    metrics.closeDecision('auto', closed ? 'close' : 'keep_open');
    clog.info(closed ? 'task closed by the closer' : 'task stays open', {
      confidence: outcome.confidence,
      fallback: outcome.fallback ?? undefined,
      reason: closed === outcome.close ? undefined : decision.reason,
    });
    deps.bus.task(c.taskId);
  } catch (err) {
    const cause = abortCauseOf(run.signal);
    if (cause !== null) clog.info(`close stage stopped (${cause}); the task stays open`);
    else if (!(err instanceof ConflictError)) clog.warn('closer failed; task stays open', { err });
  } finally {
    const closeMs = performance.now() - cStarted;
    metrics.stageDuration('close', closeMs / 1000);
    try {
      store.jobs.recordTiming(run.fence, 'closeMs', closeMs, deps.now());
    } catch (err) {
      clog.warn('could not record the close stage timing', { err });
    }
  }
}

function recentOf(store: Store, taskId: string): { role: MessageRow['role']; content: string }[] {
  return (store.tasks.recentMessages([taskId], RECENT_PER_CANDIDATE).get(taskId) ?? []).map((m) => ({
    role: m.role,
    content: m.content,
  }));
}
