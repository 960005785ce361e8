import * as v from 'valibot';
import { LANES } from '@alter0/core';
import { count, idOf, nullableString, nullableTimestamp, timestamp } from './fields.js';

/** The owner's schedules: work that starts by itself (docs/api.md "Schedules"; docs/schedules.md). */

export const SCHEDULE_STATES = ['active', 'paused', 'done'] as const;
export const RUN_RESULTS = ['succeeded', 'failed', 'canceled'] as const;

export const ScheduleRun = v.object({
  id: idOf('f'),
  /** The slot this firing was for (a catch-up after downtime fires the latest missed slot). */
  slot_at: timestamp,
  /** slot: on time; catch_up: the one run after downtime; now: asked for by the owner. */
  kind: v.picklist(['slot', 'catch_up', 'now']),
  fired_at: timestamp,
  job_id: idOf('j'),
  /** null while its job waits or runs. */
  result: v.nullable(v.picklist(RUN_RESULTS)),
  ended_at: nullableTimestamp,
});
export type ScheduleRun = v.InferOutput<typeof ScheduleRun>;

export const Schedule = v.object({
  id: idOf('s'),
  kind: v.picklist(['cron', 'every', 'at']),
  /** One line for people: "every 10m", "cron 0 9 * * 1-5 (Europe/Berlin)", "once at …". */
  description: v.string(),
  /** cron: the pattern; every: the period ("10m"); at: the time (RFC 3339). */
  cron: nullableString,
  every: nullableString,
  at: nullableTimestamp,
  tz: nullableString,
  text: v.string(),
  /** The task each firing goes to; null: routed like any message. */
  task_id: v.nullable(idOf('t')),
  lane: v.picklist(LANES),
  /** active, paused (by the owner or after failures: paused_reason), done (a one-shot that fired). */
  state: v.picklist(SCHEDULE_STATES),
  paused_reason: nullableString,
  next_run_at: nullableTimestamp,
  last_fired_at: nullableTimestamp,
  last_job_id: v.nullable(idOf('j')),
  /** How the last finished run ended, or `missed` (skipped after downtime). */
  last_result: v.nullable(v.picklist([...RUN_RESULTS, 'missed'])),
  consecutive_failures: count,
  created_at: timestamp,
  updated_at: timestamp,
});
export type Schedule = v.InferOutput<typeof Schedule>;

export const ScheduleList = v.object({ schedules: v.array(Schedule) });
export const ScheduleDetail = v.object({ ...Schedule.entries, runs: v.array(ScheduleRun) });
export type ScheduleDetail = v.InferOutput<typeof ScheduleDetail>;

const when = v.pipe(
  v.string('must be a string'),
  v.trim(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(200, 'must be at most 200 characters'),
);

/** POST /api/schedules: exactly one of cron, every, at (the daemon checks the rest and says what to write). */
export const ScheduleInput = v.strictObject({
  text: v.pipe(
    v.string('text must be a string'),
    v.trim(),
    v.minLength(1, 'text must not be empty: it is the message each firing sends'),
    v.maxLength(100_000, 'text must be at most 100000 characters'),
  ),
  cron: v.optional(when),
  every: v.optional(when),
  at: v.optional(when),
  tz: v.optional(when),
  task_id: v.optional(v.nullable(idOf('t'))),
  lane: v.optional(v.picklist(LANES, 'lane must be interactive or background')),
});
export type ScheduleRequest = v.InferInput<typeof ScheduleInput>;

export const ScheduleDeleted = v.object({ id: idOf('s'), deleted: v.literal(true) });
export type ScheduleDeleted = v.InferOutput<typeof ScheduleDeleted>;

/** POST /api/schedules/{id}/run: the job the firing made. */
export const ScheduleRunNow = v.object({ schedule: Schedule, job_id: idOf('j') });
export type ScheduleRunNow = v.InferOutput<typeof ScheduleRunNow>;

/** The owner's schedules in `/api/status` → scheduler. */
export const ScheduleSummary = v.object({
  count,
  active: count,
  paused: count,
  next_run_at: nullableTimestamp,
  next_id: v.nullable(idOf('s')),
  paused_ids: v.array(v.object({ id: idOf('s'), reason: nullableString })),
  failing: count,
});
