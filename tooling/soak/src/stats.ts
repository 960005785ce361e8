/** A sample of one resource: time (ms since the epoch), value, and the daemon lifetime it belongs to. */
export interface Point {
  t: number;
  v: number;
  /** Daemon generation (1 = first start); a kill -9 starts a new one. */
  gen: number;
}

export interface Summary {
  n: number;
  min: number | null;
  median: number | null;
  max: number | null;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, min: null, median: null, max: null };
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
  return { n: s.length, min: s[0] ?? null, median, max: s[s.length - 1] ?? null };
}

const HOUR_MS = 3_600_000;

/**
 * Least-squares slope per hour of one series; null with fewer than 3 points or no time spread.
 */
export function slopePerHour(points: readonly Point[]): number | null {
  return pooledSlopePerHour(points.map((p) => ({ ...p, gen: 0 })));
}

/**
 * Least-squares slope per hour with a separate intercept per daemon lifetime (fixed effects): each lifetime's
 * points are centred on their own means, then one slope is fitted. A process's memory restarts from zero at
 * each kill -9, so a slope across lifetimes would read the sawtooth as growth (or hide growth); this one only
 * sees growth within lifetimes. Lifetimes with fewer than 2 points add nothing. Null when nothing is left.
 */
export function pooledSlopePerHour(points: readonly Point[]): number | null {
  const byGen = new Map<number, Point[]>();
  for (const p of points) {
    const list = byGen.get(p.gen) ?? [];
    list.push(p);
    byGen.set(p.gen, list);
  }
  let sxy = 0;
  let sxx = 0;
  let used = 0;
  for (const list of byGen.values()) {
    if (list.length < 2) continue;
    const mt = list.reduce((a, p) => a + p.t, 0) / list.length;
    const mv = list.reduce((a, p) => a + p.v, 0) / list.length;
    for (const p of list) {
      sxy += (p.t - mt) * (p.v - mv);
      sxx += (p.t - mt) ** 2;
    }
    used += list.length;
  }
  if (used < 3 || sxx === 0) return null;
  return (sxy / sxx) * HOUR_MS;
}

/** Drops each lifetime's first `warmupMs` (start-up allocation is not growth). */
export function afterWarmup(points: readonly Point[], warmupMs: number): Point[] {
  const firstOf = new Map<number, number>();
  for (const p of points) if (!firstOf.has(p.gen)) firstOf.set(p.gen, p.t);
  return points.filter((p) => p.t - (firstOf.get(p.gen) ?? p.t) >= warmupMs);
}

/** A SIGSTOP of the daemon and its SIGCONT (ms). */
export interface Pause {
  stoppedAt: number;
  continuedAt: number;
}

/**
 * Splits each lifetime at the daemon's pauses (SIGSTOP … SIGCONT) into stretches fitted apart, as a restart splits
 * lifetimes, and drops the points from each stop to `settleMs` after its SIGCONT. On SIGCONT the daemon takes at
 * once all the kernel queued while it was stopped, and the allocator keeps that burst's high-water: a step once per
 * pause, not growth (the eighth two-hour day: +12 MB within a minute of a 21 s stop, flat for the 17 minutes after).
 * A leak goes on rising within each stretch. Stretches get fresh `gen` numbers, so use it only for fitting.
 */
export function splitAtPauses(points: readonly Point[], pauses: readonly Pause[], settleMs: number): Point[] {
  const stretchIds = new Map<string, number>();
  const out: Point[] = [];
  for (const p of points) {
    if (pauses.some((q) => p.t >= q.stoppedAt && p.t < q.continuedAt + settleMs)) continue;
    const key = `${p.gen}:${pauses.filter((q) => q.continuedAt <= p.t).length}`;
    let id = stretchIds.get(key);
    if (id === undefined) {
      id = stretchIds.size + 1;
      stretchIds.set(key, id);
    }
    out.push({ ...p, gen: id });
  }
  return out;
}

/** Total observed time covered by the points, summed per lifetime (what a slope is fitted over). */
export function coveredMs(points: readonly Point[]): number {
  const span = new Map<number, { lo: number; hi: number }>();
  for (const p of points) {
    const s = span.get(p.gen);
    if (!s) span.set(p.gen, { lo: p.t, hi: p.t });
    else {
      s.lo = Math.min(s.lo, p.t);
      s.hi = Math.max(s.hi, p.t);
    }
  }
  let total = 0;
  for (const s of span.values()) total += s.hi - s.lo;
  return total;
}

/**
 * The floor of a series: the minimum of each lifetime's consecutive `windowMs` windows (at the window's
 * minimum point). A leak raises the floor; a transient spike (a maintenance worker thread, a burst of
 * requests, a GC that has not run yet) does not, so slopes of floors are what growth is judged on.
 */
export function floorPerWindow(points: readonly Point[], windowMs: number): Point[] {
  const out: Point[] = [];
  const start = new Map<number, number>();
  const buckets = new Map<string, Point>();
  for (const p of points) {
    if (!start.has(p.gen)) start.set(p.gen, p.t);
    const key = `${p.gen}:${Math.floor((p.t - (start.get(p.gen) ?? p.t)) / windowMs)}`;
    const cur = buckets.get(key);
    if (cur === undefined || p.v < cur.v) buckets.set(key, p);
  }
  for (const p of buckets.values()) out.push(p);
  return out.sort((a, b) => a.t - b.t);
}
