import * as v from 'valibot';
import { JOB_STATES, STAGES } from '@alter0/core';
import { idOf } from './fields.js';
import { Job, JobError, JobRoute, JobTimings, Task } from './objects.js';

/** The answers of docs/api.md ("Endpoints") that are not one of the objects. */

/** `{"error":{"code","message"}}`: every 4xx/5xx answer. */
export const ErrorEnvelope = v.object({
  error: v.object({ code: v.string(), message: v.string() }),
});

/** POST /api/message, 200: the job has a reply, or ended, within `wait_ms`. */
export const MessageDone = v.object({
  job_id: idOf('j'),
  task_id: v.nullable(idOf('t')),
  state: v.picklist(JOB_STATES),
  stage: v.nullable(v.picklist(STAGES)),
  reply: v.nullable(v.string()),
  route: v.nullable(JobRoute),
  timings: JobTimings,
  error: v.nullable(JobError),
});

/** POST /api/message, 202: still working; follow `job_id`. */
export const MessagePending = v.object({
  job_id: idOf('j'),
  state: v.picklist(JOB_STATES),
});

/** POST /api/jobs, 202. */
export const JobAccepted = v.object({
  job_id: idOf('j'),
  state: v.literal('queued'),
});

/** POST /api/jobs/{id}/retry: 202 with `created: true`, or 200 with the earlier retry and `created: false`. */
export const RetryAnswer = v.object({
  job_id: idOf('j'),
  state: v.picklist(JOB_STATES),
  retry_of: idOf('j'),
  created: v.boolean(),
});

export const JobList = v.object({ jobs: v.array(Job) });
export const TaskList = v.object({ tasks: v.array(Task) });

export const Healthz = v.object({ ok: v.literal(true) });
/** GET /readyz: 200 `{ready:true}`, or 503 `{ready:false, error}`. */
export const Readyz = v.union([
  v.object({ ready: v.literal(true) }),
  v.object({ ready: v.literal(false), error: ErrorEnvelope.entries.error }),
]);

export type ErrorEnvelope = v.InferOutput<typeof ErrorEnvelope>;
export type MessageDone = v.InferOutput<typeof MessageDone>;
export type MessagePending = v.InferOutput<typeof MessagePending>;
export type JobAccepted = v.InferOutput<typeof JobAccepted>;
export type RetryAnswer = v.InferOutput<typeof RetryAnswer>;
export type JobList = v.InferOutput<typeof JobList>;
export type TaskList = v.InferOutput<typeof TaskList>;
export type Healthz = v.InferOutput<typeof Healthz>;
export type Readyz = v.InferOutput<typeof Readyz>;
