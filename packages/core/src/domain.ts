/** The closed vocabularies of the domain. Every package speaks these, so they live here once. */

export const TASK_STATES = ['open', 'closed'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const CLOSED_BY = ['auto', 'manual', 'stale'] as const;
export type ClosedBy = (typeof CLOSED_BY)[number];

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'canceled']);
export function isTerminalJobState(s: JobState): boolean {
  return TERMINAL_JOB_STATES.has(s);
}

export const LANES = ['interactive', 'background'] as const;
export type Lane = (typeof LANES)[number];

export const STAGES = ['route', 'execute', 'close'] as const;
export type Stage = (typeof STAGES)[number];

export const MESSAGE_ROLES = ['user', 'assistant', 'system'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

export const EXECUTOR_KINDS = ['claude', 'codex', 'command'] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

/** Every executor failure falls in exactly one of these (docs/architecture.md, "Executors"). */
export const ERROR_CLASSES = [
  'not_found',
  'auth',
  'rate_limited',
  'unavailable',
  'timeout',
  'canceled',
  'bad_output',
  'exit',
  'internal',
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];
export const RETRYABLE_ERROR_CLASSES: ReadonlySet<ErrorClass> = new Set([
  'rate_limited',
  'unavailable',
  'timeout',
  'bad_output',
]);
export function isRetryable(c: ErrorClass): boolean {
  return RETRYABLE_ERROR_CLASSES.has(c);
}

export const COMPONENT_STATES = ['ok', 'degraded', 'down'] as const;
export type ComponentState = (typeof COMPONENT_STATES)[number];

export const EVENT_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type EventLevel = (typeof EVENT_LEVELS)[number];

export const ROUTE_DECISIONS = ['existing', 'new'] as const;
export type RouteDecisionKind = (typeof ROUTE_DECISIONS)[number];

/** Why the router's answer was not used (null when it was). */
export const ROUTE_FALLBACKS = [
  'explicit',
  'no_candidates',
  'low_confidence',
  'invalid_output',
  'executor_error',
  'timeout',
] as const;
export type RouteFallback = (typeof ROUTE_FALLBACKS)[number];

export const CLOSE_SOURCES = ['auto', 'manual', 'stale'] as const;
export type CloseSource = (typeof CLOSE_SOURCES)[number];
