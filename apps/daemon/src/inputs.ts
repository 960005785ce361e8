import * as v from 'valibot';
import { JOB_STATES, LANES, MAX_DURATION_S, ValidationError } from '@alter0/core';

const id = (prefix: string) =>
  v.pipe(v.string(), v.regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `must be a ${prefix}_ id such as ${prefix}_01j…`));
const shortText = v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters'));

export const MessageInput = v.strictObject({
  content: v.pipe(v.string('content must be a string'), v.trim(), v.minLength(1, 'content must not be empty'), v.maxLength(200_000, 'content must be at most 200000 characters')),
  task_id: v.optional(v.nullable(id('t'))),
  channel_id: v.optional(shortText),
  user_id: v.optional(shortText),
  session_id: v.optional(v.nullable(shortText)),
  wait_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_DURATION_S * 1000, `wait_ms must be at most ${MAX_DURATION_S * 1000} (7 days); the wait is also capped by api.max_wait_ms`))),
});

/** `x-alter0-channel`: stored on the message and the job like the body's channel_id, so the same limit. */
export const ChannelHeader = v.optional(v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters')));

export const JobInput = v.strictObject({
  ...MessageInput.entries,
  lane: v.optional(v.picklist(LANES, 'lane must be interactive or background')),
  timeout_s: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_DURATION_S, `timeout_s must be at most ${MAX_DURATION_S} (7 days)`))),
  max_attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(20))),
});

export const CloseInput = v.strictObject({
  reason: v.optional(v.pipe(v.string(), v.maxLength(2000))),
});

export const EmptyInput = v.strictObject({});

export const JobsQuery = v.object({
  state: v.optional(v.picklist(JOB_STATES, `state must be one of ${JOB_STATES.join(', ')}`)),
  task_id: v.optional(v.string()),
  limit: v.optional(v.pipe(v.string(), v.transform(Number), v.integer('limit must be a whole number'), v.minValue(1), v.maxValue(1000))),
});

export const TasksQuery = v.object({
  state: v.optional(v.picklist(['open', 'closed', 'all'], 'state must be open, closed or all')),
  q: v.optional(v.string()),
  limit: v.optional(v.pipe(v.string(), v.transform(Number), v.integer('limit must be a whole number'), v.minValue(1), v.maxValue(1000))),
});

/** Validates with a message that names each bad field. */
export function parseInput<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const r = v.safeParse(schema, value);
  if (r.success) return r.output;
  const problems = r.issues.map((i) => {
    const p = v.getDotPath(i);
    return p ? `${p}: ${i.message}` : i.message;
  });
  throw new ValidationError(`invalid ${what}: ${problems.join('; ')}`);
}

export const DecisionsQuery = v.object({
  kind: v.optional(v.picklist(['route', 'close'], 'kind must be route or close')),
  task_id: v.optional(v.string()),
  limit: v.optional(v.pipe(v.string(), v.transform(Number), v.integer('limit must be a whole number'), v.minValue(1), v.maxValue(1000))),
});
