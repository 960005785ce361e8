import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import type { Executor, ExecutorKind } from '@alter0/core';
import { Alter0Error, ConfigError, errorMessage } from '@alter0/core';
import type { Config } from '@alter0/config';
import { allowedHosts, parseDuration, readTokenFile, redactorFor, splitListen, isLoopbackHost } from '@alter0/config';
import type { Redact } from '@alter0/config';
import { Store, acquireDataDirLock } from '@alter0/store';
import type { DataDirLock } from '@alter0/store';
import { WorkerPool } from '@alter0/queue';
import { Router, loadTemplate as loadRouterTemplate } from '@alter0/routing';
import { Closer, loadTemplate as loadCloserTemplate } from '@alter0/closing';
import type { Logger, Metrics } from '@alter0/obs';
import { createMetrics } from '@alter0/obs';
import { Bus } from './bus.js';
import { createApi } from './api.js';
import { ExecutorRegistry } from './executors.js';
import { RecordedProcessGroups, reapOrphanGroups } from './orphans.js';
import { killJobProcesses } from '@alter0/executor';
import { createPipeline } from './pipeline.js';
import { CandidateSource } from './candidates.js';
import { Health, buildStatus } from './status.js';
import { DEFAULT_WEB_ROOT, mountConsole } from './static.js';
import { buildInfo } from './version.js';
import { createNotifier } from './notify.js';
import { sweepStale } from './stale-sweep.js';
import { CONFIG_CHECKS, MaintenancePool, maintenanceJobs, preflight, privateDir, privateFile, startScheduler, tightenDataDir, HOUR_MS } from '@alter0/maintenance';
import type { Scheduler } from '@alter0/maintenance';

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
  return isLoopbackHost(splitListen(config.listen).host) && !config.token_file ? null : readTokenFile(config.token_file);
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
  const cleanup: (() => void | Promise<void>)[] = [() => lock.release()];
  try {
    const maintenancePool = new MaintenancePool();
    cleanup.unshift(() => maintenancePool.close());
    // The same checks as `alter0 doctor`: fatal ones refuse to start (config and schema with status 78, so a
    // supervisor does not restart-loop); the others start the service degraded and are logged.
    const checks = await preflight({ config, checkExecutors: false, pool: maintenancePool });
    for (const c of checks.filter((x) => !x.ok)) {
      (c.fatal ? logger.error : logger.warn).call(logger, `preflight: ${c.check}: ${c.detail}`, { fix: c.fix });
    }
    const fatal = checks.find((c) => !c.ok && c.fatal);
    if (fatal) {
      const msg = `${fatal.check}: ${fatal.detail}. ${fatal.fix}`;
      throw CONFIG_CHECKS.has(fatal.check) ? new ConfigError(msg) : new Alter0Error('preflight', msg);
    }
    const store = Store.open({ file: path.join(dataDir, 'alter0.db'), backupDir: config.backup.dir });
    cleanup.unshift(() => store.close());
    // SQLite gives the -wal and -shm files the database's own mode: 0600 on all three, then fix what an older
    // install (or another umask) left readable, and say what changed.
    for (const suffix of ['', '-wal', '-shm']) privateFile(`${store.file}${suffix}`);
    const tightened = tightenDataDir(dataDir, [config.log.dir, config.backup.dir]);
    if (tightened.fixed.length > 0) {
      logger.warn('made files private that other users could read', { count: tightened.fixed.length, fixed: tightened.fixed.slice(0, 50) });
    }
    if (tightened.failed.length > 0) logger.warn('could not make some files private; fix them by hand (chmod go-rwx)', { failed: tightened.failed.slice(0, 50) });
    const { pragmas, schema } = store.opened;
    logger.info('database open', {
      file: store.file,
      journal_mode: pragmas.journalMode,
      synchronous: pragmas.synchronous === 2 ? 'FULL' : pragmas.synchronous,
      foreign_keys: pragmas.foreignKeys === 1,
      busy_timeout_ms: pragmas.busyTimeoutMs,
      schema_version: schema.dbVersion,
      migrated: schema.migrated,
      backup: schema.backupPath ?? undefined,
    });
    if (pragmas.synchronous !== 2 || pragmas.journalMode !== 'wal') {
      throw new Error(`the database did not accept WAL + synchronous=FULL (got ${pragmas.journalMode}, ${pragmas.synchronous})`);
    }

    const recovered = store.jobs.recoverOrphans(now());
    const rescued = recovered.requeued.length + recovered.failed.length + recovered.completed.length;
    if (rescued > 0) {
      logger.warn('recovered jobs left running by the previous process', { ...recovered });
      store.events.add({ component: 'queue', level: 'warn', kind: 'recovered', message: `recovered ${rescued} orphaned job(s) at start`, details: recovered, now: now() });
    }
    store.events.add({ component: 'gateway', level: 'info', kind: 'started', message: `alter0 ${info.version} started (pid ${process.pid})`, now: now() });

    const metrics = createMetrics();
    metrics.buildInfo(info.version, info.commit ?? 'unknown', info.node);
    metrics.rescuedJobs(rescued);

    const workspaceRoot = path.join(dataDir, 'workspaces');
    const systemCwd = path.join(workspaceRoot, '.system');
    privateDir(workspaceRoot);
    privateDir(systemCwd);
    const groupsDir = path.join(dataDir, 'run', 'groups');
    privateDir(path.dirname(groupsDir));
    const reaped = reapOrphanGroups(groupsDir, { onUntrusted: (problem) => logger.warn(`agent reaper: ${problem}`) });
    if (reaped > 0) {
      logger.warn('killed agent processes left by the previous process', { groups: reaped });
      store.events.add({ component: 'executor', level: 'warn', kind: 'orphans_killed', message: `killed ${reaped} agent process group(s) left by the previous process`, now: now() });
    }
    const token = apiToken(config);
    const redact = opts.redact ?? redactorFor(config, token);
    const executors = new ExecutorRegistry(config, new RecordedProcessGroups(groupsDir), opts.executors, { redact, secretValues: token === null ? [] : [token] });
    const probeAbort = new AbortController();
    const probes = executors.probeAll(probeAbort.signal).then(
      (ps) => {
        for (const p of ps) {
          if (p.ok) logger.info('executor found', { executor: p.kind, path: p.path, version: p.version });
          else logger.warn('executor unavailable; the service runs degraded', { executor: p.kind, error: p.error });
        }
      },
      (err: unknown) => logger.error('executor probe failed', { err }),
    );

    const router = new Router({
      executor: executors.get(config.router.executor),
      template: loadRouterTemplate('router', config.router.template),
      threshold: config.router.threshold,
      maxCandidates: config.router.max_candidates,
      timeoutMs: config.router.timeout_s * 1000,
    });
    const closer = config.closer.enabled
      ? new Closer({
          executor: executors.get(config.closer.executor),
          template: loadCloserTemplate('closer', config.closer.template),
          threshold: config.closer.threshold,
          timeoutMs: config.closer.timeout_s * 1000,
        })
      : null;

    const bus = new Bus();
    const scheduler: Scheduler = startScheduler({
      jobs: [
        ...maintenanceJobs(config, maintenancePool, { now }),
        {
          name: 'stale_sweep',
          every: HOUR_MS,
          run: (signal) => Promise.resolve(sweepStale({ store, metrics, logger, bus, now }, parseDuration(config.closer.stale_after), signal)),
        },
      ],
      store,
      logger,
      metrics,
      now,
    });
    cleanup.unshift(() => scheduler.stop());
    const candidates = new CandidateSource(store, { limit: config.router.max_candidates, perTask: 3, inlineMax: 200, now });
    cleanup.unshift(() => candidates.close());
    const handler = createPipeline({
      store,
      executors,
      defaultExecutor: config.executor.default,
      router,
      candidates,
      routerExecutor: config.router.executor,
      closer,
      bus,
      logger,
      metrics,
      workspaceRoot,
      systemCwd,
      now,
    });
    const health = new Health(now);
    let queueFailure: string | null = null;
    let recordFailure: string | null = null;
    const workers = { interactive: config.queue.interactive_workers, background: config.queue.background_workers };
    const pool = new WorkerPool({
      jobs: store.jobs,
      workers,
      backoff: {
        initialMs: config.queue.backoff_initial_ms,
        maxMs: config.queue.backoff_max_ms,
        jitter: config.queue.backoff_jitter,
      },
      handler,
      now,
      // The executor's own timeout ends a hung agent at the deadline (and kills its group within the grace);
      // the pool's abort comes after that, as a backstop.
      timeoutGraceMs: config.executor.kill_grace_ms + 2000,
      hooks: {
        onChange: (id) => bus.job(id),
        onFinished: (job, outcome) => metrics.jobFinished(job.lane, outcome),
        // Invariant 8: a tool the agent started in a session of its own can outlive the agent's process group;
        // everything still carrying this job's id is killed once the attempt is over (off the hot path).
        onAttemptEnd: (job) =>
          void setImmediate(() => {
            const n = killJobProcesses(job.id);
            if (n > 0) logger.child({ job_id: job.id }).warn('killed processes the agent left behind', { processes: n });
          }),
        onLoopError: (lane, err, consecutive, retryInMs) => {
          logger.error('queue worker error; retrying', { lane, err, consecutive, retry_in_ms: retryInMs });
          queueFailure = `${lane} workers: ${errorMessage(err)} (${consecutive} in a row; retrying in ${Math.round(retryInMs / 1000)}s)`;
          // The event itself may fail to write when the database is the problem; the log line has it then.
          try {
            if (consecutive === 1) store.events.add({ component: 'queue', level: 'error', kind: 'worker_failed', message: `${lane} workers: ${errorMessage(err)}; retrying with backoff`, now: now() });
          } catch {
            // see above
          }
        },
        onLoopRecovered: (lane, failures) => {
          logger.info('queue workers recovered', { lane, failures });
          queueFailure = null;
          store.events.add({ component: 'queue', level: 'info', kind: 'worker_recovered', message: `${lane} workers recovered after ${failures} error(s)`, now: now() });
        },
        // Invariant 1 while serving: an outcome the database refused is written again with backoff; until then
        // the queue is degraded, naming the job and the cause.
        onRecordError: (job, err, attempt, retryInMs) => {
          logger.child({ job_id: job.id }).error('could not record the job outcome; retrying', { err, attempt, retry_in_ms: retryInMs });
          recordFailure = `the outcome of job ${job.id} could not be written (${errorMessage(err)}; ${attempt} tries, next in ${Math.round(retryInMs / 1000)}s); it shows running until the database takes writes again`;
        },
        onRecordRecovered: (job, attempts) => {
          logger.child({ job_id: job.id }).info('job outcome recorded after earlier failures', { attempts });
          if (pool.unrecordedOutcomes().length === 0) recordFailure = null;
          store.events.add({ component: 'queue', level: 'info', kind: 'outcome_recorded', message: `the outcome of job ${job.id} was written after ${attempts} failed tries`, now: now() });
        },
        onOrphansRecovered: (report) => {
          logger.warn('handed back running jobs no worker held', { ...report });
          store.events.add({ component: 'queue', level: 'warn', kind: 'recovered', message: 'the watchdog handed back running jobs no worker held', details: report, now: now() });
        },
        failureNote: (job, errorClass, message) =>
          `The agent could not answer (${errorClass}): ${message}\nRetry with \`alter0 retry ${job.id}\` or POST /api/jobs/${job.id}/retry.`,
      },
    });

    let accepting = true;
    let url: string | null = null;
    const startedAt = now();
    const closeRule = (taskId: string, action: 'close' | 'reopen', reason: string): void => {
      store.tasks.applyCloseDecision({ taskId, jobId: null, source: 'manual', action, confidence: 1, reason, modelCalled: false, latencyMs: 0, now: now() });
      metrics.closeDecision('manual', action);
      bus.task(taskId);
    };

    const listen = splitListen(config.listen);
    const app = createApi({
      store,
      bus,
      logger,
      metrics,
      allowedHosts: new Set(allowedHosts(config)),
      token,
      defaults: {
        waitMs: config.api.wait_ms,
        maxWaitMs: config.api.max_wait_ms,
        bodyLimitBytes: config.api.body_limit_bytes,
        timeoutS: config.queue.job_timeout_s,
        maxAttempts: config.queue.max_attempts,
      },
      limits: { eventStreams: config.api.max_event_streams, queueDepth: config.queue.max_depth },
      wake: (lane) => pool.wake(lane),
      cancelRunning: (id) => pool.cancel(id),
      closeTask: (id, reason) => closeRule(id, 'close', reason),
      reopenTask: (id) => closeRule(id, 'reopen', 'reopened by the owner'),
      status: () =>
        Promise.resolve(
          buildStatus({
            version: info.version,
            startedAt,
            now,
            health,
            store,
            pool,
            workers,
            executors,
            degradeAfterFailures: config.status.executor_degraded_after_failures,
            queueDegradedAgeMs: parseDuration(config.status.queue_degraded_after),
            url: () => url,
            accepting: () => accepting,
            dataDir,
            scheduler: () => scheduler.status(),
            queueFailure: () => [queueFailure, recordFailure].filter((x) => x !== null).join('; ') || null,
          }),
        ),
      accepting: () => accepting,
      now,
      metricsText: () => {
        // Gauges that describe the database are read at scrape time, so they are never stale.
        const t = now();
        const stats = store.jobs.stats(t);
        for (const lane of ['interactive', 'background'] as const) {
          metrics.queueDepth(lane, stats.depth[lane]);
          const age = stats.oldestQueuedAgeMs[lane];
          metrics.oldestQueuedAge(lane, age === null ? null : age / 1000);
        }
        metrics.running(stats.running);
        metrics.tasksOpen(store.tasks.countByState().open);
        for (const m of store.events.maintenance()) {
          metrics.maintenance(m.job, { lastSuccessTs: m.lastSuccessAt, consecutiveFailures: m.consecutiveFailures });
        }
        return metrics.render();
      },
      staticHandler: opts.webRoot === null ? undefined : (a) => mountConsole(a, opts.webRoot ?? DEFAULT_WEB_ROOT),
    });

    const server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: listen.host.replace(/^\[|\]$/g, ''), port: listen.port }, () => resolve(s));
      s.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') {
          reject(new Alter0Error('port_in_use', `cannot listen on ${config.listen}: the address is in use by another program (another alter0 on a different data directory?). Stop it, or choose another address with --listen or \`listen\` in the config.`));
        } else if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
          reject(new Alter0Error('listen_failed', `cannot listen on ${config.listen}: ${err.code} (${err.message}); choose an address this machine has and a port above 1023`));
        } else reject(err);
      });
    });
    // After the bind, a listener error (e.g. out of file descriptors) is logged and recorded, not fatal:
    // the server keeps accepting once the cause passes.
    server.on('error', (err: Error) => {
      logger.error('HTTP listener error', { err });
      try {
        store.events.add({ component: 'gateway', level: 'error', kind: 'listener_error', message: errorMessage(err), now: now() });
      } catch {
        // the log line above has it
      }
    });
    const addr = server.address() as AddressInfo;
    const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    url = `http://${hostForUrl}:${addr.port}`;
    // Workers start once the listener is bound: a start that fails (port in use) leaves the queue untouched.
    pool.start();
    // Ready for systemd only now: the database is open, migrated and recovered, and the listener is bound.
    await notifier.ready();
    notifier.status(`listening on ${url}`);
    const stopWatchdog = notifier.startWatchdog(() => pool.alive() && store.writable());
    logger.info('listening', { url, pid: process.pid, version: info.version });
    void probes;

    let stopping: Promise<void> | null = null;
    return {
      url,
      store,
      metrics,
      killAgents() {
        return executors.groups.killAll();
      },
      stop(stopOpts = {}) {
        stopping ??= (async () => {
          accepting = false;
          notifier.stopping();
          logger.info('shutting down: no new work accepted; draining running jobs');
          probeAbort.abort();
          const drained = await pool.drain(stopOpts.drainMs ?? config.shutdown.drain_timeout_s * 1000);
          logger.info('drained', drained);
          stopWatchdog();
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            // SSE streams and keep-alive sockets would hold close() open.
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          });
          try {
            store.events.add({ component: 'gateway', level: 'info', kind: 'stopped', message: `alter0 stopped (finished ${drained.finished}, re-queued ${drained.interrupted})`, now: now() });
            store.checkpoint();
          } catch (err) {
            logger.error('checkpoint at shutdown failed', { err: errorMessage(err) });
          }
          // Backstop: no agent process group outlives the service (each job's abort already killed its own).
          const killed = executors.groups.killAll();
          if (killed > 0) logger.warn('killed agent process groups left at exit', { groups: killed });
          for (const f of cleanup) await f();
          logger.info('stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    for (const f of cleanup) {
      try {
        await f();
      } catch {
        // Already failing: the original error is the one to report.
      }
    }
    throw err;
  }
}
