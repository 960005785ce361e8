import * as v from 'valibot';
import { count, nullableNumber, nullableString, nullableTimestamp, timestamp } from './fields.js';

/** Usage and cost, and the compact history behind the console's charts (docs/api.md "Usage and stats"). */

/** Tokens and cost summed over jobs, as the agent CLIs reported them; `cost_usd` null when none reported a cost. */
export const UsageTotals = v.object({
  jobs: count,
  input_tokens: count,
  output_tokens: count,
  cost_usd: nullableNumber,
  jobs_with_cost: count,
});
export type UsageTotals = v.InferOutput<typeof UsageTotals>;

export const USAGE_BY = ['day', 'task'] as const;

export const UsageRow = v.object({
  /** by day: the UTC day, `YYYY-MM-DD`; by task: the task id (null: jobs never routed to a task). */
  key: nullableString,
  /** by task: the task's title (null when the task is gone); by day: null. */
  title: nullableString,
  ...UsageTotals.entries,
});
export type UsageRow = v.InferOutput<typeof UsageRow>;

/** GET /api/usage: the jobs that ended since `since` (the start of its hour). */
export const UsageReport = v.object({
  since: timestamp,
  by: v.picklist(USAGE_BY),
  rows: v.array(UsageRow),
  total: UsageTotals,
});
export type UsageReport = v.InferOutput<typeof UsageReport>;

const DURATION = /^\d+(\.\d+)?(ms|s|m|h|d|w)$/;
const ISO_DAY_OR_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A duration back from now ("7d", "24h") or an ISO date (UTC midnight) or time with its zone. */
export const SinceText = v.pipe(
  v.string(),
  v.trim(),
  v.check(
    (s) => DURATION.test(s) || (ISO_DAY_OR_TIME.test(s) && Number.isFinite(Date.parse(s))),
    'since must be a duration back from now such as 7d or 24h, or an ISO date or time such as 2026-11-01 or 2026-11-01T09:00:00Z',
  ),
);

export const UsageQuery = v.object({
  since: v.optional(SinceText),
  by: v.optional(v.picklist(USAGE_BY, 'by must be day or task')),
  limit: v.optional(
    v.pipe(v.string(), v.transform(Number), v.integer('limit must be a whole number'), v.minValue(1), v.maxValue(1000)),
  ),
});
/** The query as a client writes it (`limit` a number). */
export type UsageFilter = Omit<v.InferInput<typeof UsageQuery>, 'limit'> & { limit?: number };

export const STATS_RANGES = ['24h', '7d', '30d'] as const;
export type StatsRange = (typeof STATS_RANGES)[number];

const Percentiles = v.object({ p50: nullableNumber, p95: nullableNumber });

/** What one bucket (or the whole range) shows. */
export const StatsFigures = v.object({
  jobs: v.object({ succeeded: count, failed: count, canceled: count }),
  /** Per stage, of the jobs that ended in the bucket; null when none ran the stage. */
  latency_ms: v.object({ queue_wait: Percentiles, route: Percentiles, execute: Percentiles, close: Percentiles }),
  /** Queued jobs as the daemon sampled them each minute; null without samples. */
  queue_depth: v.object({ max: v.nullable(count), avg: nullableNumber }),
  /** Router and closer calls that asked a model, and agent runs. */
  model_calls: v.object({ route: count, close: count, agent: count }),
  tokens: v.object({ input: count, output: count }),
  cost_usd: nullableNumber,
});
export type StatsFigures = v.InferOutput<typeof StatsFigures>;

export const StatsBucket = v.object({ start: timestamp, ...StatsFigures.entries });
export type StatsBucket = v.InferOutput<typeof StatsBucket>;

/** GET /api/stats: hourly buckets for 24h, six-hourly for 7d, daily for 30d (UTC), the current one last. */
export const StatsReport = v.object({
  range: v.picklist(STATS_RANGES),
  bucket: v.picklist(['1h', '6h', '1d']),
  from: timestamp,
  to: timestamp,
  /** The last rollup the figures come from (they are at most stats.rollup_every old); null before the first. */
  rolled_up_at: nullableTimestamp,
  buckets: v.array(StatsBucket),
  totals: StatsFigures,
});
export type StatsReport = v.InferOutput<typeof StatsReport>;

export const StatsQuery = v.object({
  range: v.optional(v.picklist(STATS_RANGES, 'range must be 24h, 7d or 30d')),
});
