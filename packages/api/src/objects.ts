import * as v from 'valibot';
import {
  CLOSED_BY,
  CLOSE_SOURCES,
  ERROR_CLASSES,
  EXECUTOR_KINDS,
  JOB_STATES,
  LANES,
  MESSAGE_ROLES,
  ROUTE_DECISIONS,
  ROUTE_FALLBACKS,
  STAGES,
  TASK_STATES,
} from '@alter0/core';
import { Approval } from './approvals.js';
import { UsageTotals } from './stats.js';
import { count, idOf, nullableNumber, nullableString, nullableTimestamp, timestamp } from './fields.js';

/** The objects of docs/api.md ("Objects"), as the daemon's views (apps/daemon/src/views.ts) write them. */

export const JobError = v.object({
  class: v.picklist(ERROR_CLASSES),
  message: v.string(),
  stderr_tail: v.string(),
});

/** `explicit`: the client named the task, no model was asked. */
export const JobRouteDecisions = [...ROUTE_DECISIONS, 'explicit'] as const;
export const JobRoute = v.object({
  decision: v.picklist(JobRouteDecisions),
  task_id: v.nullable(idOf('t')),
  confidence: nullableNumber,
  reason: v.string(),
  fallback: v.nullable(v.picklist(ROUTE_FALLBACKS)),
});

/** Per stage; null when the stage did not run (yet). */
export const JobTimings = v.object({
  queue_wait_ms: nullableNumber,
  route_ms: nullableNumber,
  execute_ms: nullableNumber,
  close_ms: nullableNumber,
  total_ms: nullableNumber,
});

/** What the agent CLI reported about its run (the executor's own words, camelCase; every field optional). */
export const JobUsage = v.object({
  inputTokens: v.optional(v.number()),
  outputTokens: v.optional(v.number()),
  cacheReadTokens: v.optional(v.number()),
  costUsd: v.optional(v.number()),
});

export const Job = v.object({
  id: idOf('j'),
  message_id: idOf('m'),
  task_id: v.nullable(idOf('t')),
  lane: v.picklist(LANES),
  state: v.picklist(JOB_STATES),
  /** The pipeline stage while running (null before and, for most jobs, after). */
  stage: v.nullable(v.picklist(STAGES)),
  attempt: count,
  max_attempts: count,
  timeout_s: count,
  content: nullableString,
  reply: nullableString,
  error: v.nullable(JobError),
  route: v.nullable(JobRoute),
  timings: JobTimings,
  usage: v.nullable(JobUsage),
  /** Tool uses the agent was refused in the run that answered (claude's permission_denials; the input as it reported it). */
  permission_denials: v.array(v.object({ tool: v.string(), input: v.unknown() })),
  /** The owner's memory placed before the message when this job started a new agent session (docs/memory.md). */
  memory: v.nullable(
    v.object({
      template: v.object({ id: v.string(), version: v.string(), hash: v.string() }),
      ids: v.array(v.string()),
      cut: v.array(v.string()),
      chars: count,
    }),
  ),
  retry_of: v.nullable(idOf('j')),
  /** A cancel asked after the reply was stored: the job succeeded, the task is not closed by it. */
  cancel_requested: v.boolean(),
  channel_id: v.string(),
  user_id: v.string(),
  session_id: nullableString,
  created_at: timestamp,
  updated_at: timestamp,
  started_at: nullableTimestamp,
  replied_at: nullableTimestamp,
  finished_at: nullableTimestamp,
  next_run_at: nullableTimestamp,
});

export const Task = v.object({
  id: idOf('t'),
  title: v.string(),
  summary: v.string(),
  state: v.picklist(TASK_STATES),
  executor: v.picklist(EXECUTOR_KINDS),
  session_id: nullableString,
  workspace: v.string(),
  created_at: timestamp,
  updated_at: timestamp,
  closed_at: nullableTimestamp,
  closed_by: v.nullable(v.picklist(CLOSED_BY)),
  close_reason: nullableString,
  close_confidence: nullableNumber,
});

export const TaskMessage = v.object({
  id: idOf('m'),
  role: v.picklist(MESSAGE_ROLES),
  content: v.string(),
  job_id: v.nullable(idOf('j')),
  created_at: timestamp,
});

/** Fields both decision records carry: which template, what the model call cost, what it said. */
const decisionCommon = {
  id: idOf('d'),
  confidence: nullableNumber,
  reason: v.string(),
  reject_code: nullableString,
  template_id: nullableString,
  template_version: nullableString,
  template_hash: nullableString,
  prompt_chars: count,
  model_called: v.boolean(),
  latency_ms: count,
  raw_output: nullableString,
  error_class: v.nullable(v.picklist(ERROR_CLASSES)),
  created_at: timestamp,
};

/** A ranked candidate the router was shown (stored as the router produced it, hence camelCase `taskId`). */
export const RouteCandidate = v.object({ taskId: idOf('t'), score: v.number() });

export const RouteDecision = v.object({
  ...decisionCommon,
  job_id: idOf('j'),
  message_id: idOf('m'),
  task_id: v.nullable(idOf('t')),
  decision: v.picklist(ROUTE_DECISIONS),
  fallback: v.nullable(v.picklist(ROUTE_FALLBACKS)),
  candidates: v.array(RouteCandidate),
  input_summary: v.string(),
});

export const CloseActions = ['close', 'keep_open', 'reopen'] as const;
export const CloseDecision = v.object({
  ...decisionCommon,
  task_id: idOf('t'),
  job_id: v.nullable(idOf('j')),
  source: v.picklist(CLOSE_SOURCES),
  action: v.picklist(CloseActions),
  /** Why the closer's answer was not used (`executor_error`, `low_confidence`, …), null when it was. */
  fallback: nullableString,
});

export const DecisionLog = v.object({
  route: v.array(RouteDecision),
  close: v.array(CloseDecision),
});

export const TaskDetail = v.object({
  ...Task.entries,
  messages: v.array(TaskMessage),
  jobs: v.array(Job),
  decisions: DecisionLog,
  /** The task's approvals of tool use, newest first: who answered, how long each waited. */
  approvals: v.array(Approval),
  /** Tokens and cost summed over all of the task's jobs (each job's own is its `usage`). */
  usage: UsageTotals,
});

export type JobError = v.InferOutput<typeof JobError>;
export type JobRoute = v.InferOutput<typeof JobRoute>;
export type JobTimings = v.InferOutput<typeof JobTimings>;
export type JobUsage = v.InferOutput<typeof JobUsage>;
export type Job = v.InferOutput<typeof Job>;
export type Task = v.InferOutput<typeof Task>;
export type TaskMessage = v.InferOutput<typeof TaskMessage>;
export type RouteCandidate = v.InferOutput<typeof RouteCandidate>;
export type RouteDecision = v.InferOutput<typeof RouteDecision>;
export type CloseDecision = v.InferOutput<typeof CloseDecision>;
export type DecisionLog = v.InferOutput<typeof DecisionLog>;
export type TaskDetail = v.InferOutput<typeof TaskDetail>;
