import type { SoakResult } from '../result.js';
import { floorPerWindow, pooledSlopePerHour, summarize } from '../stats.js';
import type { Point } from '../stats.js';

/** One hour of the compressed day: what happened in it and how the daemon fared. */
export interface DayHour {
  hour: number;
  /** Wall-clock window of this hour, ms since the run started. */
  from_ms: number;
  to_ms: number;
  kills: number;
  watchdog_restarts: number;
  exits: number;
  accepted: number;
  violations: number;
  /** Request round trips of sync messages and of async accepts, ms. */
  sync_ms: Percentiles;
  accept_ms: Percentiles;
  /** Daemon clock: queue wait (created → started) and created → finished of jobs created in this hour, ms. */
  queue_wait_ms: Percentiles;
  end_to_end_ms: Percentiles;
  rss_mb: Level;
  /** RSS less both isolates' committed V8 heaps. */
  native_mb: Level;
  heap_mb: Level;
  fds: Level;
}

interface Percentiles {
  n: number;
  p50: number | null;
  p95: number | null;
}

/** A resource in one hour: its median, and the slope of its floor within the lifetimes of that hour (per hour). */
interface Level {
  median: number | null;
  floor_slope_per_h: number | null;
}

function pct(values: number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: null, p95: null };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { n: s.length, p50: at(0.5), p95: at(0.95) };
}

/** A slope needs a lifetime with some minutes in the hour; a storm hour's lifetimes of seconds give none. */
function level(points: Point[], floorWindowMs: number): Level {
  const floors = floorPerWindow(points, floorWindowMs);
  const slope = floors.length >= 3 ? pooledSlopePerHour(floors) : null;
  return { median: summarize(points.map((p) => p.v)).median, floor_slope_per_h: slope };
}

/** The run cut into the 24 hours of the compressed day (the load phase; the drain is not part of the day). */
export function dayHours(r: SoakResult): DayHour[] {
  const hourMs = r.options.durationMs / 24;
  const t0 = r.startedAt;
  const end = r.loadEndedAt > 0 ? r.loadEndedAt : r.endedAt;
  const floorWindow = Math.max(30_000, 6 * r.options.sampleEveryMs);
  const hours: DayHour[] = [];
  for (let h = 0; h < 24 && t0 + h * hourMs < end; h++) {
    const lo = t0 + h * hourMs;
    const hi = lo + hourMs;
    const inHour = (t: number): boolean => t >= lo && t < hi;
    const lat = (kind: (k: string) => boolean): number[] =>
      r.latencies.filter(([t, , k]) => inHour(t) && kind(k)).map(([, ms]) => ms);
    const jobs = r.jobTimings.filter(([c]) => inHour(c));
    // The daemon's clock may have been moved by a clock-jump moment: a negative or day-long wait is not a latency.
    const sane = (ms: number): boolean => ms >= 0 && ms < hourMs * 24;
    const restarts = r.restarts.filter((x) => inHour(x.at));
    const pts = (ps: Point[]): Point[] => ps.filter((p) => inHour(p.t));
    hours.push({
      hour: h,
      from_ms: Math.round(lo - t0),
      to_ms: Math.round(hi - t0),
      kills: restarts.filter((x) => x.cause === 'kill').length,
      watchdog_restarts: restarts.filter((x) => x.cause === 'watchdog').length,
      exits: restarts.filter((x) => x.cause === 'exit').length,
      accepted: r.latencies.filter(([t, , k]) => inHour(t) && k !== 'retry').length,
      violations: r.violations.filter((v) => inHour(v.at)).length,
      sync_ms: pct(lat((k) => k === 'sync')),
      accept_ms: pct(lat((k) => k === 'async' || k === 'followup')),
      queue_wait_ms: pct(jobs.flatMap(([c, s]) => (s !== null && sane(s - c) ? [s - c] : []))),
      end_to_end_ms: pct(
        jobs.flatMap(([c, , f, st]) => (f !== null && st === 'succeeded' && sane(f - c) ? [f - c] : [])),
      ),
      rss_mb: level(pts(r.samples.rssMb), floorWindow),
      native_mb: level(pts(r.samples.nativeMb), floorWindow),
      heap_mb: level(pts(r.samples.heapMb), floorWindow),
      fds: level(pts(r.samples.fds), floorWindow),
    });
  }
  return hours;
}
