import type { SoakOptions } from '../options.js';

/** One hour of the compressed day, in wall-clock milliseconds (a 2 h run: 5 min). */
const dayHourMs = (opts: SoakOptions): number => opts.durationMs / 24;

const secs = (ms: number, floorS: number): string => `${Math.max(floorS, Math.round(ms / 1000))}s`;

/**
 * The daemon settings of the compressed day: each periodic job runs many times (a backup every 3 hours of the
 * day, retention and the stale sweep every hour, a checkpoint every half hour, the stats rollup every 5 minutes),
 * tasks go stale after 4 hours of the day, events are kept for 6, and the log file rotates by size. Job
 * retention stays at its default (30 days): the harness must find every accepted job at the end.
 */
export function daySets(opts: SoakOptions): string[] {
  const hour = dayHourMs(opts);
  return [
    `backup.interval=${secs(3 * hour, 30)}`,
    'backup.keep=2',
    `maintenance.retention_every=${secs(hour, 20)}`,
    `maintenance.checkpoint_every=${secs(hour / 2, 15)}`,
    `maintenance.stale_sweep_every=${secs(hour, 15)}`,
    `stats.rollup_every=${secs(hour / 12, 10)}`,
    `closer.stale_after=${secs(4 * hour, 60)}`,
    `retention.events=${secs(6 * hour, 60)}`,
    'log.file=true',
    'log.max_size=1m',
    'log.max_files=4',
  ];
}
