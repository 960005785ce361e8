import { errorMessage } from '@alter0/core';
import type { Config } from '@alter0/config';
import type { JobRow, Store } from '@alter0/store';
import { WorkerPool } from '@alter0/queue';
import type { JobHandler, PoolHooks } from '@alter0/queue';
import type { Logger, Metrics } from '@alter0/obs';
import { killJobProcesses } from '@alter0/executor';
import type { Bus } from '../bus.js';
import type { ExecutorRegistry } from '../executors.js';

/** Why the queue is degraded right now, as the pool's hooks last reported it (null: not degraded). */
interface QueueFailures {
  /** A lane's worker loop keeps failing. */
  loop: string | null;
  /** An outcome the database refused is waiting to be written again. */
  record: string | null;
}

export interface Workers {
  pool: WorkerPool;
  counts: { interactive: number; background: number };
  failures: QueueFailures;
}

export interface WorkerDeps {
  store: Store;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  handler: JobHandler;
  now: () => number;
  /** Sweeps a finished job's processes (through the spawner's helper); without it, the sweep runs in-process. */
  executors?: Pick<ExecutorRegistry, 'sweepJob'>;
}

/** How long a sweep in the spawner's helper may take before it is swept here instead. */
const SWEEP_TIMEOUT_MS = 10_000;

/** The worker pool over the store, running the pipeline; not started yet (see startDaemon). */
export function buildWorkers(config: Config, d: WorkerDeps): Workers {
  const failures: QueueFailures = { loop: null, record: null };
  const counts = { interactive: config.queue.interactive_workers, background: config.queue.background_workers };
  const pool: WorkerPool = new WorkerPool({
    jobs: d.store.jobs,
    workers: counts,
    backoff: {
      initialMs: config.queue.backoff_initial_ms,
      maxMs: config.queue.backoff_max_ms,
      jitter: config.queue.backoff_jitter,
    },
    handler: d.handler,
    now: d.now,
    // The executor's own timeout ends a hung agent at the deadline (and kills its group within the grace);
    // the pool's abort comes after that, as a backstop.
    timeoutGraceMs: config.executor.kill_grace_ms + 2000,
    hooks: { ...jobHooks(d), ...loopHooks(d, failures), ...recordHooks(d, failures, () => pool) },
  });
  return { pool, counts, failures };
}

function jobHooks(d: WorkerDeps): PoolHooks {
  const { store, logger, now } = d;
  return {
    onChange: (id) => d.bus.job(id),
    onFinished: (job, outcome) => d.metrics.jobFinished(job.lane, outcome),
    // Invariant 8: a tool the agent started in a session of its own can outlive the agent's process group;
    // everything still carrying this job's id is killed once the attempt is over (off the hot path). The pool
    // does not wait for it: the sweep ends after the attempt does, and never rejects.
    onAttemptEnd: (job) => void setImmediate(() => void sweepJobProcesses(job, d)),
    onOrphansRecovered: (report) => {
      logger.warn('handed back running jobs no worker held', { ...report });
      store.events.add({
        component: 'queue',
        level: 'warn',
        kind: 'recovered',
        message: 'the watchdog handed back running jobs no worker held',
        details: report,
        now: now(),
      });
    },
    failureNote: (job, errorClass, message) =>
      `The agent could not answer (${errorClass}): ${message}\nRetry with \`alter0 retry ${job.id}\` or POST /api/jobs/${job.id}/retry.`,
  };
}

/**
 * Kills what still carries the job's id: in the spawner's helper (its /proc scan is thousands of synchronous reads)
 * when there is one, else here. A helper that fails, dies or hangs is swept around, here, with a warning. Logs what
 * it killed; never rejects.
 */
export async function sweepJobProcesses(
  job: Pick<JobRow, 'id' | 'taskId' | 'userId' | 'channelId' | 'sessionId'>,
  d: Pick<WorkerDeps, 'logger' | 'executors'>,
): Promise<void> {
  const jobId = job.id;
  // The job's context, as every record on the job's path carries it (the pipeline's logger does the same).
  const log = d.logger.child({
    job_id: jobId,
    task_id: job.taskId ?? undefined,
    user_id: job.userId,
    channel_id: job.channelId,
    session_id: job.sessionId ?? undefined,
  });
  let n: number;
  try {
    n =
      d.executors === undefined
        ? killJobProcesses(jobId)
        : await d.executors.sweepJob(jobId, AbortSignal.timeout(SWEEP_TIMEOUT_MS));
  } catch (err) {
    log.warn("the spawner's helper could not sweep the job's processes; swept in the daemon", { err });
    try {
      n = killJobProcesses(jobId);
    } catch (err2) {
      log.error("could not sweep the job's processes", { err: err2 });
      return;
    }
  }
  if (n > 0) log.warn('killed processes the agent left behind', { processes: n });
}

/** A lane's worker loop failing and recovering: logged, recorded, and shown as a degraded queue meanwhile. */
function loopHooks(d: WorkerDeps, failures: QueueFailures): PoolHooks {
  const { store, logger, now } = d;
  return {
    onLoopError: (lane, err, consecutive, retryInMs) => {
      logger.error('queue worker error; retrying', { lane, err, consecutive, retry_in_ms: retryInMs });
      failures.loop = `${lane} workers: ${errorMessage(err)} (${consecutive} in a row; retrying in ${Math.round(retryInMs / 1000)}s)`;
      // The event itself may fail to write when the database is the problem; the log line has it then.
      try {
        if (consecutive === 1)
          store.events.add({
            component: 'queue',
            level: 'error',
            kind: 'worker_failed',
            message: `${lane} workers: ${errorMessage(err)}; retrying with backoff`,
            now: now(),
          });
      } catch {
        // see above
      }
    },
    onLoopRecovered: (lane, failureCount) => {
      logger.info('queue workers recovered', { lane, failures: failureCount });
      failures.loop = null;
      store.events.add({
        component: 'queue',
        level: 'info',
        kind: 'worker_recovered',
        message: `${lane} workers recovered after ${failureCount} error(s)`,
        now: now(),
      });
    },
  };
}

/**
 * Invariant 1 while serving: an outcome the database refused is written again with backoff; until then the
 * queue is degraded, naming the job and the cause.
 */
function recordHooks(d: WorkerDeps, failures: QueueFailures, pool: () => WorkerPool): PoolHooks {
  const { store, logger, now } = d;
  return {
    onRecordError: (job, err, attempt, retryInMs) => {
      logger
        .child({ job_id: job.id })
        .error('could not record the job outcome; retrying', { err, attempt, retry_in_ms: retryInMs });
      failures.record = `the outcome of job ${job.id} could not be written (${errorMessage(err)}; ${attempt} tries, next in ${Math.round(retryInMs / 1000)}s); it shows running until the database takes writes again`;
    },
    onRecordRecovered: (job, attempts) => {
      logger.child({ job_id: job.id }).info('job outcome recorded after earlier failures', { attempts });
      if (pool().unrecordedOutcomes().length === 0) failures.record = null;
      store.events.add({
        component: 'queue',
        level: 'info',
        kind: 'outcome_recorded',
        message: `the outcome of job ${job.id} was written after ${attempts} failed tries`,
        now: now(),
      });
    },
  };
}
