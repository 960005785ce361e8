import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** Milliseconds between two samples of the event loop's delay (Node's timer-based monitor). */
const EVENT_LOOP_RESOLUTION_MS = 10;

/**
 * The percentiles of the delay that are exported, as `percentile` labels (not `quantile`: that label belongs to
 * summaries, and `promtool check metrics` refuses it on a gauge).
 */
const PERCENTILES = [50, 90, 99] as const;

/**
 * prom-client's default collectors that report the same figures from a histogram of their own; removed so that each
 * figure has one source. `nodejs_eventloop_lag_seconds` (a setImmediate probe taken at scrape time) is kept.
 */
export const DUPLICATE_DEFAULT_METRICS = [
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
] as const;

/**
 * The event loop's delay and utilization **over the interval since the previous scrape** (the histogram is reset at
 * each scrape, as prom-client's own event-loop collector does): with one Prometheus scraping, each sample covers one
 * scrape interval; a benchmark reads /metrics before and after a phase to get that phase alone. A second scraper
 * splits the intervals between the two.
 *
 * The delay of one sample is how late Node's repeating 10 ms timer fired (the interval it measured minus the
 * resolution), so an idle loop reports ~0 and a callback that blocks the loop for 50 ms shows as ~40–50 ms.
 */
export function eventLoopMetrics(registers: Registry[]): Gauge[] {
  const histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  histogram.enable();
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  const late = (ns: number): number => Math.max(0, Math.round(ns - EVENT_LOOP_RESOLUTION_MS * 1e6) / 1e9);

  // Registered first: prom-client collects metrics in registration order, so this one's collect reads the
  // histogram for all three and then resets it.
  const percentiles = new Gauge({
    name: 'alter0_event_loop_delay_seconds',
    help: 'Event-loop delay percentiles since the previous scrape (how late a 10 ms timer fired).',
    labelNames: ['percentile'] as const,
    registers,
    collect() {
      const sampled = histogram.count > 0;
      for (const p of PERCENTILES) this.set({ percentile: String(p) }, sampled ? late(histogram.percentile(p)) : 0);
      max.set(sampled ? late(histogram.max) : 0);
      const now = performance.eventLoopUtilization();
      utilization.set(performance.eventLoopUtilization(now, elu).utilization);
      elu = now;
      histogram.reset();
    },
  });
  const max = new Gauge({
    name: 'alter0_event_loop_delay_max_seconds',
    help: 'Longest event-loop delay since the previous scrape (how late a 10 ms timer fired).',
    registers,
  });
  const utilization = new Gauge({
    name: 'alter0_event_loop_utilization_ratio',
    help: 'Share of the time since the previous scrape the event loop was busy (0..1).',
    registers,
  });
  return [percentiles, max, utilization];
}
