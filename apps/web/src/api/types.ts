// Wire shapes of the HTTP API (docs/api.md). The vocabularies come from @alter0/core so the
// console speaks the same words as the daemon.
import type {
  CloseSource,
  ClosedBy,
  ComponentState,
  ErrorClass,
  ExecutorKind,
  JobState,
  Lane,
  MessageRole,
  TaskState,
} from '@alter0/core';

export type { ComponentState, JobState, Lane, TaskState };

export interface JobError {
  class: ErrorClass;
  message: string;
  stderr_tail?: string | null;
}

export interface JobRoute {
  decision: 'existing' | 'new' | 'explicit';
  task_id: string | null;
  confidence: number | null;
  reason: string | null;
  fallback: string | null;
}

export interface JobTimings {
  queue_wait_ms: number | null;
  route_ms: number | null;
  execute_ms: number | null;
  close_ms: number | null;
  total_ms: number | null;
}

export interface Job {
  id: string;
  message_id: string;
  task_id: string | null;
  lane: Lane;
  state: JobState;
  attempt: number;
  max_attempts: number;
  timeout_s?: number | null;
  content?: string | null;
  reply: string | null;
  error: JobError | null;
  route: JobRoute | null;
  timings: JobTimings | null;
  retry_of: string | null;
  channel_id?: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  next_run_at: string | null;
}

export interface Task {
  id: string;
  title: string;
  summary?: string | null;
  state: TaskState;
  executor: ExecutorKind | string;
  session_id: string | null;
  workspace?: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  closed_by: ClosedBy | null;
  close_reason: string | null;
  close_confidence: number | null;
}

export interface TaskMessage {
  id: string;
  role: MessageRole;
  content: string;
  job_id: string | null;
  created_at: string;
}

export interface RouteDecision {
  id: string;
  job_id: string | null;
  task_id: string | null;
  decision: string;
  confidence: number | null;
  reason: string | null;
  fallback: string | null;
  latency_ms?: number | null;
  created_at: string;
}

export interface CloseDecision {
  id: string;
  job_id: string | null;
  source: CloseSource;
  action: 'close' | 'keep_open' | 'reopen';
  confidence: number | null;
  reason: string | null;
  fallback: string | null;
  latency_ms?: number | null;
  created_at: string;
}

export interface TaskDetail extends Task {
  messages: TaskMessage[];
  jobs: Job[];
  decisions: { route: RouteDecision[]; close: CloseDecision[] };
}

/** 200 from POST /api/message: the job finished within the wait budget. */
export interface MessageDone {
  job_id: string;
  task_id: string | null;
  state: JobState;
  reply: string | null;
  route: JobRoute | null;
  timings: JobTimings | null;
  error: JobError | null;
}

/** 202 from POST /api/message or /api/jobs: the job continues in the background. */
export interface JobAccepted {
  job_id: string;
  state: JobState;
  retry_of?: string | null;
}

export type MessageResult = { status: 200; body: MessageDone } | { status: 202; body: JobAccepted };

export interface ComponentStatus {
  state: ComponentState;
  since: string | null;
  last_error: { message: string; at: string } | null;
  details?: Record<string, unknown> | null;
}

export interface StatusDocument {
  version: string;
  started_at: string;
  uptime_s: number;
  state: ComponentState;
  components: Record<string, ComponentStatus>;
}

export type TaskFilter = TaskState | 'all';
