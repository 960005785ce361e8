import type { SoakOptions } from './options.js';
import { FAULT_KINDS } from './plan.js';
import type { FaultKind } from './plan.js';
import type { MomentRecord } from './day/feature.js';
import type { Point } from './stats.js';

export const VIOLATION_KINDS = [
  'lost_message',
  'stuck_running',
  'unrecovered_job',
  'not_terminal',
  'integrity',
  'orphan_process',
  'unexpected_outcome',
  'restart_failed',
  'resource_bound',
  'contract_drift',
  'reexecuted',
  'canceled_and_answered',
  'verify',
  'notification_lost',
  'telegram_message_lost',
  'approval_overdue',
  'schedule_duplicate',
  'schedule_lost',
  'hostile_outcome',
  'daemon_exit',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

/** The invariants counted per check performed (stuck_running is checked on every poll, not counted). */
type CheckKind =
  | 'lost_message'
  | 'unrecovered_job'
  | 'not_terminal'
  | 'integrity'
  | 'orphan_process'
  | 'unexpected_outcome'
  | 'reexecuted'
  | 'canceled_and_answered'
  | 'verify'
  | 'notification_lost'
  | 'telegram_message_lost'
  | 'approval_overdue'
  | 'schedule_duplicate'
  | 'schedule_lost'
  | 'hostile_outcome';

export interface Violation {
  kind: ViolationKind;
  at: number;
  detail: string;
}

export type RequestKind = 'sync' | 'async' | 'followup' | 'retry' | 'cancel' | 'close_task';

/** Why a daemon lifetime ended: the harness's kill -9, the watchdog (no ping for WatchdogSec), or its own exit. */
export type RestartCause = 'kill' | 'watchdog' | 'exit';

export interface RestartRecord {
  cause: RestartCause;
  gen: number;
  at: number;
  /** Kill sent → process gone. */
  killMs: number;
  /** Spawn → /readyz 200. */
  startMs: number;
  /** killMs + startMs: the outage a client sees (the harness's own DB snapshot in between is not counted). */
  restartMs: number;
  leftRunning: number;
  recovered: number;
  agentsAtKill: number;
  /** Filled in later: the orphan check runs 5 s after the restart, without holding up the next kill. */
  orphansAfterRestart: number;
}

interface Samples {
  rssMb: Point[];
  /** V8 heap in use (prom-client's nodejs_heap_size_used_bytes): tells a JS leak from native or allocator growth. */
  heapMb: Point[];
  /** The candidates worker thread's V8 heap in use (alter0_worker_heap_bytes): its own isolate, outside heapMb. */
  workerHeapMb: Point[];
  /** Both isolates' committed V8 heaps (nodejs_heap_size_total_bytes + the worker's total): V8's own sizing. */
  heapCommittedMb: Point[];
  /** RSS less heapCommittedMb: the memory V8 does not manage, where a native leak shows. */
  nativeMb: Point[];
  fds: Point[];
  dbMb: Point[];
  walMb: Point[];
  queueDepth: Point[];
  openTasks: Point[];
  agents: Point[];
}

export interface SoakResult {
  options: SoakOptions;
  runId: string;
  dataDir: string;
  startedAt: number;
  loadEndedAt: number;
  drainedAt: number;
  endedAt: number;
  interrupted: boolean;
  drained: boolean;
  requests: Record<RequestKind, { sent: number; accepted: number; refused: number; errors: number }>;
  accepted: number;
  outcomes: {
    succeeded: number;
    succeeded_after_retry: number;
    failed: number;
    canceled: number;
    recovered: number;
    failed_by_class: Record<string, number>;
  };
  faultsPlanned: Record<FaultKind, number>;
  faultsInjected: Record<FaultKind, number>;
  agentRuns: Record<string, number>;
  restarts: RestartRecord[];
  checks: Record<CheckKind, number>;
  violations: Violation[];
  samples: Samples;
  daemonErrorLines: number;
  daemonLastErrors: string[];
  finalDb: { integrity: string | null; by_state: Record<string, number> } | null;
  dbBytesEnd: number;
  /** Answers that did not match the API contract (each distinct drift is also a violation). */
  contractDrifts: number;
  harnessErrors: string[];
  /** The day profile's hostile moments, in the order they ran. */
  moments: MomentRecord[];
  /** Every job's [created_at, started_at, finished_at, state] from the database at the end (latency per hour). */
  jobTimings: [number, number | null, number | null, string][];
  /** Round trips of the requests that accept work: [sent at, ms, kind]. */
  latencies: [number, number, string][];
  /** Parts of the day profile left out, and why (a missing tool outside CI). */
  skipped: string[];
  /** Polls the daemon did not answer within their bound (it was stopped, held, or being killed). */
  pollsUnanswered: number;
  /** Starts of a generation that failed and were tried again (the supervisor's RestartSec). */
  failedStarts: number;
  /** Restarts whose database check was merged into the next one (restarts came faster than checks). */
  dbChecksMerged: number;
  /** Each feature's own counters for the report (e.g. telegram: { updates_sent, replies_received }). */
  features: Record<string, Record<string, number>>;
}

/** A result with every counter at zero, for a run starting now. */
export function emptyResult(opts: SoakOptions, runId: string, dataDir: string): SoakResult {
  const zero = (): { sent: number; accepted: number; refused: number; errors: number } => ({
    sent: 0,
    accepted: 0,
    refused: 0,
    errors: 0,
  });
  return {
    options: opts,
    runId,
    dataDir,
    startedAt: Date.now(),
    loadEndedAt: 0,
    drainedAt: 0,
    endedAt: 0,
    interrupted: false,
    drained: false,
    requests: { sync: zero(), async: zero(), followup: zero(), retry: zero(), cancel: zero(), close_task: zero() },
    accepted: 0,
    outcomes: { succeeded: 0, succeeded_after_retry: 0, failed: 0, canceled: 0, recovered: 0, failed_by_class: {} },
    faultsPlanned: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    faultsInjected: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    agentRuns: {},
    restarts: [],
    checks: {
      lost_message: 0,
      unrecovered_job: 0,
      not_terminal: 0,
      integrity: 0,
      orphan_process: 0,
      unexpected_outcome: 0,
      reexecuted: 0,
      canceled_and_answered: 0,
      verify: 0,
      notification_lost: 0,
      telegram_message_lost: 0,
      approval_overdue: 0,
      schedule_duplicate: 0,
      schedule_lost: 0,
      hostile_outcome: 0,
    },
    violations: [],
    samples: {
      rssMb: [],
      heapMb: [],
      workerHeapMb: [],
      heapCommittedMb: [],
      nativeMb: [],
      fds: [],
      dbMb: [],
      walMb: [],
      queueDepth: [],
      openTasks: [],
      agents: [],
    },
    daemonErrorLines: 0,
    daemonLastErrors: [],
    finalDb: null,
    dbBytesEnd: 0,
    contractDrifts: 0,
    harnessErrors: [],
    moments: [],
    jobTimings: [],
    latencies: [],
    dbChecksMerged: 0,
    failedStarts: 0,
    pollsUnanswered: 0,
    skipped: [],
    features: {},
  };
}
