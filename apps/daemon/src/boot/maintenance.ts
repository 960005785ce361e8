import type { Config } from '@alter0/config';
import { parseDuration } from '@alter0/config';
import type { Store } from '@alter0/store';
import type { Logger, Metrics } from '@alter0/obs';
import { maintenanceJobs, startScheduler } from '@alter0/maintenance';
import type { MaintenancePool, Scheduler } from '@alter0/maintenance';
import type { Bus } from '../bus.js';
import { DepthSampler } from '../depth-sampler.js';
import { sweepStale } from '../stale-sweep.js';

export interface MaintenanceDeps {
  pool: MaintenancePool;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  bus: Bus;
  now: () => number;
}

/**
 * Starts the scheduler: the configured maintenance jobs plus the hourly sweep that closes stale tasks, and the
 * queue depth sampler whose samples the stats rollup counts (stopped with the scheduler).
 */
export function scheduleMaintenance(config: Config, d: MaintenanceDeps): Scheduler {
  const { store, logger, metrics, bus, now } = d;
  const sampler = new DepthSampler({ read: () => store.stats.queuedCount(), now, logger });
  sampler.start();
  const scheduler = startScheduler({
    jobs: [
      ...maintenanceJobs(config, d.pool, { now, depthSamples: () => sampler.take() }),
      {
        name: 'stale_sweep',
        every: parseDuration(config.maintenance.stale_sweep_every),
        run: (signal) =>
          Promise.resolve(
            sweepStale({ store, metrics, logger, bus, now }, parseDuration(config.closer.stale_after), signal),
          ),
      },
    ],
    store,
    logger,
    metrics,
    now,
  });
  return {
    status: () => scheduler.status(),
    stop: (opts) => {
      sampler.stop();
      return scheduler.stop(opts);
    },
  };
}
