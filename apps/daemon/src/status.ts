import fs from 'node:fs';
import type { ComponentState } from '@alter0/core';
import type { Store } from '@alter0/store';
import type { WorkerPool } from '@alter0/queue';
import type { ExecutorRegistry } from './executors.js';
import type { ScheduledJobStatus } from '@alter0/maintenance';
import type { ComponentName, StatusDocument } from '@alter0/api';
import type { ChannelSnapshot } from '@alter0/channels';

type Components = StatusDocument['components'];

/** Remembers since when each component is in its state and its last error (the status document's memory). */
export class Health {
  private readonly entries = new Map<
    ComponentName,
    { state: ComponentState; since: number; lastError: { message: string; at: number } | null }
  >();
  constructor(private readonly now: () => number) {}

  set(c: ComponentName, state: ComponentState, error?: string): void {
    const prev = this.entries.get(c);
    const at = this.now();
    this.entries.set(c, {
      state,
      since: prev && prev.state === state ? prev.since : at,
      lastError: error ? { message: error, at } : (prev?.lastError ?? null),
    });
  }

  get(c: ComponentName): { state: ComponentState; since: number; lastError: { message: string; at: number } | null } {
    return this.entries.get(c) ?? { state: 'ok', since: this.now(), lastError: null };
  }
}

export interface StatusDeps {
  version: string;
  startedAt: number;
  now: () => number;
  health: Health;
  store: Store;
  pool: WorkerPool;
  workers: { interactive: number; background: number };
  executors: ExecutorRegistry;
  degradeAfterFailures: number;
  queueDegradedAgeMs: number;
  url: () => string | null;
  accepting: () => boolean;
  /** The channels' supervisor's view (http, telegram, webhook). */
  channels: () => ChannelSnapshot[];
  dataDir: string;
  scheduler: () => ScheduledJobStatus[];
  /** Set while the queue's workers fail to reach the database (they retry with backoff). */
  queueFailure: () => string | null;
  /** Free space below this turns storage degraded (and below a tenth of it, down). */
  diskWarnBytes?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const worst = (states: ComponentState[]): ComponentState =>
  states.includes('down') ? 'down' : states.includes('degraded') ? 'degraded' : 'ok';

/** What one component's check found: its state, the details shown, and the error that explains a bad state. */
interface Reading<N extends ComponentName> {
  state: ComponentState;
  details: Components[N]['details'];
  error?: string;
}

/** Builds the status document (docs/api.md; its shape is `StatusDocument` in @alter0/api) from live figures; cheap enough to serve per request. */
export function buildStatus(d: StatusDeps): StatusDocument {
  const now = d.now();
  const component = <N extends ComponentName>(name: N, r: Reading<N>) => {
    d.health.set(name, r.state, r.error);
    const h = d.health.get(name);
    return {
      state: h.state,
      since: iso(h.since),
      last_error: h.lastError ? { message: h.lastError.message, at: iso(h.lastError.at) } : null,
      details: r.details,
    };
  };
  const components: Components = {
    gateway: component('gateway', gatewayReading(d, now)),
    queue: component('queue', queueReading(d, now)),
    executor: component('executor', executorReading(d)),
    scheduler: component('scheduler', schedulerReading(d)),
    storage: component('storage', storageReading(d)),
  };
  return {
    version: d.version,
    started_at: iso(d.startedAt),
    // The process's own monotonic clock: after the wall clock steps back past started_at, now − started_at
    // is negative (and breaks the contract); a step forward would add hours that never passed.
    uptime_s: Math.round(process.uptime()),
    state: worst(Object.values(components).map((c) => c.state)),
    components,
  };
}

/**
 * Down when it no longer accepts (stopping); degraded while a channel fails or a notice has waited long; the
 * channel's own error is the gateway's.
 */
function gatewayReading(d: StatusDeps, now: number): Reading<'gateway'> {
  const channels = d.channels();
  const outbox = d.store.outbox.summary();
  const failing = channels.find((c) => c.state !== 'ok');
  const state: ComponentState = !d.accepting() ? 'down' : failing ? 'degraded' : 'ok';
  return {
    state,
    details: {
      url: d.url(),
      accepting: d.accepting(),
      channels: channels.map((c) => ({
        name: c.name,
        state: c.name === 'http' && !d.accepting() ? 'down' : c.state,
        since: iso(c.since),
        last_error: c.lastError && { message: c.lastError.message, at: iso(c.lastError.at) },
        restarts: c.restarts,
        next_retry_at: c.nextRetryAt === null ? null : iso(c.nextRetryAt),
      })),
      outbox: {
        pending: outbox.pending,
        dead: outbox.dead,
        oldest_pending_age_ms: outbox.oldestPendingAt === null ? null : Math.max(0, now - outbox.oldestPendingAt),
        last_error: outbox.lastError,
      },
    },
    error: failing
      ? `channel ${failing.name} is ${failing.state}: ${failing.lastError?.message ?? 'no error recorded'}`
      : undefined,
  };
}

/** Degraded while the workers fail to reach the database or a job has waited too long. */
function queueReading(d: StatusDeps, now: number): Reading<'queue'> {
  const stats = d.store.jobs.stats(now);
  const oldest = Math.max(stats.oldestQueuedAgeMs.interactive ?? 0, stats.oldestQueuedAgeMs.background ?? 0);
  const failure = d.queueFailure();
  const state: ComponentState = failure !== null || oldest > d.queueDegradedAgeMs ? 'degraded' : 'ok';
  return {
    state,
    details: {
      depth: stats.depth,
      oldest_queued_age_ms: stats.oldestQueuedAgeMs,
      running: stats.running,
      workers: { total: d.workers, busy: d.pool.busy() },
      jobs_by_state: stats.byState,
    },
    error:
      failure ?? (state === 'degraded' ? `a job has waited ${Math.round(oldest / 1000)}s in the queue` : undefined),
  };
}

/** Degraded when an executor's probe failed or it failed too many times in a row. */
function executorReading(d: StatusDeps): Reading<'executor'> {
  const execs = d.executors.kinds().map((kind) => {
    const probe = d.executors.probes.get(kind);
    const failures = d.executors.consecutiveFailures.get(kind) ?? 0;
    const state: ComponentState =
      probe && !probe.ok ? 'degraded' : failures >= d.degradeAfterFailures ? 'degraded' : 'ok';
    return {
      kind,
      state,
      path: probe?.path ?? null,
      version: probe?.version ?? null,
      probe_error: probe?.error ?? null,
      consecutive_failures: failures,
      last_error_class: d.executors.lastErrorClass.get(kind) ?? null,
    };
  });
  const badExec = execs.find((e) => e.state !== 'ok');
  return {
    state: worst(execs.map((e) => e.state)),
    details: { executors: execs },
    error: badExec
      ? badExec.probe_error
        ? `${badExec.kind}: ${badExec.probe_error}`
        : `${badExec.kind}: ${badExec.consecutive_failures} consecutive failures (last: ${badExec.last_error_class})`
      : undefined,
  };
}

/** Degraded while a maintenance job keeps failing. */
function schedulerReading(d: StatusDeps): Reading<'scheduler'> {
  const jobs = d.scheduler();
  const failing = jobs.filter((j) => j.consecutiveFailures > 0);
  // The owner's schedules are shown here; a paused one is the owner's to resume, not a fault of alter0.
  const owner = d.store.schedules.summary();
  return {
    state: failing.length > 0 ? 'degraded' : 'ok',
    details: {
      jobs: jobs.map((j) => ({
        name: j.name,
        every: j.every,
        running: j.running,
        last_run: j.lastStartAt === null ? null : iso(j.lastStartAt),
        last_success: j.lastSuccessAt === null ? null : iso(j.lastSuccessAt),
        last_error: j.lastError,
        last_error_at: j.lastErrorAt === null ? null : iso(j.lastErrorAt),
        consecutive_failures: j.consecutiveFailures,
        next_run: j.nextRunAt === null ? null : iso(j.nextRunAt),
      })),
      schedules: {
        count: owner.count,
        active: owner.active,
        paused: owner.paused.length,
        next_run_at: owner.next === null ? null : iso(owner.next.at),
        next_id: owner.next?.id ?? null,
        paused_ids: owner.paused,
        failing: owner.failing,
      },
    },
    error: failing[0]
      ? `${failing[0].name}: ${failing[0].lastError ?? 'failed'} (${failing[0].consecutiveFailures} in a row)`
      : undefined,
  };
}

/** Degraded when free disk space is low, down below a tenth of the warning level. */
function storageReading(d: StatusDeps): Reading<'storage'> {
  const sizes = d.store.sizes();
  let freeBytes: number | null = null;
  try {
    const s = fs.statfsSync(d.dataDir);
    freeBytes = s.bavail * s.bsize;
  } catch {
    freeBytes = null;
  }
  const warn = d.diskWarnBytes ?? 500 * 1024 * 1024;
  const state: ComponentState =
    freeBytes === null ? 'ok' : freeBytes < warn / 10 ? 'down' : freeBytes < warn ? 'degraded' : 'ok';
  return {
    state,
    details: {
      db_bytes: sizes.dbBytes,
      wal_bytes: sizes.walBytes,
      schema_version: d.store.opened.schema.dbVersion,
      free_bytes: freeBytes,
      data_dir: d.dataDir,
    },
    error: state === 'ok' ? undefined : storageError(freeBytes ?? 0, d.dataDir),
  };
}

/** Less free space than this and SQLite's next page, WAL frame or journal does not fit: the disk is full. */
const FULL_BELOW_BYTES = 1024 * 1024;

/** Why storage is not ok: a full disk says what that means for the owner and that it passes by itself. */
export function storageError(freeBytes: number, dataDir: string): string {
  if (freeBytes < FULL_BELOW_BYTES)
    return `the disk holding ${dataDir} is full: ${freeBytes} bytes free; new messages are refused (507 storage_full) and job outcomes wait until space is freed, then alter0 takes writes again by itself (no restart needed)`;
  return `free disk space is low: ${Math.round(freeBytes / 1048576)} MiB left in ${dataDir}`;
}
