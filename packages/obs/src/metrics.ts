import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CloseSource, ErrorClass, ExecutorKind, Lane, RouteFallback } from '@alter0/core';
import { DUPLICATE_DEFAULT_METRICS, eventLoopMetrics } from './event-loop.js';

/** Seconds: 5 ms … 4 h, so both a quick route call and a long agent run land in a real bucket. */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400,
];

/** What a job's time is split into: waiting in the queue, the three pipeline stages, and all of it. */
export type TimedStage = 'queue_wait' | 'route' | 'execute' | 'close' | 'total';
export type JobOutcome = 'succeeded' | 'failed' | 'canceled';
export type RouteOutcome = 'existing' | 'new' | 'explicit';
export type CloseAction = 'close' | 'keep_open' | 'reopen';

export interface MaintenanceState {
  /** Epoch milliseconds of the last successful run, or null if it never succeeded. */
  lastSuccessTs: number | null;
  consecutiveFailures: number;
}

/** The daemon's metrics, on a registry of their own (never prom-client's global one). */
export interface Metrics {
  /** A message was accepted (committed) from this channel. */
  accepted(channel: string): void;
  jobFinished(lane: Lane, outcome: JobOutcome): void;
  stageDuration(stage: TimedStage, seconds: number): void;
  queueDepth(lane: Lane, n: number): void;
  /** Age of the oldest queued job in the lane; null when the lane is empty. */
  oldestQueuedAge(lane: Lane, seconds: number | null): void;
  running(n: number): void;
  /** The database connection's commits so far, by durability (Store.commitCounts, read at scrape time). */
  dbCommits(counts: { durable: number; relaxed: number }): void;
  executorError(kind: ExecutorKind, errorClass: ErrorClass): void;
  routeDecision(outcome: RouteOutcome, fallback: RouteFallback | null): void;
  closeDecision(source: CloseSource, action: CloseAction): void;
  /** Jobs found `running` at boot and recovered. */
  rescuedJobs(n: number): void;
  tasksOpen(n: number): void;
  maintenance(job: string, state: MaintenanceState): void;
  buildInfo(version: string, commit: string, node: string): void;
  /** A channel's state now (one series per state, 1 for the current one). */
  channelState(channel: string, state: 'ok' | 'degraded' | 'down'): void;
  channelRestarted(channel: string): void;
  /** A notice's delivery attempt: sent, failed (to be retried) or given up. */
  noticeDelivery(channel: string, outcome: 'sent' | 'failed' | 'given_up'): void;
  /** Notices waiting in the outbox (read at scrape time). */
  outboxPending(n: number): void;
  /** A schedule's due slot: fired (a job), missed (skipped after downtime), refused (queue full, task gone). */
  scheduleFiring(outcome: 'fired' | 'missed' | 'refused'): void;
  /** What an agent run reported when its reply was stored: tokens in and out, cost in USD (each when reported). */
  usage(executor: ExecutorKind, u: { inputTokens?: number; outputTokens?: number; costUsd?: number }): void;
  render(): Promise<{ contentType: string; body: string }>;
  /**
   * A worker thread's V8 heap (its own isolate: nodejs_heap_* is the main thread's only), read at scrape time;
   * `read` answers null while the worker has no thread.
   */
  workerHeap(worker: string, read: () => WorkerHeap | null): void;
  /** The underlying registry, for metrics another package defines itself. */
  readonly registry: Registry;
}

export interface WorkerHeap {
  usedBytes: number;
  totalBytes: number;
}

export interface MetricsOptions {
  /**
   * Collect process metrics: prom-client's (CPU, memory, heap, handles, GC) and alter0's event-loop delay and
   * utilization since the previous scrape (`alter0_event_loop_*`). Default true.
   */
  processMetrics?: boolean;
  /** Distinct channel labels kept before others are counted as "other" (channel ids come from clients). Default 32. */
  maxChannels?: number;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = newRegistry(opts.processMetrics ?? true);
  // Defined in this order, which is the order they are rendered in.
  const registers = [registry];
  const { accepted, jobs, stage, depth, oldest, running, commits } = queueMetrics(registers);
  const seenCommits = { durable: 0, relaxed: 0 };
  const { execErrors, routes, closes, rescued, tasksOpen } = decisionMetrics(registers);
  const { maintSuccess, maintFailures, build } = serviceMetrics(registers);
  const { channelUp, channelRestarts, notices, outboxPending } = channelMetrics(registers);
  const scheduleFirings = new Counter({
    name: 'alter0_schedule_firings_total',
    help: "The owner's schedules' due slots, by outcome: fired (a job), missed (skipped after downtime), refused.",
    labelNames: ['outcome'] as const,
    registers,
  });
  const { tokens, cost } = usageMetrics(registers);
  const workerHeap = workerHeapMetric(registers);
  const channelLabel = channelLabeler(opts.maxChannels ?? 32);

  return {
    registry,
    accepted: (channel) => accepted.inc({ channel: channelLabel(channel) }),
    jobFinished: (lane, outcome) => jobs.inc({ lane, outcome }),
    stageDuration: (s, seconds) => {
      if (Number.isFinite(seconds)) stage.observe({ stage: s }, Math.max(0, seconds));
    },
    queueDepth: (lane, n) => depth.set({ lane }, n),
    oldestQueuedAge: (lane, seconds) => {
      if (seconds === null) oldest.remove({ lane });
      else oldest.set({ lane }, seconds);
    },
    running: (n) => running.set(n),
    dbCommits: (counts) => {
      for (const d of ['durable', 'relaxed'] as const) {
        if (counts[d] > seenCommits[d]) commits.inc({ durability: d }, counts[d] - seenCommits[d]);
        seenCommits[d] = Math.max(seenCommits[d], counts[d]);
      }
    },
    executorError: (kind, errorClass) => execErrors.inc({ executor: kind, class: errorClass }),
    routeDecision: (outcome, fallback) => routes.inc({ outcome, fallback: fallback ?? 'none' }),
    closeDecision: (source, action) => closes.inc({ source, action }),
    rescuedJobs: (n) => {
      if (n > 0) rescued.inc(n);
    },
    tasksOpen: (n) => tasksOpen.set(n),
    maintenance: (job, state) => {
      if (state.lastSuccessTs === null) maintSuccess.remove({ job });
      else maintSuccess.set({ job }, state.lastSuccessTs / 1000);
      maintFailures.set({ job }, state.consecutiveFailures);
    },
    buildInfo: (version, commit, node) => {
      build.reset();
      build.set({ version, commit, node }, 1);
    },
    channelState: (channel, state) => {
      for (const st of ['ok', 'degraded', 'down'] as const) channelUp.set({ channel, state: st }, st === state ? 1 : 0);
    },
    channelRestarted: (channel) => channelRestarts.inc({ channel }),
    noticeDelivery: (channel, outcome) => notices.inc({ channel, outcome }),
    outboxPending: (n) => outboxPending.set(n),
    scheduleFiring: (outcome) => scheduleFirings.inc({ outcome }),
    usage: (executor, u) => {
      const add = (counter: Counter<string>, labels: Record<string, string>, n: number | undefined): void => {
        if (typeof n === 'number' && Number.isFinite(n) && n > 0) counter.inc(labels, n);
      };
      add(tokens, { executor, direction: 'in' }, u.inputTokens);
      add(tokens, { executor, direction: 'out' }, u.outputTokens);
      add(cost, { executor }, u.costUsd);
    },
    workerHeap,
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}

function newRegistry(processMetrics: boolean): Registry {
  const registry = new Registry();
  if (!processMetrics) return registry;
  // Unprefixed, so stock Node.js dashboards (process_*, nodejs_*) work as they are. The event loop's delay comes
  // from alter0's own monitor (event-loop.ts): prom-client's copies of the same figures are removed, and its
  // histogram, which nothing reads then, samples once a second instead of every 10 ms.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  // These three are gauges named like counters, which `promtool check metrics` rejects; the same figures
  // are in nodejs_active_handles / _requests / _resources (per type).
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
    ...DUPLICATE_DEFAULT_METRICS,
  ]) {
    registry.removeSingleMetric(name);
  }
  eventLoopMetrics([registry]);
  return registry;
}

/** Worker threads' heaps, each read by its callback at scrape time (a thread's isolate is not the main one). */
function workerHeapMetric(registers: Registry[]): Metrics['workerHeap'] {
  const readers = new Map<string, () => WorkerHeap | null>();
  const gauge = new Gauge({
    name: 'alter0_worker_heap_bytes',
    help: "A worker thread's V8 heap (its own isolate), after its last task: used and total (committed).",
    labelNames: ['worker', 'kind'] as const,
    registers,
    collect() {
      for (const [worker, read] of readers) {
        const heap = read();
        if (heap === null) {
          gauge.remove({ worker, kind: 'used' });
          gauge.remove({ worker, kind: 'total' });
        } else {
          gauge.set({ worker, kind: 'used' }, heap.usedBytes);
          gauge.set({ worker, kind: 'total' }, heap.totalBytes);
        }
      }
    },
  });
  return (worker, read) => {
    readers.set(worker, read);
  };
}

/** Intake, job outcomes, stage durations and the queue's gauges. */
function queueMetrics(registers: Registry[]) {
  const accepted = new Counter({
    name: 'alter0_messages_accepted_total',
    help: 'Messages accepted (committed) per channel.',
    labelNames: ['channel'] as const,
    registers,
  });
  const jobs = new Counter({
    name: 'alter0_jobs_finished_total',
    help: 'Jobs that reached a terminal state, by lane and outcome.',
    labelNames: ['lane', 'outcome'] as const,
    registers,
  });
  const stage = new Histogram({
    name: 'alter0_stage_duration_seconds',
    help: 'Time spent per job stage (queue_wait, route, execute, close, total).',
    labelNames: ['stage'] as const,
    buckets: [...DURATION_BUCKETS],
    registers,
  });
  const depth = new Gauge({
    name: 'alter0_queue_depth',
    help: 'Queued jobs per lane.',
    labelNames: ['lane'] as const,
    registers,
  });
  const oldest = new Gauge({
    name: 'alter0_queue_oldest_age_seconds',
    help: 'Age of the oldest queued job per lane (absent when the lane is empty).',
    labelNames: ['lane'] as const,
    registers,
  });
  const running = new Gauge({ name: 'alter0_jobs_running', help: 'Jobs running now.', registers });
  const commits = new Counter({
    name: 'alter0_db_commits_total',
    help: 'Commits of the database connection: durable (one fsync each) and relaxed (none; docs/architecture.md, invariant 12).',
    labelNames: ['durability'] as const,
    registers,
  });
  return { accepted, jobs, stage, depth, oldest, running, commits };
}

/** Executor errors, route and close decisions, recovered jobs and open tasks. */
function decisionMetrics(registers: Registry[]) {
  const execErrors = new Counter({
    name: 'alter0_executor_errors_total',
    help: 'Executor failures by executor kind and error class.',
    labelNames: ['executor', 'class'] as const,
    registers,
  });
  const routes = new Counter({
    name: 'alter0_route_decisions_total',
    help: 'Routing decisions by outcome and fallback reason ("none" when the router was followed).',
    labelNames: ['outcome', 'fallback'] as const,
    registers,
  });
  const closes = new Counter({
    name: 'alter0_close_decisions_total',
    help: 'Close decisions by source and action.',
    labelNames: ['source', 'action'] as const,
    registers,
  });
  const rescued = new Counter({
    name: 'alter0_rescued_jobs_total',
    help: 'Jobs found running at boot and recovered.',
    registers,
  });
  const tasksOpen = new Gauge({ name: 'alter0_tasks_open', help: 'Open tasks.', registers });
  return { execErrors, routes, closes, rescued, tasksOpen };
}

/** Maintenance runs and what build is running. */
function serviceMetrics(registers: Registry[]) {
  const maintSuccess = new Gauge({
    name: 'alter0_maintenance_last_success_timestamp_seconds',
    help: 'Unix time of the last successful run per maintenance job (absent if it never succeeded).',
    labelNames: ['job'] as const,
    registers,
  });
  const maintFailures = new Gauge({
    name: 'alter0_maintenance_consecutive_failures',
    help: 'Failures in a row per maintenance job.',
    labelNames: ['job'] as const,
    registers,
  });
  const build = new Gauge({
    name: 'alter0_build_info',
    help: 'Always 1; the labels say what is running.',
    labelNames: ['version', 'commit', 'node'] as const,
    registers,
  });
  return { maintSuccess, maintFailures, build };
}

/** What the agents reported using: tokens and dollars, per executor. */
function usageMetrics(registers: Registry[]) {
  const tokens = new Counter({
    name: 'alter0_tokens_total',
    help: 'Tokens the agent CLIs reported for the runs whose reply was stored, by executor and direction (in, out).',
    labelNames: ['executor', 'direction'] as const,
    registers,
  });
  const cost = new Counter({
    name: 'alter0_cost_usd_total',
    help: 'Cost in USD the agent CLIs reported (claude does) for the runs whose reply was stored, by executor.',
    labelNames: ['executor'] as const,
    registers,
  });
  return { tokens, cost };
}

function channelMetrics(registers: Registry[]) {
  const channelUp = new Gauge({
    name: 'alter0_channel_state',
    help: "1 for each channel's current state (ok, degraded, down), 0 for the others.",
    labelNames: ['channel', 'state'] as const,
    registers,
  });
  const channelRestarts = new Counter({
    name: 'alter0_channel_restarts_total',
    help: 'Restarts of a channel after it failed.',
    labelNames: ['channel'] as const,
    registers,
  });
  const notices = new Counter({
    name: 'alter0_notices_total',
    help: 'Delivery attempts of notices (a job that ended, to a chat or a webhook), by outcome.',
    labelNames: ['channel', 'outcome'] as const,
    registers,
  });
  const outboxPending = new Gauge({
    name: 'alter0_outbox_pending',
    help: 'Notices waiting to be delivered.',
    registers,
  });
  return { channelUp, channelRestarts, notices, outboxPending };
}

/** Channel ids come from clients: the first `max` distinct ones keep their label, the rest count as "other". */
function channelLabeler(max: number): (channel: string) => string {
  const channels = new Set<string>();
  return (c) => {
    if (channels.has(c)) return c;
    if (channels.size >= max) return 'other';
    channels.add(c);
    return c;
  };
}
