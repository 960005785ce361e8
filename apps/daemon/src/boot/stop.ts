import type { ServerType } from '@hono/node-server';
import { errorMessage } from '@alter0/core';
import type { Store } from '@alter0/store';
import type { WorkerPool } from '@alter0/queue';
import type { Logger } from '@alter0/obs';
import type { ExecutorRegistry } from '../executors.js';
import type { Notifier } from '../notify.js';
import type { Cleanup } from './storage.js';

export interface StopDeps {
  /** Refuses new work from the moment stop begins. */
  stopAccepting(): void;
  notifier: Notifier;
  logger: Logger;
  probeAbort: AbortController;
  pool: WorkerPool;
  defaultDrainMs: number;
  stopWatchdog(): void;
  server: ServerType;
  store: Store;
  executors: ExecutorRegistry;
  cleanup: Cleanup;
  now: () => number;
}

/**
 * The daemon's graceful stop (invariant 1): refuse new work, drain, re-queue the rest, close the listener,
 * checkpoint, kill what agents are left, close everything, release the lock. Every call returns the same stop.
 */
export function stopper(d: StopDeps): (opts?: { drainMs?: number }) => Promise<void> {
  let stopping: Promise<void> | null = null;
  return (opts = {}) => (stopping ??= stop(d, opts.drainMs ?? d.defaultDrainMs));
}

async function stop(d: StopDeps, drainMs: number): Promise<void> {
  const { logger, store } = d;
  d.stopAccepting();
  d.notifier.stopping();
  logger.info('shutting down: no new work accepted; draining running jobs');
  d.probeAbort.abort();
  const drained = await d.pool.drain(drainMs);
  logger.info('drained', drained);
  d.stopWatchdog();
  await new Promise<void>((resolve) => {
    d.server.close(() => resolve());
    // SSE streams and keep-alive sockets would hold close() open.
    (d.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
  try {
    store.events.add({
      component: 'gateway',
      level: 'info',
      kind: 'stopped',
      message: `alter0 stopped (finished ${drained.finished}, re-queued ${drained.interrupted})`,
      now: d.now(),
    });
    store.checkpoint();
  } catch (err) {
    logger.error('checkpoint at shutdown failed', { err: errorMessage(err) });
  }
  // Backstop: no agent process group outlives the service (each job's abort already killed its own).
  const killed = d.executors.groups.killAll();
  if (killed > 0) logger.warn('killed agent process groups left at exit', { groups: killed });
  // After the kill, so the helper's own kill on close finds nothing: every agent ended through its run.
  await d.executors.close();
  for (const f of d.cleanup) await f();
  logger.info('stopped');
}
