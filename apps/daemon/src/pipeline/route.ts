import { titleFrom } from '@alter0/closing';
import type { RouteOutcome } from '@alter0/routing';
import type { Fence, JobRow, TaskRow } from '@alter0/store';
import type { Logger } from '@alter0/obs';
import type { JobRun, PipelineDeps, Step } from './run.js';
import { failed, modelCallRecord, noteTiming } from './run.js';

/** The task a run goes on with, and its logger (naming that task once routed). */
export interface Routed {
  taskId: string | null;
  log: Logger;
}

/**
 * The route stage: routes the job unless its task is known — an explicit task still gets its (model-free)
 * decision recorded once; a retry of a routed job keeps the task it had. Ends the run when the job was canceled
 * while routing, or yields it when it was routed to a task whose earlier jobs are still running.
 */
export async function routeStage(deps: PipelineDeps, run: JobRun, log: Logger): Promise<Step<Routed>> {
  const { store, bus, metrics } = deps;
  const { job, fence } = run;
  const needsRoute =
    job.taskId === null || (job.requestedTaskId !== null && store.decisions.routeForJob(job.id) === undefined);
  if (!needsRoute) return { next: { taskId: job.taskId, log } };
  const started = performance.now();
  store.jobs.setStage(fence, 'route', deps.now());
  bus.job(job.id);
  const taskId = await routeJob(deps, job, run.message.content, run.signal, log.child({ stage: 'route' }));
  const routeMs = performance.now() - started;
  metrics.stageDuration('route', routeMs / 1000);
  if (taskId === null) return failed('canceled', 'the job was canceled while routing');
  noteTiming(deps, fence, 'routeMs', routeMs, log);
  bus.task(taskId);
  const tlog = log.child({ task_id: taskId });
  if (store.jobs.taskBusyFor(job.id, taskId)) {
    tlog.info('routed to a busy task; waiting for its earlier jobs');
    return { done: { kind: 'yield' } };
  }
  return { next: { taskId, log: tlog } };
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
  const outcome = await askRouter(deps, job, content, signal);
  const assigned = assignRoute(deps, job, content, outcome);
  deps.metrics.routeDecision(outcome.decision, outcome.fallback);
  // A reopen counts like the owner's (invariant 5: one close rule, the same metrics).
  if (assigned?.reopened === true) deps.metrics.closeDecision('manual', 'reopen');
  log.child({ task_id: assigned?.taskId }).info('routed', {
    decision: outcome.decision,
    fallback: outcome.fallback ?? undefined,
    confidence: outcome.confidence,
    model_called: outcome.modelCalled,
    ...(assigned?.reopened === true ? { reopened: true } : {}),
  });
  return assigned?.taskId ?? null;
}

/** The router's decision over the candidates; a failed router call counts against the router's executor. */
async function askRouter(deps: PipelineDeps, job: JobRow, content: string, signal: AbortSignal): Promise<RouteOutcome> {
  // A task the client named wins without looking at the others: no candidate list to load.
  const newTask = job.routeHint === 'new';
  const candidates = job.requestedTaskId === null && !newTask ? await deps.candidates.load(content, signal) : [];
  const outcome = await deps.router.route({
    message: content,
    explicitTaskId: job.requestedTaskId,
    newTask,
    openTasks: candidates,
    cwd: deps.systemCwd,
    jobId: job.id,
    signal,
  });
  if (outcome.modelCalled && outcome.errorClass && outcome.errorClass !== 'canceled') {
    deps.executors.recordFailure(deps.routerExecutor, outcome.errorClass);
    deps.metrics.executorError(deps.routerExecutor, outcome.errorClass);
  }
  return outcome;
}

/**
 * In one transaction: the task (found, reopened or new), the job's assignment and the route decision. Committed
 * without an fsync (a running job's progress; `Store.relaxed`): the reply's commit carries it to disk.
 * Returns null when the job's fence was lost (canceled), else the task and whether routing reopened it.
 */
function assignRoute(
  deps: PipelineDeps,
  job: JobRow,
  content: string,
  outcome: RouteOutcome,
): { taskId: string; reopened: boolean } | null {
  const { store } = deps;
  const fence: Fence = { jobId: job.id, attempt: job.attempt };
  const now = deps.now();
  return store.relaxed(() => {
    // Canceled (or superseded) while routing: write nothing, not even a new task.
    if (!store.jobs.isCurrent(fence)) return null;
    const { task, missing, reopened } = routedTask(deps, job, content, outcome, now);
    if (!store.jobs.assignTask(fence, task.id, now)) return null;
    store.decisions.addRoute({
      jobId: job.id,
      messageId: job.messageId,
      taskId: task.id,
      decision: outcome.taskId && !missing ? outcome.decision : 'new',
      ...modelCallRecord(outcome),
      reason:
        outcome.reason +
        (missing ? ` (task ${outcome.taskId} does not exist; started a new one)` : '') +
        (reopened ? ` (the task was closed; reopened it)` : ''),
      candidates: outcome.candidates,
      inputSummary: content.slice(0, 200),
      now,
    });
    store.tasks.touch(task.id, now);
    return { taskId: task.id, reopened };
  });
}

/**
 * The task the router chose, reopened when closed, or a new one when it chose none or one that does not exist
 * (`missing`). A closed task the message named (`#t_…`, a task id) or the router chose among the recently closed
 * candidates is reopened by the one close rule, recorded like the owner's reopen (invariant 5) with a reason that
 * says which message and which way. Runs inside assignRoute's transaction.
 */
function routedTask(
  deps: PipelineDeps,
  job: JobRow,
  content: string,
  outcome: RouteOutcome,
  now: number,
): { task: TaskRow; missing: boolean; reopened: boolean } {
  const { store } = deps;
  const chosen = outcome.taskId;
  let existing = chosen ? store.tasks.get(chosen) : undefined;
  const missing = chosen !== null && existing === undefined;
  const reopened = existing?.state === 'closed';
  if (existing && reopened) {
    const how = outcome.fallback === 'explicit' ? 'names it' : 'continues it (routing)';
    store.tasks.applyCloseDecision({
      taskId: existing.id,
      jobId: job.id,
      source: 'manual',
      action: 'reopen',
      confidence: outcome.confidence ?? 1,
      reason: `reopened: message ${job.messageId} ${how}`,
      modelCalled: false,
      latencyMs: 0,
      now,
    });
    existing = store.tasks.mustGet(existing.id);
  }
  existing ??= store.tasks.create({
    title: titleFrom(content),
    executor: deps.defaultExecutor,
    workspaceRoot: deps.workspaceRoot,
    userId: job.userId,
    now,
  });
  return { task: existing, missing, reopened };
}
