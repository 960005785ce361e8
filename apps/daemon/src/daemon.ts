import fs from 'node:fs';
import type { Hono } from 'hono';
import type { Executor, ExecutorKind, Lane } from '@alter0/core';
import type { ChannelSnapshot } from '@alter0/channels';
import type { StatusDocument } from '@alter0/api';
import type { Config, Redact } from '@alter0/config';
import { allowedHosts, parseDuration, readTokenFile, redactorFor, splitListen, isLoopbackHost } from '@alter0/config';
import { acquireDataDirLock } from '@alter0/store';
import type { Accepted, DataDirLock, Store } from '@alter0/store';
import type { WorkerPool } from '@alter0/queue';
import type { Logger, Metrics } from '@alter0/obs';
import { createMetrics } from '@alter0/obs';
import { MaintenancePool, privateDir } from '@alter0/maintenance';
import type { Scheduler } from '@alter0/maintenance';
import { Bus } from './bus.js';
import { createApi } from './api.js';
import { Intake } from './intake.js';
import type { ExecutorRegistry } from './executors.js';
import { createPipeline } from './pipeline.js';
import type { PipelineDeps } from './pipeline.js';
import { CandidateSource } from './candidates.js';
import { manualCloseRule } from './manual-close.js';
import { Health, buildStatus } from './status.js';
import { DEFAULT_WEB_ROOT, mountConsole } from './static.js';
import { buildInfo } from './version.js';
import { createNotifier } from './notify.js';
import { Approvals } from './approvals/service.js';
import type { ApprovalsOptions } from './approvals/service.js';
import { buildChannels } from './boot/channels.js';
import { loadMemoryTemplate } from '@alter0/memory';
import { offersClosedTasks } from '@alter0/routing';
import type { Channels } from './boot/channels.js';
import { buildAgents } from './boot/agents.js';
import { keepListening, listen, urlOf } from './boot/listen.js';
import { ScheduleService } from './schedules/service.js';
import { scheduleMaintenance } from './boot/maintenance.js';
import { reapAgents, recoverJobs } from './boot/recover.js';
import { stopper } from './boot/stop.js';
import { openStorage, refuseOnFatalChecks, undoStart } from './boot/storage.js';
import type { Cleanup } from './boot/storage.js';
import { buildWorkers } from './boot/workers.js';
import type { Workers } from './boot/workers.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** Replace executors (tests and benchmarks). */
  executors?: Partial<Record<ExecutorKind, Executor>>;
  webRoot?: string | null;
  now?: () => number;
  /**
   * The one redactor (built from the config and the API token): agent stderr, error messages and probe errors pass
   * through it before they are stored. `alter0 serve` builds it before the logger, which uses it too. Default: built
   * here from the config.
   */
  redact?: Redact;
}

export interface Daemon {
  readonly url: string;
  readonly store: Store;
  readonly metrics: Metrics;
  /** Graceful stop (invariant 1, docs/architecture.md): refuse new work, drain, re-queue the rest, checkpoint, close, release the lock. */
  stop(opts?: { drainMs?: number }): Promise<void>;
  /**
   * Immediate: SIGKILL every agent process tree now (synchronous, for a forced exit). Jobs left `running` are
   * recovered at the next start; nothing committed is lost.
   */
  killAgents(): number;
}

/** The API token clients must present, or null when the API is open (loopback without token_file). */
export function apiToken(config: Pick<Config, 'listen' | 'token_file'>): string | null {
  return isLoopbackHost(splitListen(config.listen).host) && !config.token_file
    ? null
    : readTokenFile(config.token_file);
}

/**
 * Starts alter0 in this process: takes the data directory's lock, opens and migrates the database, recovers the
 * previous process's orphans before any worker starts, then starts the workers and the HTTP listener.
 */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { config, logger } = opts;
  const now = opts.now ?? Date.now;
  const dataDir = config.data_dir;
  const info = buildInfo();
  // First, before anything spawns a child: it takes NOTIFY_SOCKET out of the environment agents inherit.
  const notifier = createNotifier({ env: process.env, logger });
  // The owner's only, whatever the umask: the database holds every prompt and reply.
  if (!fs.existsSync(dataDir)) privateDir(dataDir);
  const lock: DataDirLock = acquireDataDirLock(dataDir);
  const cleanup: Cleanup = [() => lock.release()];
  try {
    // Maintenance runs in a child process that leaves when idle: the daemon's own memory stays lean (pool.ts).
    const maintenancePool = new MaintenancePool({ runtime: 'child_process' });
    cleanup.unshift(() => maintenancePool.close());
    await refuseOnFatalChecks(config, logger, maintenancePool);
    const store = openStorage(config, logger, cleanup);
    // Recovery comes before any worker exists (invariant 1).
    const rescued = recoverJobs(store, logger, now);
    store.events.add({
      component: 'gateway',
      level: 'info',
      kind: 'started',
      message: `alter0 ${info.version} started (pid ${process.pid})`,
      now: now(),
    });
    const metrics = createMetrics();
    metrics.buildInfo(info.version, info.commit ?? 'unknown', info.node);
    metrics.rescuedJobs(rescued);
    const dirs = reapAgents(dataDir, store, logger, now);
    const token = apiToken(config);
    const redact = opts.redact ?? redactorFor(config, token);
    const agentOptions = { groupsDir: dirs.groupsDir, overrides: opts.executors, redact, token, cleanup };
    const { executors, router, closer, probeAbort } = buildAgents(config, logger, agentOptions);
    const bus = new Bus();
    const scheduler = scheduleMaintenance(config, { pool: maintenancePool, store, logger, metrics, bus, now });
    cleanup.unshift(() => scheduler.stop());
    const state: ServingState = { accepting: true, url: null, startedAt: now() };
    const approvals = buildApprovals(config, { store, bus, logger, redact, now, url: () => state.url }, cleanup);
    const queueDeps = { store, bus, logger, metrics, now, executors, router, closer, dirs, cleanup, approvals };
    const workers = buildQueue(config, queueDeps);
    const { pool } = workers;
    const wiring = { store, bus, metrics, token, pool, workers, executors, scheduler, state, info, now, approvals };
    const { app, channels, schedules } = buildFront(opts, wiring);
    cleanup.unshift(() => channels.stop());
    cleanup.unshift(() => schedules.stop());
    const server = await listen(app.fetch, config.listen);
    keepListening(server, store, logger, now, (st, error) => channels.supervisor.report('http', st, error));
    const url = urlOf(server);
    state.url = url;
    // Workers and channels start once the listener is bound: a start that fails (port in use) leaves the queue untouched.
    pool.start();
    channels.start();
    schedules.start();
    // Ready for systemd only now: the database is open, migrated and recovered, and the listener is bound.
    await notifier.ready();
    notifier.status(`listening on ${url}`);
    const stopWatchdog = notifier.startWatchdog(() => pool.alive() && store.writable());
    logger.info('listening', { url, pid: process.pid, version: info.version });
    const stop = stopper({
      ...{ notifier, logger, probeAbort, pool, stopWatchdog, server, store, executors, cleanup, now },
      stopAccepting: () => {
        state.accepting = false;
        schedules.stop();
        // No new chat messages while draining; notices of the jobs that finish go out until the end.
        void channels.supervisor.stop();
      },
      defaultDrainMs: config.shutdown.drain_timeout_s * 1000,
    });
    return { url, store, metrics, killAgents: () => executors.groups.killAll(), stop };
  } catch (err) {
    await undoStart(cleanup);
    throw err;
  }
}

/**
 * The approvals of tool use (approvals/service.ts): its tokens go to each agent run, its pending questions to the
 * owner. Started here: what the previous process left pending is denied before any run asks again.
 */
function buildApprovals(
  config: Config,
  d: Pick<ApprovalsOptions, 'store' | 'bus' | 'logger' | 'redact' | 'now' | 'url'>,
  cleanup: Cleanup,
): Approvals {
  const approvals = new Approvals({
    ...d,
    logger: d.logger.child({ component: 'approvals' }),
    mode: config.approvals.mode,
    allow: config.approvals.allow,
    timeoutMs: parseDuration(config.approvals.timeout),
    // claude starts the approval server per run: this very alter0 (the entry it was started from), another command.
    ...(process.argv[1] ? { mcpCommand: [process.execPath, process.argv[1], 'mcp-approvals'] } : {}),
  });
  approvals.start();
  cleanup.unshift(() => approvals.stop());
  return approvals;
}

/** The pipeline (route, execute, close) and the workers that run it over the queue. */
function buildQueue(
  config: Config,
  d: Pick<
    PipelineDeps,
    'store' | 'executors' | 'router' | 'closer' | 'bus' | 'logger' | 'metrics' | 'now' | 'approvals'
  > & {
    dirs: ReturnType<typeof reapAgents>;
    cleanup: Cleanup;
  },
): Workers {
  const { store, bus, logger, metrics, now, executors } = d;
  const candidates = new CandidateSource(store, {
    limit: config.router.max_candidates,
    perTask: 3,
    inlineMax: 200,
    // router/v1 predates closed candidates: it is offered open tasks only, whatever the lookback.
    closedLookbackMs: offersClosedTasks({ version: config.router.template })
      ? parseDuration(config.router.closed_lookback)
      : 0,
    now,
  });
  d.cleanup.unshift(() => candidates.close());
  metrics.workerHeap('candidates', () => candidates.workerHeap());
  const handler = createPipeline({
    ...{ store, executors, router: d.router, candidates, closer: d.closer, bus, logger, metrics, now },
    approvals: d.approvals,
    memory: { template: loadMemoryTemplate(config.memory.template), maxChars: config.memory.max_prompt_chars },
    defaultExecutor: config.executor.default,
    routerExecutor: config.router.executor,
    workspaceRoot: d.dirs.workspaceRoot,
    systemCwd: d.dirs.systemCwd,
  });
  return buildWorkers(config, { store, bus, logger, metrics, handler, now, executors });
}

/** What the API reads of the running daemon. */
interface ServingState {
  accepting: boolean;
  url: string | null;
  startedAt: number;
}

interface ApiWiring {
  approvals: Approvals;
  store: Store;
  bus: Bus;
  metrics: Metrics;
  token: string | null;
  pool: WorkerPool;
  workers: Workers;
  executors: ExecutorRegistry;
  scheduler: Scheduler;
  state: ServingState;
  info: ReturnType<typeof buildInfo>;
  now: () => number;
}

/**
 * What faces the owner: the intake (the one way in), the channels (http, telegram, webhooks and their outbox), and
 * the HTTP API over the running daemon with the manual close rule, status and metrics.
 */
function buildFront(opts: DaemonOptions, w: ApiWiring): { app: Hono; channels: Channels; schedules: ScheduleService } {
  const { config, logger } = opts;
  const { store, bus, metrics, pool, state, now } = w;
  const onAccepted = ({ job }: Accepted): void => {
    metrics.accepted(job.channelId);
    pool.wake(job.lane);
    bus.job(job.id);
  };
  const intake = new Intake({ store, onAccepted });
  const closeRule = manualCloseRule({ store, bus, metrics, now });
  const actions = { wake: (lane: Lane) => pool.wake(lane), cancelRunning: (id: string) => pool.cancel(id) };
  const defaults = { timeoutS: config.queue.job_timeout_s, maxAttempts: config.queue.max_attempts };
  const status = statusOf(config, w, () => channels.supervisor.snapshot());
  const channels = buildChannels(config, {
    ...{ store, bus, logger, metrics, now },
    version: w.info.version,
    telegram: {
      ...{ ...actions, intake, status, closeTask: closeRule.closeTask, approvals: w.approvals },
      defaults: { ...defaults, queueDepth: config.queue.max_depth },
    },
  });
  const schedules = new ScheduleService({
    ...{ store, bus, metrics, now, onAccepted },
    logger: logger.child({ component: 'scheduler' }),
    missed: config.schedules.missed,
    maxFailures: config.schedules.max_consecutive_failures,
    defaults: { ...defaults, queueDepth: config.queue.max_depth },
  });
  const app = createApi({
    ...{ store, intake, bus, logger, metrics, status, now, ...actions, ...closeRule },
    allowedHosts: new Set(allowedHosts(config)),
    token: w.token,
    defaults: {
      ...defaults,
      waitMs: config.api.wait_ms,
      maxWaitMs: config.api.max_wait_ms,
      bodyLimitBytes: config.api.body_limit_bytes,
    },
    limits: { eventStreams: config.api.max_event_streams, queueDepth: config.queue.max_depth },
    announce: (id) => channels.announce(id),
    approvals: w.approvals,
    schedules,
    accepting: () => state.accepting,
    metricsText: () => scrapeMetrics(store, metrics, now),
    staticHandler: opts.webRoot === null ? undefined : (a) => mountConsole(a, opts.webRoot ?? DEFAULT_WEB_ROOT),
  });
  return { app, channels, schedules };
}

/** The status document, built per request from live figures (status.ts). */
function statusOf(config: Config, w: ApiWiring, channels: () => ChannelSnapshot[]): () => Promise<StatusDocument> {
  const health = new Health(w.now);
  return () =>
    Promise.resolve(
      buildStatus({
        version: w.info.version,
        startedAt: w.state.startedAt,
        now: w.now,
        health,
        store: w.store,
        pool: w.pool,
        workers: w.workers.counts,
        executors: w.executors,
        degradeAfterFailures: config.status.executor_degraded_after_failures,
        queueDegradedAgeMs: parseDuration(config.status.queue_degraded_after),
        url: () => w.state.url,
        accepting: () => w.state.accepting,
        channels,
        dataDir: config.data_dir,
        scheduler: () => w.scheduler.status(),
        queueFailure: () =>
          [w.workers.failures.loop, w.workers.failures.record].filter((x) => x !== null).join('; ') || null,
      }),
    );
}

/** Gauges that describe the database are read at scrape time, so they are never stale. */
function scrapeMetrics(store: Store, metrics: Metrics, now: () => number): ReturnType<Metrics['render']> {
  const t = now();
  const stats = store.jobs.stats(t);
  for (const lane of ['interactive', 'background'] as const) {
    metrics.queueDepth(lane, stats.depth[lane]);
    const age = stats.oldestQueuedAgeMs[lane];
    metrics.oldestQueuedAge(lane, age === null ? null : age / 1000);
  }
  metrics.running(stats.running);
  metrics.dbCommits(store.commitCounts());
  metrics.tasksOpen(store.tasks.countByState().open);
  metrics.outboxPending(store.outbox.summary().pending);
  for (const m of store.events.maintenance()) {
    metrics.maintenance(m.job, { lastSuccessTs: m.lastSuccessAt, consecutiveFailures: m.consecutiveFailures });
  }
  return metrics.render();
}
