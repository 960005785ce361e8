import * as v from 'valibot';
import { ScheduleSummary } from './schedules.js';
import { COMPONENT_STATES, ERROR_CLASSES, EXECUTOR_KINDS, JOB_STATES } from '@alter0/core';
import { count, nullableNumber, nullableString, nullableTimestamp, timestamp } from './fields.js';

/** GET /api/status: the status document (docs/api.md), as apps/daemon/src/status.ts builds it. */

const state = v.picklist(COMPONENT_STATES);
const perLane = <S extends v.GenericSchema>(s: S) => v.object({ interactive: s, background: s });

const component = <D extends v.ObjectEntries>(details: D) =>
  v.object({
    state,
    since: timestamp,
    last_error: v.nullable(v.object({ message: v.string(), at: timestamp })),
    details: v.object(details),
  });

export const ChannelStatus = v.object({
  name: v.string(),
  state,
  since: timestamp,
  last_error: v.nullable(v.object({ message: v.string(), at: timestamp })),
  /** Restarts after failures since alter0 started. */
  restarts: count,
  /** When a failing channel is tried again; null while it runs. */
  next_retry_at: nullableTimestamp,
});

export const GatewayComponent = component({
  url: nullableString,
  accepting: v.boolean(),
  channels: v.array(ChannelStatus),
  /** Notices (a job's end, to its chat and the webhooks) waiting to be delivered, and given up. */
  outbox: v.object({
    pending: count,
    dead: count,
    oldest_pending_age_ms: nullableNumber,
    /** Why a waiting notice's last attempt failed (null when none failed). */
    last_error: nullableString,
  }),
});

export const QueueComponent = component({
  depth: perLane(count),
  oldest_queued_age_ms: perLane(nullableNumber),
  running: count,
  workers: v.object({ total: perLane(count), busy: perLane(count) }),
  jobs_by_state: v.object(
    Object.fromEntries(JOB_STATES.map((s) => [s, count])) as Record<(typeof JOB_STATES)[number], typeof count>,
  ),
});

export const ExecutorComponent = component({
  executors: v.array(
    v.object({
      kind: v.picklist(EXECUTOR_KINDS),
      state,
      path: nullableString,
      version: nullableString,
      probe_error: nullableString,
      consecutive_failures: count,
      last_error_class: v.nullable(v.picklist(ERROR_CLASSES)),
    }),
  ),
});

export const SchedulerComponent = component({
  jobs: v.array(
    v.object({
      name: v.string(),
      /** A duration in milliseconds or a cron expression. */
      every: v.union([v.number(), v.string()]),
      running: v.boolean(),
      last_run: nullableTimestamp,
      last_success: nullableTimestamp,
      last_error: nullableString,
      last_error_at: nullableTimestamp,
      consecutive_failures: count,
      next_run: nullableTimestamp,
    }),
  ),
  /** The owner's schedules (docs/schedules.md). */
  schedules: ScheduleSummary,
});

export const StorageComponent = component({
  db_bytes: count,
  wal_bytes: count,
  schema_version: count,
  free_bytes: v.nullable(count),
  data_dir: v.string(),
});

export const StatusDocument = v.object({
  version: v.string(),
  started_at: timestamp,
  uptime_s: count,
  state,
  components: v.object({
    gateway: GatewayComponent,
    queue: QueueComponent,
    executor: ExecutorComponent,
    scheduler: SchedulerComponent,
    storage: StorageComponent,
  }),
});

export type StatusDocument = v.InferOutput<typeof StatusDocument>;
export type ComponentName = keyof StatusDocument['components'];
export type ComponentStatus = StatusDocument['components'][ComponentName];
