import type { ComponentState, ErrorClass, ExecutorKind, Lane } from '@alter0/core';

/** The sections of the status document (docs/api.md, GET /api/status). */
export const COMPONENT_NAMES = ['gateway', 'queue', 'executor', 'scheduler', 'storage'] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

export interface LastError {
  message: string;
  /** RFC 3339 UTC. */
  at: string;
}

export interface ComponentStatus<D extends object = Record<string, unknown>> {
  state: ComponentState;
  /** When `state` last changed (RFC 3339 UTC). */
  since: string;
  last_error: LastError | null;
  details: D;
}

export interface QueueDetails {
  depth: Record<Lane, number>;
  oldest_queued_age_ms: number | null;
  running: number;
  workers: Record<Lane, number>;
}

export interface ExecutorStatus {
  kind: ExecutorKind;
  state: ComponentState;
  version: string | null;
  consecutive_failures: number;
  last_error_class: ErrorClass | null;
}

export interface ExecutorDetails {
  executors: ExecutorStatus[];
}

export interface StorageDetails {
  db_bytes: number;
  wal_bytes: number;
  schema_version: number;
}

export interface StatusComponents {
  gateway: ComponentStatus;
  queue: ComponentStatus<QueueDetails | Record<string, unknown>>;
  executor: ComponentStatus<ExecutorDetails | Record<string, unknown>>;
  scheduler: ComponentStatus;
  storage: ComponentStatus<StorageDetails | Record<string, unknown>>;
}

export interface StatusDocument {
  version: string;
  started_at: string;
  uptime_s: number;
  state: ComponentState;
  components: StatusComponents;
}

const SEVERITY: Readonly<Record<ComponentState, number>> = { ok: 0, degraded: 1, down: 2 };

/** The worst of the states (ok < degraded < down); ok for none. */
export function worstState(states: Iterable<ComponentState>): ComponentState {
  let worst: ComponentState = 'ok';
  for (const s of states) if (SEVERITY[s] > SEVERITY[worst]) worst = s;
  return worst;
}

export interface ComponentHealthOptions {
  /** State every component starts in. Default 'down': a component is ok only once it says so. */
  initial?: ComponentState;
  now?: () => Date;
}

/**
 * Tracks each component's state, when it last changed, and its last error. The last error is
 * kept after recovery (the status page shows "ok since 10:02, last error at 10:01").
 */
export class ComponentHealth {
  private readonly entries: Record<ComponentName, ComponentStatus>;
  private readonly now: () => Date;

  constructor(opts: ComponentHealthOptions = {}) {
    this.now = opts.now ?? (() => new Date());
    const since = this.now().toISOString();
    const initial = opts.initial ?? 'down';
    const entry = (): ComponentStatus => ({ state: initial, since, last_error: null, details: {} });
    this.entries = { gateway: entry(), queue: entry(), executor: entry(), scheduler: entry(), storage: entry() };
  }

  /** Sets the state; `since` moves only when the state changes. An error given is recorded as the last error. */
  set(component: ComponentName, state: ComponentState, error?: unknown): void {
    const e = this.entries[component];
    const at = this.now().toISOString();
    if (e.state !== state) {
      e.state = state;
      e.since = at;
    }
    if (error !== undefined && error !== null) e.last_error = { message: errorText(error), at };
  }

  /** Replaces the figures that explain a component's state. */
  setDetails(component: ComponentName, details: Record<string, unknown>): void {
    this.entries[component].details = details;
  }

  get(component: ComponentName): ComponentStatus {
    return copy(this.entries[component]);
  }

  state(): ComponentState {
    return worstState(COMPONENT_NAMES.map((c) => this.entries[c].state));
  }

  /** A copy of every component and the overall state (the worst component's). */
  snapshot(): { state: ComponentState; components: StatusComponents } {
    return {
      state: this.state(),
      components: {
        gateway: copy(this.entries.gateway),
        queue: copy(this.entries.queue),
        executor: copy(this.entries.executor),
        scheduler: copy(this.entries.scheduler),
        storage: copy(this.entries.storage),
      },
    };
  }
}

function copy(e: ComponentStatus): ComponentStatus {
  return { state: e.state, since: e.since, last_error: e.last_error === null ? null : { ...e.last_error }, details: structuredClone(e.details) };
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** Assembles GET /api/status from the tracker. */
export function statusDocument(opts: { version: string; startedAt: Date; now?: Date; health: ComponentHealth }): StatusDocument {
  const now = opts.now ?? new Date();
  const snap = opts.health.snapshot();
  return {
    version: opts.version,
    started_at: opts.startedAt.toISOString(),
    uptime_s: Math.max(0, Math.floor((now.getTime() - opts.startedAt.getTime()) / 1000)),
    state: snap.state,
    components: snap.components,
  };
}
