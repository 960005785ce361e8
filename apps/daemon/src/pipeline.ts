import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ErrorClass } from '@alter0/core';
import { ExecutorError, errorMessage, ConflictError } from '@alter0/core';
import { SessionNotFoundError } from '@alter0/executor';
import type { Fence, JobRow, MessageRow, Store, TaskRow } from '@alter0/store';
import type { JobHandler, RunOutcome } from '@alter0/queue';
import { abortCauseOf } from '@alter0/queue';
import type { RouteOutcome, Router } from '@alter0/routing';
import type { CandidateSource } from './candidates.js';
import type { CloseOutcome, Closer } from '@alter0/closing';
import { summarize, titleFrom } from '@alter0/closing';
import type { Logger, Metrics } from '@alter0/obs';
import type { Bus } from './bus.js';
import type { ExecutorRegistry } from './executors.js';

export interface PipelineDeps {
  store: Store;
  executors: ExecutorRegistry;
  defaultExecutor: TaskRow['executor'];
  router: Router;
  candidates: CandidateSource;
  routerExecutor: TaskRow['executor'];
  closer: Closer | null;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  workspaceRoot: string;
  /** Where router and closer calls run: outside every task's workspace. */
  systemCwd: string;
  now: () => number;
  /** Waits before each further try of a reply write the database refused (default 1 s, 3 s, 10 s). */
  writeRetryDelaysMs?: readonly number[];
}

const RECENT_PER_CANDIDATE = 3;

/**
 * One run of a job: route (unless its task is known) → execute in the task's agent session → store the reply
 * (the sync answer is released here) → close. Each stage is timed on the job. Returns the outcome for the queue
 * to record; only an abort of the signal escapes as an exception.
 */
export function createPipeline(deps: PipelineDeps): JobHandler {
  const { store, bus, metrics } = deps;

  return async (job, { fence, signal }) => {
    // This attempt's deadline (the queue's timer, started at the claim, is the same).
    const deadline = deps.now() + job.timeoutS * 1000;
    let log = deps.logger.child({
      job_id: job.id,
      task_id: job.taskId ?? undefined,
      user_id: job.userId,
      channel_id: job.channelId,
      session_id: job.sessionId ?? undefined,
    });
    const message = store.jobs.message(job.messageId);
    if (!message) return fail('internal', `the message ${job.messageId} of job ${job.id} is missing`);
    log.info('job started', { attempt: job.attempt, lane: job.lane });

    // --- route
    let taskId = job.taskId;
    // Route unless the task is known: an explicit task still gets its (model-free) decision recorded once; a
    // retry of a routed job keeps the task it had.
    const needsRoute = taskId === null || (job.requestedTaskId !== null && store.decisions.routeForJob(job.id) === undefined);
    if (needsRoute) {
      const started = performance.now();
      store.jobs.setStage(fence, 'route', deps.now());
      bus.job(job.id);
      const routed = await routeJob(deps, job, message.content, signal, log.child({ stage: 'route' }));
      const routeMs = performance.now() - started;
      metrics.stageDuration('route', routeMs / 1000);
      if (routed === null) return fail('canceled', 'the job was canceled while routing');
      taskId = routed;
      store.jobs.recordTiming(fence, 'routeMs', routeMs, deps.now());
      bus.task(taskId);
      log = log.child({ task_id: taskId });
      if (store.jobs.taskBusyFor(job.id, taskId)) {
        log.info('routed to a busy task; waiting for its earlier jobs');
        return { kind: 'yield' };
      }
    }

    // --- execute
    if (taskId === null) return fail('internal', `job ${job.id} has no task after routing`);
    if (!store.tasks.get(taskId)) return fail('internal', `task ${taskId} disappeared`);
    // A message never executes in a closed task without a recorded reopen (the task was closed while this job
    // waited, or a retry went back to a task closed since).
    if (store.tasks.reopenForJob(taskId, { id: job.id, messageId: job.messageId }, deps.now())) {
      log.info('reopened the closed task this job belongs to');
      metrics.closeDecision('manual', 'reopen');
      bus.task(taskId);
    }
    const task = store.tasks.mustGet(taskId);
    const xlog = log.child({ stage: 'execute' });
    store.jobs.setStage(fence, 'execute', deps.now());
    bus.job(job.id);
    await fs.mkdir(task.workspace, { recursive: true });
    const executor = deps.executors.get(task.executor);
    const started = performance.now();
    let reply;
    const runOnce = (sessionId: string | null) =>
      executor.run({
        stage: 'execute',
        prompt: message.content,
        sessionId,
        taskId: task.id,
        jobId: job.id,
        cwd: task.workspace,
        // The executor's own timeout fires first (class timeout, process group killed); the queue's abort at
        // the same deadline is the backstop.
        timeoutMs: Math.max(1, deadline - deps.now()),
        signal,
      });
    try {
      try {
        reply = await runOnce(task.sessionId);
      } catch (err) {
        // The agent no longer knows the task's session (its store was wiped or it expired): start a fresh
        // session rather than failing every retry the same way. The task's transcript stays in alter0.
        if (!(err instanceof SessionNotFoundError)) throw err;
        xlog.warn('the agent session of this task is gone; continuing in a new session', { lost_session: err.sessionId });
        store.events.add({ component: 'executor', level: 'warn', kind: 'session_lost', message: `task ${task.id}: agent session ${err.sessionId} not found; started a new one`, now: deps.now() });
        store.tasks.touch(task.id, deps.now(), { sessionId: null });
        reply = await runOnce(null);
      }
      deps.executors.recordSuccess(task.executor);
    } catch (err) {
      const executeMs = performance.now() - started;
      store.jobs.recordTiming(fence, 'executeMs', executeMs, deps.now());
      if (err instanceof ExecutorError) {
        // An abort by the queue's deadline is a timeout, whatever the executor saw.
        const cls = err.errorClass === 'canceled' && abortCauseOf(signal) === 'timeout' ? 'timeout' : err.errorClass;
        if (cls !== 'canceled') deps.executors.recordFailure(task.executor, cls);
        metrics.executorError(task.executor, cls);
        xlog.warn('executor failed', { error_class: cls, err, exit_code: err.exitCode });
        return fail(cls, err.message, err.stderrTail);
      }
      xlog.error('executor threw an unexpected error', { err });
      return fail('internal', `executor ${task.executor} failed unexpectedly: ${errorMessage(err)}`);
    }
    const executeMs = performance.now() - started;
    metrics.stageDuration('execute', executeMs / 1000);
    // The agent's turn is done and cannot be undone: a database that refuses the reply for a moment (another
    // process's write lock, a full disk) gets a few more chances before the job fails and the turn is lost.
    const stored = await withWriteRetries(deps.writeRetryDelaysMs ?? WRITE_RETRY_DELAYS_MS, signal, xlog, () =>
      store.jobs.storeReply(fence, {
        taskId: task.id,
        content: reply.text,
        sessionId: reply.sessionId ?? task.sessionId,
        summary: summarize(task.summary, message.content, reply.text),
        usageJson: reply.usage ? JSON.stringify(reply.usage) : null,
        executeMs,
        channelId: job.channelId,
        userId: job.userId,
        now: deps.now(),
      }),
    );
    if (!stored) return fail('canceled', 'the job was superseded before its reply could be stored');
    xlog.child({ session_id: reply.sessionId ?? undefined }).info('reply stored', { execute_ms: Math.round(executeMs), reply_chars: reply.text.length });
    bus.job(job.id);
    bus.task(task.id);

    // --- close (after the reply is delivered: it never adds to the user's wait). From here on the job has
    // answered: nothing below may fail, retry or cancel it. A closer that fails, runs out of the job's time, or is
    // aborted (cancel = "don't close", timeout, shutdown) only keeps the task open.
    if (deps.closer) await closeStage(deps, deps.closer, { job, fence, signal, deadline, taskId: task.id, lastUser: message.content, lastAssistant: reply.text, log });
    log.info('job succeeded');
    return { kind: 'succeeded' };
  };
}

/** What every decision record (route or close) keeps of the model call behind it. */
function modelCallRecord<O extends RouteOutcome | CloseOutcome>(o: O) {
  return {
    confidence: o.confidence,
    reason: o.reason,
    fallback: o.fallback,
    rejectCode: o.rejectCode,
    templateId: o.templateId,
    templateVersion: o.templateVersion,
    templateHash: o.templateHash,
    promptChars: o.promptChars,
    modelCalled: o.modelCalled,
    latencyMs: o.latencyMs,
    rawOutput: o.rawOutput,
    errorClass: o.errorClass,
  };
}

interface CloseContext {
  job: JobRow;
  fence: Fence;
  signal: AbortSignal;
  deadline: number;
  taskId: string;
  lastUser: string;
  lastAssistant: string;
  log: Logger;
}

/** The close stage of an answered job: judges and applies the close rule; never throws. */
async function closeStage(deps: PipelineDeps, closer: Closer, c: CloseContext): Promise<void> {
  const { store, metrics } = deps;
  const clog = c.log.child({ stage: 'close' });
  const cStarted = performance.now();
  try {
    const remainingMs = c.deadline - deps.now();
    if (remainingMs <= 0) {
      clog.warn('no time left before the job deadline to judge the task; it stays open');
      return;
    }
    store.jobs.setStage(c.fence, 'close', deps.now());
    const fresh = store.tasks.mustGet(c.taskId);
    const outcome = await closer.judge({
      task: { id: fresh.id, title: fresh.title, summary: fresh.summary, recent: recentOf(store, fresh.id) },
      lastUser: c.lastUser,
      lastAssistant: c.lastAssistant,
      cwd: deps.systemCwd,
      jobId: c.job.id,
      signal: c.signal,
      timeoutMs: remainingMs,
    });
    if (store.tasks.mustGet(c.taskId).state !== 'open') return;
    const { decision } = store.tasks.applyCloseDecision({
      taskId: c.taskId,
      jobId: c.job.id,
      source: 'auto',
      action: outcome.close ? 'close' : 'keep_open',
      ...modelCallRecord(outcome),
      now: deps.now(),
    });
    const closed = decision.action === 'close';
    metrics.closeDecision('auto', closed ? 'close' : 'keep_open');
    clog.info(closed ? 'task closed by the closer' : 'task stays open', {
      confidence: outcome.confidence,
      fallback: outcome.fallback ?? undefined,
      reason: closed === outcome.close ? undefined : decision.reason,
    });
    deps.bus.task(c.taskId);
  } catch (err) {
    const cause = abortCauseOf(c.signal);
    if (cause !== null) clog.info(`close stage stopped (${cause}); the task stays open`);
    else if (!(err instanceof ConflictError)) clog.warn('closer failed; task stays open', { err });
  } finally {
    const closeMs = performance.now() - cStarted;
    metrics.stageDuration('close', closeMs / 1000);
    try {
      store.jobs.recordTiming(c.fence, 'closeMs', closeMs, deps.now());
    } catch (err) {
      clog.warn('could not record the close stage timing', { err });
    }
  }
}

const WRITE_RETRY_DELAYS_MS = [1000, 3000, 10_000];

async function withWriteRetries<T>(delays: readonly number[], signal: AbortSignal, log: Logger, write: () => T): Promise<T> {
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

function fail(errorClass: ErrorClass, message: string, stderrTail: string | null = null): RunOutcome {
  return { kind: 'failed', errorClass, message, stderrTail };
}

function recentOf(store: Store, taskId: string): { role: MessageRow['role']; content: string }[] {
  return (store.tasks.recentMessages([taskId], RECENT_PER_CANDIDATE).get(taskId) ?? []).map((m) => ({
    role: m.role,
    content: m.content,
  }));
}

/**
 * Decides the job's task, creating or reopening it as needed, and records the decision — all in one
 * transaction with the job's assignment. Returns the task id, or null when the job's fence was lost (canceled).
 */
async function routeJob(
  deps: PipelineDeps,
  job: JobRow,
  content: string,
  signal: AbortSignal,
  log: Logger,
): Promise<string | null> {
  const { store } = deps;
  const fence = { jobId: job.id, attempt: job.attempt };
  // A task the client named wins without looking at the others: no candidate list to load.
  const candidates = job.requestedTaskId === null ? await deps.candidates.load(content, signal) : [];
  const outcome = await deps.router.route({
    message: content,
    explicitTaskId: job.requestedTaskId,
    openTasks: candidates,
    cwd: deps.systemCwd,
    jobId: job.id,
    signal,
  });
  if (outcome.modelCalled && outcome.errorClass && outcome.errorClass !== 'canceled') {
    deps.executors.recordFailure(deps.routerExecutor, outcome.errorClass);
    deps.metrics.executorError(deps.routerExecutor, outcome.errorClass);
  }
  const now = deps.now();
  let note = '';
  const assigned = store.transaction(() => {
    // Canceled (or superseded) while routing: write nothing, not even a new task.
    if (!store.jobs.isCurrent(fence)) return null;
    let taskId = outcome.taskId;
    let existing = taskId ? store.tasks.get(taskId) : undefined;
    if (taskId && !existing) {
      note = ` (task ${taskId} does not exist; started a new one)`;
      taskId = null;
    }
    if (existing && existing.state === 'closed') {
      store.tasks.applyCloseDecision({
        taskId: existing.id,
        jobId: job.id,
        source: 'manual',
        action: 'reopen',
        confidence: 1,
        reason: `reopened by message ${job.messageId} that refers to it`,
        modelCalled: false,
        latencyMs: 0,
        now,
      });
      existing = store.tasks.mustGet(existing.id);
    }
    if (!existing) {
      existing = store.tasks.create({
        title: titleFrom(content),
        executor: deps.defaultExecutor,
        workspaceRoot: deps.workspaceRoot,
        userId: job.userId,
        now,
      });
    }
    if (!store.jobs.assignTask(fence, existing.id, now)) return null;
    store.decisions.addRoute({
      jobId: job.id,
      messageId: job.messageId,
      taskId: existing.id,
      decision: outcome.taskId && !note ? outcome.decision : 'new',
      ...modelCallRecord(outcome),
      reason: outcome.reason + note,
      candidates: outcome.candidates,
      inputSummary: content.slice(0, 200),
      now,
    });
    store.tasks.touch(existing.id, now);
    return existing.id;
  });
  deps.metrics.routeDecision(outcome.decision, outcome.fallback);
  log.child({ task_id: assigned ?? undefined }).info('routed', {
    decision: outcome.decision,
    fallback: outcome.fallback ?? undefined,
    confidence: outcome.confidence,
    model_called: outcome.modelCalled,
  });
  return assigned;
}
