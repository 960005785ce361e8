import * as v from 'valibot';
import { JOB_STATES, LANES, MAX_DURATION_S } from '@alter0/core';
import { idOf } from './fields.js';

/**
 * Request bodies and queries. The daemon validates with these (its 400 `invalid_request` messages quote the
 * messages written here, so tests and clients may rely on them); clients type their requests with the inputs.
 */

const shortText = v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters'));
const MAX_WAIT_MS = MAX_DURATION_S * 1000;

export const MessageInput = v.strictObject({
  content: v.pipe(
    v.string('content must be a string'),
    v.trim(),
    v.minLength(1, 'content must not be empty'),
    v.maxLength(200_000, 'content must be at most 200000 characters'),
  ),
  task_id: v.optional(v.nullable(idOf('t'))),
  channel_id: v.optional(shortText),
  user_id: v.optional(shortText),
  session_id: v.optional(v.nullable(shortText)),
  wait_ms: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.maxValue(
        MAX_WAIT_MS,
        `wait_ms must be at most ${MAX_WAIT_MS} (7 days); the wait is also capped by api.max_wait_ms`,
      ),
    ),
  ),
});

/** `x-alter0-channel`: stored on the message and the job like the body's channel_id, so the same limit. */
export const ChannelHeader = v.optional(shortText);

export const JobInput = v.strictObject({
  ...MessageInput.entries,
  lane: v.optional(v.picklist(LANES, 'lane must be interactive or background')),
  timeout_s: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.maxValue(MAX_DURATION_S, `timeout_s must be at most ${MAX_DURATION_S} (7 days)`),
    ),
  ),
  max_attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(20))),
});

export const CloseInput = v.strictObject({
  reason: v.optional(v.pipe(v.string(), v.maxLength(2000))),
});

/** cancel, retry and reopen take no fields (`{}` or an empty body). */
export const EmptyInput = v.strictObject({});

/** Query values arrive as strings; `limit` is turned into a number. */
const limit = v.optional(
  v.pipe(v.string(), v.transform(Number), v.integer('limit must be a whole number'), v.minValue(1), v.maxValue(1000)),
);

export const JobsQuery = v.object({
  state: v.optional(v.picklist(JOB_STATES, `state must be one of ${JOB_STATES.join(', ')}`)),
  task_id: v.optional(v.string()),
  limit,
});

export const TaskFilters = ['open', 'closed', 'all'] as const;
export const TasksQuery = v.object({
  state: v.optional(v.picklist(TaskFilters, 'state must be open, closed or all')),
  q: v.optional(v.string()),
  limit,
});

export const DecisionKinds = ['route', 'close'] as const;
export const DecisionsQuery = v.object({
  kind: v.optional(v.picklist(DecisionKinds, 'kind must be route or close')),
  task_id: v.optional(v.string()),
  limit,
});

export type MessageRequest = v.InferInput<typeof MessageInput>;
export type JobRequest = v.InferInput<typeof JobInput>;
export type CloseRequest = v.InferInput<typeof CloseInput>;
export type TaskFilter = (typeof TaskFilters)[number];
export type DecisionKind = (typeof DecisionKinds)[number];
/** The queries as a client writes them (`limit` a number; the client sends it as a string). */
export type JobsFilter = Omit<v.InferInput<typeof JobsQuery>, 'limit'> & { limit?: number };
export type TasksFilter = Omit<v.InferInput<typeof TasksQuery>, 'limit'> & { limit?: number };
export type DecisionsFilter = Omit<v.InferInput<typeof DecisionsQuery>, 'limit'> & { limit?: number };
