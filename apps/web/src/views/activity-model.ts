import type { StatsBucket, StatsRange, StatsReport } from '@alter0/api';
import { plural } from '../ui/format.js';
import { formatValue, type ChartModel, type SeriesModel } from '../ui/chart-model.js';
import { formatTokens, formatUsd } from '../ui/usage.js';

/** The activity page's ranges: what the switch says, the words for the range and its buckets. */
export const RANGES: ReadonlyArray<{ value: StatsRange; label: string; words: string }> = [
  { value: '24h', label: '24 h', words: 'last 24 h' },
  { value: '7d', label: '7 d', words: 'last 7 days' },
  { value: '30d', label: '30 d', words: 'last 30 days' },
];

const BUCKETS: Record<StatsReport['bucket'], { seconds: number; per: string }> = {
  '1h': { seconds: 3_600, per: 'hour' },
  '6h': { seconds: 21_600, per: '6 h' },
  '1d': { seconds: 86_400, per: 'day' },
};

const OUTCOMES = [
  ['succeeded', '--ok'],
  ['failed', '--bad'],
  ['canceled', '--warn'],
] as const;

const STAGES = [
  ['queue_wait', 'queue wait', '--chart-1'],
  ['route', 'route', '--chart-2'],
  ['execute', 'execute', '--chart-3'],
  ['close', 'close', '--chart-4'],
] as const;

/** A bucket's name: its local start for hours ("Mon 14:00"), its UTC day for days ("Nov 25"). */
function bucketLabel(iso: string, bucket: StatsReport['bucket']): string {
  const d = new Date(iso);
  if (bucket === '1d') return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  return d.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
}

function wordsOf(range: StatsRange): string {
  return RANGES.find((r) => r.value === range)?.words ?? range;
}

/** What every chart of one report shares. */
interface Frame {
  words: string;
  per: string;
  base: Pick<ChartModel, 'x' | 'xLabels' | 'bucketSeconds' | 'totalLabel'>;
  buckets: StatsBucket[];
}

function frameOf(r: StatsReport): Frame {
  const words = wordsOf(r.range);
  return {
    words,
    per: BUCKETS[r.bucket].per,
    buckets: r.buckets,
    base: {
      x: r.buckets.map((b) => Date.parse(b.start) / 1_000),
      xLabels: r.buckets.map((b) => bucketLabel(b.start, r.bucket)),
      bucketSeconds: BUCKETS[r.bucket].seconds,
      totalLabel: words,
    },
  };
}

/** The activity page's five charts, from one answer of GET /api/stats. */
export function chartsOf(r: StatsReport): ChartModel[] {
  const f = frameOf(r);
  return [jobsChart(r, f), latencyChart(r, f), queueChart(r, f), callsChart(r, f), costChart(r, f)];
}

function jobsChart(r: StatsReport, { words, per, base, buckets }: Frame): ChartModel {
  const t = r.totals.jobs;
  const n = t.succeeded + t.failed + t.canceled;
  const counts = `${t.succeeded} succeeded, ${t.failed} failed, ${t.canceled} canceled`;
  const series = OUTCOMES.map(([key, color]): SeriesModel => ({
    key,
    label: key,
    color,
    kind: 'bar',
    values: buckets.map((b) => b.jobs[key]),
    total: t[key],
  }));
  return {
    ...base,
    id: 'jobs',
    title: 'Jobs by outcome',
    summary: `${plural(n, 'job')} ended in the ${words}: ${counts}.`,
    description: `Stacked bars: the jobs that ended per ${per} over the ${words}, by outcome (${counts}).`,
    stacked: true,
    axes: [{ label: `jobs per ${per}`, unit: 'count' }],
    series,
    empty: n === 0 ? `No job ended in the ${words}.` : null,
  };
}

function latencyChart(r: StatsReport, { words, per, base, buckets }: Frame): ChartModel {
  const series = STAGES.flatMap(([key, label, color]): SeriesModel[] =>
    (['p50', 'p95'] as const).map((p) => ({
      key: `${key}-${p}`,
      label: `${label} ${p}`,
      color,
      kind: 'line',
      dash: p === 'p95',
      values: buckets.map((b) => b.latency_ms[key][p]),
      total: r.totals.latency_ms[key][p],
    })),
  );
  const figures = STAGES.map(([key, label]) => {
    const l = r.totals.latency_ms[key];
    return `${label} ${formatValue(l.p50, 'ms')} / ${formatValue(l.p95, 'ms')}`;
  }).join(', ');
  const none = series.every((s) => s.values.every((v) => v === null));
  return {
    ...base,
    id: 'latency',
    title: 'Stage latency',
    summary: `p50 / p95 over the ${words}: ${figures}.`,
    description: `Lines on a logarithmic scale: the median (p50, solid) and 95th percentile (p95, dashed) latency of each stage per ${per} over the ${words}; over the whole range ${figures}.`,
    stacked: false,
    axes: [{ label: 'latency (log scale)', unit: 'ms', log: true }],
    series,
    empty: none ? `No stage ran in the ${words}.` : null,
  };
}

function queueChart(r: StatsReport, { words, per, base, buckets }: Frame): ChartModel {
  const q = r.totals.queue_depth;
  const figures = `at most ${formatValue(q.max, 'count')}, on average ${formatValue(q.avg, 'decimal')}`;
  return {
    ...base,
    id: 'queue',
    title: 'Queue depth',
    summary: `Queued jobs over the ${words}: ${figures}.`,
    description: `Lines: the most and the average queued jobs per ${per} over the ${words} (${figures}), sampled each minute.`,
    stacked: false,
    axes: [{ label: 'queued jobs', unit: 'decimal' }],
    series: [
      {
        key: 'max',
        label: 'maximum',
        color: '--chart-2',
        kind: 'step',
        values: buckets.map((b) => b.queue_depth.max),
        total: q.max,
      },
      {
        key: 'avg',
        label: 'average',
        color: '--chart-1',
        kind: 'line',
        values: buckets.map((b) => b.queue_depth.avg),
        total: q.avg,
      },
    ],
    empty: buckets.every((b) => b.queue_depth.max === null)
      ? `No queue samples in the ${words}: alter0 samples it each minute while it runs.`
      : null,
  };
}

function callsChart(r: StatsReport, { words, per, base, buckets }: Frame): ChartModel {
  const m = r.totals.model_calls;
  const kinds = [
    ['route', 'router calls', '--chart-1'],
    ['close', 'closer calls', '--chart-2'],
    ['agent', 'agent runs', '--chart-3'],
  ] as const;
  const figures = `${m.route} router calls, ${m.close} closer calls, ${m.agent} agent runs`;
  return {
    ...base,
    id: 'calls',
    title: 'Model calls',
    summary: `Over the ${words}: ${figures}.`,
    description: `Stacked bars: the router's and the closer's model calls and the agent runs per ${per} over the ${words} (${figures}).`,
    stacked: true,
    axes: [{ label: `calls per ${per}`, unit: 'count' }],
    series: kinds.map(([key, label, color]) => ({
      key,
      label,
      color,
      kind: 'bar',
      values: buckets.map((b) => b.model_calls[key]),
      total: m[key],
    })),
    empty: m.route + m.close + m.agent === 0 ? `No model call in the ${words}.` : null,
  };
}

function costChart(r: StatsReport, { words, per, base, buckets }: Frame): ChartModel {
  const t = r.totals;
  const cost = t.cost_usd === null ? 'no cost reported' : `${formatUsd(t.cost_usd)} reported`;
  const figures = `${cost}, ${formatTokens(t.tokens.input)} tokens in, ${formatTokens(t.tokens.output)} tokens out`;
  return {
    ...base,
    id: 'cost',
    title: 'Cost and tokens',
    summary: `Over the ${words}: ${figures}.`,
    description: `Bars of the cost in US dollars per ${per} (left axis) and lines of the tokens in and out (right axis) over the ${words}: ${figures}.`,
    stacked: false,
    axes: [
      { label: 'cost (USD)', unit: 'usd' },
      { label: 'tokens', unit: 'tokens' },
    ],
    series: [
      {
        key: 'cost',
        label: 'cost',
        color: '--chart-5',
        kind: 'bar',
        values: buckets.map((b) => b.cost_usd),
        total: t.cost_usd,
      },
      {
        key: 'in',
        label: 'tokens in',
        color: '--chart-1',
        kind: 'line',
        axis: 1,
        values: buckets.map((b) => b.tokens.input),
        total: t.tokens.input,
      },
      {
        key: 'out',
        label: 'tokens out',
        color: '--chart-3',
        kind: 'line',
        axis: 1,
        dash: true,
        values: buckets.map((b) => b.tokens.output),
        total: t.tokens.output,
      },
    ],
    empty:
      t.cost_usd === null && t.tokens.input + t.tokens.output === 0
        ? `No tokens or cost reported in the ${words}.`
        : null,
  };
}
