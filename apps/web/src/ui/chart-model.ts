/** What a chart shows, independent of how it is drawn (./chart-render.tsx draws it with uPlot). */

/** How a value reads: a count, a latency in milliseconds, US dollars, tokens. */
export type Unit = 'count' | 'decimal' | 'ms' | 'usd' | 'tokens';

export interface SeriesModel {
  key: string;
  label: string;
  /** A CSS custom property holding the colour (it follows the light or dark scheme), e.g. `--ok`. */
  color: string;
  kind: 'bar' | 'line' | 'step';
  /** A dashed line (p95 beside a solid p50). */
  dash?: boolean;
  /** Which y axis: 0 the left, 1 the right. */
  axis?: 0 | 1;
  /** One per bucket; null: nothing to show there (a gap). */
  values: (number | null)[];
  /** What the legend shows while no bucket is pointed at: the range's total (or percentile, or maximum). */
  total: number | null;
}

export interface AxisModel {
  /** The axis title with its unit, e.g. "jobs per hour", "latency (log scale)". */
  label: string;
  unit: Unit;
  /** A logarithmic scale (values below 1 are drawn at 1). */
  log?: boolean;
}

export interface ChartModel {
  id: string;
  title: string;
  /** The totals in words: the figure's caption, the text a screen reader reads first. */
  summary: string;
  /** The picture in words, for the drawing's role="img". */
  description: string;
  /** Bucket starts, Unix seconds. */
  x: number[];
  /** Bucket labels for the legend and the table ("Mon 14:00", "Nov 25"). */
  xLabels: string[];
  bucketSeconds: number;
  /** Bars of the series stacked on one another, in the series' order from the bottom. */
  stacked: boolean;
  axes: [AxisModel] | [AxisModel, AxisModel];
  series: SeriesModel[];
  /** Nothing to draw: this text instead of empty axes. */
  empty: string | null;
  /** What the legend says of the totals: "last 24 h". */
  totalLabel: string;
}

/** A latency: "850 ms", "1.5 s", "12 s", "2.5 min". */
export function formatLatency(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = ms / 1_000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  return `${(s / 60).toFixed(1)} min`;
}

/** A tick of a token axis: "950", "12k", "1.2M". */
function compact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(+n.toFixed(2));
}

/** A value in full, for the legend and the table; `—` for none. */
export function formatValue(v: number | null | undefined, unit: Unit): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  switch (unit) {
    case 'ms':
      return formatLatency(v);
    case 'usd':
      return `$${v.toFixed(4)}`;
    case 'decimal':
      return (Math.round(v * 10) / 10).toLocaleString();
    case 'count':
    case 'tokens':
      return Math.round(v).toLocaleString();
  }
}

/** A value on an axis: shorter than in full ("$0.02", "12k"). */
export function formatTick(v: number, unit: Unit): string {
  switch (unit) {
    case 'ms':
      // Round ticks read better without a trailing zero: "1 s", "10 s".
      return formatLatency(v).replace(/\.0 /, ' ');
    case 'usd':
      return v === 0 ? '$0' : `$${+v.toPrecision(2)}`;
    case 'tokens':
      return compact(v);
    case 'decimal':
    case 'count':
      return String(+v.toFixed(2));
  }
}
