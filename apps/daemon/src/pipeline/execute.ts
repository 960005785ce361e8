import fs from 'node:fs/promises';
import type { ExecResult, Executor } from '@alter0/core';
import { ExecutorError, errorMessage } from '@alter0/core';
import { SessionNotFoundError } from '@alter0/executor';
import { withMemory } from '@alter0/memory';
import { abortCauseOf } from '@alter0/queue';
import type { TaskRow } from '@alter0/store';
import type { Logger } from '@alter0/obs';
import type { JobRun, PipelineDeps, Step } from './run.js';
import type { RunApproval } from '../approvals/service.js';
import { fail, failed, noteTiming } from './run.js';

/** The agent's answer and how long it took. */
export interface Executed {
  reply: ExecResult;
  executeMs: number;
}

/**
 * The task the job executes in, reopened when it was closed: a message never executes in a closed task without
 * a recorded reopen (the task was closed while this job waited, or a retry went back to a task closed since).
 */
export function taskForRun(deps: PipelineDeps, run: JobRun, taskId: string | null, log: Logger): Step<TaskRow> {
  const { store } = deps;
  const { job } = run;
  if (taskId === null) return failed('internal', `job ${job.id} has no task after routing`);
  if (!store.tasks.get(taskId)) return failed('internal', `task ${taskId} disappeared`);
  // A progress marker of the running job (`Store.relaxed`): the reply's commit carries it to disk.
  if (store.relaxed(() => store.tasks.reopenForJob(taskId, { id: job.id, messageId: job.messageId }, deps.now()))) {
    log.info('reopened the closed task this job belongs to');
    deps.metrics.closeDecision('manual', 'reopen');
    deps.bus.task(taskId);
  }
  return { next: store.tasks.mustGet(taskId) };
}

/** The execute stage: the task's agent answers the message in the task's session and workspace. */
export async function executeStage(
  deps: PipelineDeps,
  run: JobRun,
  task: TaskRow,
  xlog: Logger,
): Promise<Step<Executed>> {
  const { store } = deps;
  store.jobs.setStage(run.fence, 'execute', deps.now());
  deps.bus.job(run.job.id);
  await fs.mkdir(task.workspace, { recursive: true });
  const executor = deps.executors.get(task.executor);
  const started = performance.now();
  let reply: ExecResult;
  try {
    reply = await runAgent(deps, run, task, executor, xlog);
    deps.executors.recordSuccess(task.executor);
  } catch (err) {
    noteTiming(deps, run.fence, 'executeMs', performance.now() - started, xlog);
    return { done: executorFailure(deps, run, task, err, xlog) };
  }
  const executeMs = performance.now() - started;
  deps.metrics.stageDuration('execute', executeMs / 1000);
  return { next: { reply, executeMs } };
}

/** Runs the agent in the task's session, or in a new one when the agent no longer knows that session. */
async function runAgent(
  deps: PipelineDeps,
  run: JobRun,
  task: TaskRow,
  executor: Executor,
  xlog: Logger,
): Promise<ExecResult> {
  const gate = deps.approvals?.open({
    jobId: run.job.id,
    attempt: run.fence.attempt,
    taskId: task.id,
    agent: task.executor,
  });
  try {
    return await runAgentWith(deps, run, task, executor, xlog, gate ?? undefined);
  } finally {
    if (gate) {
      const end = endOfRun(run.signal);
      deps.approvals?.close(gate.token, end.why, end.by);
    }
  }
}

/** Why a run's pending approvals end with it, and who ended them. */
function endOfRun(signal: AbortSignal): { why: string; by: string } {
  if (!signal.aborted) return { why: 'the run ended before the answer came', by: 'run_ended' };
  const cause = abortCauseOf(signal);
  if (cause === 'canceled') return { why: 'the job was canceled', by: 'cancel' };
  if (cause === 'timeout') return { why: 'the job ran past its timeout', by: 'timeout' };
  return { why: 'alter0 is stopping; the job runs again after the restart and asks again', by: 'restart' };
}

async function runAgentWith(
  deps: PipelineDeps,
  run: JobRun,
  task: TaskRow,
  executor: Executor,
  xlog: Logger,
  approval: RunApproval | undefined,
): Promise<ExecResult> {
  const runIn = (sessionId: string | null) =>
    executor.run({
      ...(approval ? { approval } : {}),
      stage: 'execute',
      // A new agent session starts with the owner's memory before the message; a resumed one has it already.
      prompt: sessionId === null ? promptWithMemory(deps, run, task, xlog) : run.message.content,
      sessionId,
      taskId: task.id,
      jobId: run.job.id,
      cwd: task.workspace,
      // The executor's own timeout fires first (class timeout, process group killed); the queue's abort at
      // the same deadline is the backstop.
      timeoutMs: Math.max(1, run.deadline - performance.now()),
      signal: run.signal,
    });
  try {
    return await runIn(task.sessionId);
  } catch (err) {
    // The agent no longer knows the task's session (its store was wiped or it expired): start a fresh
    // session rather than failing every retry the same way. The task's transcript stays in alter0.
    if (!(err instanceof SessionNotFoundError)) throw err;
    xlog.warn('the agent session of this task is gone; continuing in a new session', { lost_session: err.sessionId });
    deps.store.events.add({
      component: 'executor',
      level: 'warn',
      kind: 'session_lost',
      message: `task ${task.id}: agent session ${err.sessionId} not found; started a new one`,
      now: deps.now(),
    });
    deps.store.tasks.touch(task.id, deps.now(), { sessionId: null });
    return await runIn(null);
  }
}

/**
 * The first prompt of a new session: the owner's global memory and the task's own before the message, capped by
 * memory.max_prompt_chars (what was cut is logged); what was placed is recorded on the job.
 */
function promptWithMemory(deps: PipelineDeps, run: JobRun, task: TaskRow, xlog: Logger): string {
  const message = run.message.content;
  if (!deps.memory) return message;
  const entries = deps.store.memory
    .forTask(task.id)
    .map((m) => ({ id: m.id, content: m.content, task: m.taskId !== null }));
  const { prompt, use } = withMemory(deps.memory.template, entries, message, deps.memory.maxChars);
  if (use) {
    deps.store.memory.recordUse(run.job.id, JSON.stringify(use));
    if (use.cut.length > 0) {
      xlog.warn('memory cut to fit memory.max_prompt_chars', { placed: use.ids.length, cut: use.cut });
    }
  }
  return prompt;
}

/** The failed outcome of an agent run that threw, counted against its executor unless it was a cancel. */
function executorFailure(deps: PipelineDeps, run: JobRun, task: TaskRow, err: unknown, xlog: Logger) {
  if (err instanceof ExecutorError) {
    // An abort by the queue's deadline is a timeout, whatever the executor saw.
    const cls = err.errorClass === 'canceled' && abortCauseOf(run.signal) === 'timeout' ? 'timeout' : err.errorClass;
    if (cls !== 'canceled') deps.executors.recordFailure(task.executor, cls);
    deps.metrics.executorError(task.executor, cls);
    xlog.warn('executor failed', { error_class: cls, err, exit_code: err.exitCode });
    return fail(cls, err.message, err.stderrTail);
  }
  xlog.error('executor threw an unexpected error', { err });
  return fail('internal', `executor ${task.executor} failed unexpectedly: ${errorMessage(err)}`);
}
