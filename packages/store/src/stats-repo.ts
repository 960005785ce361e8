import type BetterSqlite3 from 'better-sqlite3';
import type { StatsHourlyRow } from './schema.js';
import type { StatsStage } from './stats.js';
import { BINS, DAY_MS, STATS_STAGES, addCost, addHistograms, histogramPercentile, hourOf } from './stats.js';

/** Tokens and cost summed over jobs; `costUsd` null when none of them reported a cost. */
export interface UsageTotals {
  jobs: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  jobsWithCost: number;
}

/** One row of a usage report: a UTC day (`YYYY-MM-DD`) or a task (null: jobs never routed to a task). */
export interface UsageRow extends UsageTotals {
  key: string | null;
  /** The task's title (by task; null by day, or when the task is gone). */
  title: string | null;
}

export interface UsageReport {
  /** The start of the hour `since` fell in: what is counted ended at or after it. */
  since: number;
  rows: UsageRow[];
  total: UsageTotals;
  /** From here on the jobs were read themselves (the hours since the last rollup); before it, usage_hourly. */
  liveFrom: number;
}

/** What one bucket of the charts shows (GET /api/stats). */
export interface StatsFigures {
  jobs: { succeeded: number; failed: number; canceled: number };
  /** Milliseconds; null when no job that ended in the bucket ran the stage. */
  latency: Record<StatsStage, { p50: number | null; p95: number | null }>;
  /** Queued jobs as the daemon sampled them; null without samples (alter0 was not running). */
  depth: { max: number | null; avg: number | null };
  modelCalls: { route: number; close: number; agent: number };
  tokens: { input: number; output: number };
  costUsd: number | null;
}

export interface StatsBucket extends StatsFigures {
  start: number;
}

export interface StatsSeries {
  from: number;
  to: number;
  bucketMs: number;
  /** The newest rollup (epoch ms) among the rows read: what the figures are as of. */
  rolledUpAt: number | null;
  buckets: StatsBucket[];
  totals: StatsFigures;
}

const USAGE_SUMS = `count(*) AS jobs,
  coalesce(sum(json_extract(usage_json, '$.inputTokens')), 0) AS inputTokens,
  coalesce(sum(json_extract(usage_json, '$.outputTokens')), 0) AS outputTokens,
  sum(json_extract(usage_json, '$.costUsd')) AS costUsd,
  count(json_extract(usage_json, '$.costUsd')) AS jobsWithCost`;

const ROLLED_SUMS = `sum(jobs) AS jobs, sum(input_tokens) AS inputTokens, sum(output_tokens) AS outputTokens,
  sum(cost_usd) AS costUsd, sum(jobs_with_cost) AS jobsWithCost`;

type KeyedTotals = UsageTotals & { k: string | number };

/**
 * The read side of the hourly history, on the daemon's connection: every query here reads a bounded number of
 * rows (an hour's jobs, a task's jobs, at most `retention.stats` of hourly rows), never a month of jobs.
 */
export class StatsRepo {
  constructor(private readonly sqlite: BetterSqlite3.Database) {}

  /** Jobs queued now, both lanes (an index range: cheap enough to sample each minute). */
  queuedCount(): number {
    return Number(this.sqlite.prepare(`SELECT count(*) FROM jobs WHERE state = 'queued'`).pluck().get());
  }

  /** Usage summed over all of one task's jobs. */
  taskUsage(taskId: string): UsageTotals {
    return totalsOf(this.sqlite.prepare(`SELECT ${USAGE_SUMS} FROM jobs WHERE task_id = ?`).get(taskId));
  }

  /** When the rollup last ran (the newest `rolled_at`), or null before its first run. */
  lastRollupAt(): number | null {
    return this.sqlite.prepare('SELECT max(rolled_at) FROM stats_hourly').pluck().get() as number | null;
  }

  /**
   * Usage of the jobs that ended at or after the hour `since` falls in, by UTC day (oldest first) or by task (most
   * cost first, then most tokens; at most `limit` rows, the total covers all). Whole hours before the last rollup's
   * come from the rollup (by day stats_hourly, by task usage_hourly); the rest (about an hour) from the jobs
   * themselves, so it is never stale.
   */
  usage(q: { since: number; by: 'day' | 'task'; limit?: number }): UsageReport {
    const since = hourOf(q.since);
    const last = this.lastRollupAt();
    const liveFrom = last === null ? since : Math.max(since, hourOf(last));
    const liveKey = q.by === 'day' ? `(finished_at / ${DAY_MS}) * ${DAY_MS}` : `coalesce(task_id, '')`;
    // By day, the hours' own rows (one per hour); by task, the usage cells (one per hour and task).
    const rolledSql =
      q.by === 'day'
        ? `SELECT (hour / ${DAY_MS}) * ${DAY_MS} AS k, sum(succeeded + failed + canceled) AS jobs,
                  sum(input_tokens) AS inputTokens, sum(output_tokens) AS outputTokens, sum(cost_usd) AS costUsd,
                  sum(jobs_with_cost) AS jobsWithCost
             FROM stats_hourly WHERE hour >= ? AND hour < ? GROUP BY 1`
        : `SELECT task_id AS k, ${ROLLED_SUMS} FROM usage_hourly WHERE hour >= ? AND hour < ? GROUP BY 1`;
    const rolled = this.sqlite.prepare(rolledSql).all(since, liveFrom) as KeyedTotals[];
    const live = this.sqlite
      .prepare(`SELECT ${liveKey} AS k, ${USAGE_SUMS} FROM jobs WHERE finished_at >= ? GROUP BY 1`)
      .all(liveFrom) as KeyedTotals[];
    const merged = new Map<string | number, UsageTotals>();
    for (const r of [...rolled, ...live]) merged.set(r.k, addTotals(merged.get(r.k) ?? emptyTotals(), totalsOf(r)));
    let rows: UsageRow[];
    if (q.by === 'day') {
      rows = [...merged.entries()]
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([k, t]) => ({ key: new Date(Number(k)).toISOString().slice(0, 10), title: null, ...t }));
    } else {
      rows = [...merged.entries()]
        .map(([k, t]) => ({ key: k === '' ? null : String(k), title: null, ...t }))
        .sort(byCostThenTokens)
        .slice(0, q.limit ?? 100);
      const titles = this.titles(rows.flatMap((r) => (r.key === null ? [] : [r.key])));
      for (const r of rows) r.title = r.key === null ? null : (titles.get(r.key) ?? null);
    }
    const total = [...merged.values()].reduce(addTotals, emptyTotals());
    return { since, rows, total, liveFrom };
  }

  /** The hourly rows of [from, to), oldest first. */
  hours(from: number, to: number): StatsHourlyRow[] {
    return this.sqlite
      .prepare(
        `SELECT hour, succeeded, failed, canceled, queue_wait_p50 AS queueWaitP50, queue_wait_p95 AS queueWaitP95,
                  route_p50 AS routeP50, route_p95 AS routeP95, execute_p50 AS executeP50, execute_p95 AS executeP95,
                  close_p50 AS closeP50, close_p95 AS closeP95, latency_hist AS latencyHist,
                  depth_samples AS depthSamples, depth_sum AS depthSum, depth_max AS depthMax,
                  depth_last_at AS depthLastAt, route_calls AS routeCalls, close_calls AS closeCalls,
                  agent_runs AS agentRuns, input_tokens AS inputTokens, output_tokens AS outputTokens,
                  cost_usd AS costUsd, jobs_with_cost AS jobsWithCost, rolled_at AS rolledAt
             FROM stats_hourly WHERE hour >= ? AND hour < ? ORDER BY hour`,
      )
      .all(from, to) as StatsHourlyRow[];
  }

  /** `count` buckets of `bucketMs` from `from` (aligned by the caller), each merged from its hours. */
  series(q: { from: number; bucketMs: number; count: number }): StatsSeries {
    const to = q.from + q.bucketMs * q.count;
    const rows = this.hours(q.from, to);
    const buckets: StatsBucket[] = [];
    for (let i = 0; i < q.count; i++) {
      const start = q.from + i * q.bucketMs;
      buckets.push({ start, ...figuresOf(rows.filter((r) => r.hour >= start && r.hour < start + q.bucketMs)) });
    }
    const rolledUpAt = rows.length === 0 ? null : Math.max(...rows.map((r) => r.rolledAt));
    return { from: q.from, to, bucketMs: q.bucketMs, rolledUpAt, buckets, totals: figuresOf(rows) };
  }

  private titles(ids: string[]): Map<string, string> {
    if (ids.length === 0) return new Map();
    const rows = this.sqlite
      .prepare('SELECT id, title FROM tasks WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ids)) as { id: string; title: string }[];
    return new Map(rows.map((r) => [r.id, r.title]));
  }
}

function totalsOf(r: unknown): UsageTotals {
  const x = (r ?? {}) as Partial<Record<keyof UsageTotals, number | null>>;
  return {
    jobs: Number(x.jobs ?? 0),
    inputTokens: Math.round(Number(x.inputTokens ?? 0)),
    outputTokens: Math.round(Number(x.outputTokens ?? 0)),
    costUsd: x.costUsd === null || x.costUsd === undefined ? null : Number(x.costUsd),
    jobsWithCost: Number(x.jobsWithCost ?? 0),
  };
}

const emptyTotals = (): UsageTotals => ({ jobs: 0, inputTokens: 0, outputTokens: 0, costUsd: null, jobsWithCost: 0 });

function addTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    jobs: a.jobs + b.jobs,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    costUsd: addCost(a.costUsd, b.costUsd),
    jobsWithCost: a.jobsWithCost + b.jobsWithCost,
  };
}

function byCostThenTokens(a: UsageRow, b: UsageRow): number {
  return (
    (b.costUsd ?? -1) - (a.costUsd ?? -1) ||
    b.inputTokens + b.outputTokens - (a.inputTokens + a.outputTokens) ||
    b.jobs - a.jobs
  );
}

/**
 * One bucket's figures from its hours: counts add up; a stage's p50/p95 are its one hour's exact figures, or, over
 * several hours, read from their merged histograms (within ±9 %); the depth's maximum and the mean of all samples.
 */
function figuresOf(rows: readonly StatsHourlyRow[]): StatsFigures {
  const sum = (f: (r: StatsHourlyRow) => number): number => rows.reduce((n, r) => n + f(r), 0);
  const counts = Object.fromEntries(STATS_STAGES.map((s) => [s, new Float64Array(BINS)])) as Record<
    StatsStage,
    Float64Array
  >;
  // Per stage: how many hours had values, and the last of them (its exact figures when it is the only one).
  const hours = new Map<StatsStage, { n: number; last: StatsHourlyRow }>();
  for (const r of rows) {
    for (const stage of addHistograms(r.latencyHist, counts))
      hours.set(stage, { n: (hours.get(stage)?.n ?? 0) + 1, last: r });
  }
  const latency = {} as StatsFigures['latency'];
  for (const stage of STATS_STAGES) {
    const seen = hours.get(stage);
    const only = seen?.n === 1 ? seen.last : undefined;
    latency[stage] = only
      ? exact(only, stage)
      : { p50: histogramPercentile(counts[stage], 0.5), p95: histogramPercentile(counts[stage], 0.95) };
  }
  const samples = sum((r) => r.depthSamples);
  const maxes = rows.flatMap((r) => (r.depthMax === null || r.depthSamples === 0 ? [] : [r.depthMax]));
  return {
    jobs: { succeeded: sum((r) => r.succeeded), failed: sum((r) => r.failed), canceled: sum((r) => r.canceled) },
    latency,
    depth: {
      max: maxes.length === 0 ? null : Math.max(...maxes),
      avg: samples === 0 ? null : Math.round((sum((r) => r.depthSum) / samples) * 100) / 100,
    },
    modelCalls: { route: sum((r) => r.routeCalls), close: sum((r) => r.closeCalls), agent: sum((r) => r.agentRuns) },
    tokens: { input: sum((r) => r.inputTokens), output: sum((r) => r.outputTokens) },
    costUsd: rows.reduce<number | null>((c, r) => addCost(c, r.costUsd), null),
  };
}

function exact(r: StatsHourlyRow, stage: StatsStage): { p50: number | null; p95: number | null } {
  switch (stage) {
    case 'queue_wait':
      return { p50: r.queueWaitP50, p95: r.queueWaitP95 };
    case 'route':
      return { p50: r.routeP50, p95: r.routeP95 };
    case 'execute':
      return { p50: r.executeP50, p95: r.executeP95 };
    case 'close':
      return { p50: r.closeP50, p95: r.closeP95 };
  }
}

/** The first of `count` buckets of `bucketMs` (a whole number of hours) ending with the one `now` is in, aligned to UTC. */
export function alignedStart(now: number, bucketMs: number, count: number): number {
  return Math.floor(now / bucketMs) * bucketMs - (count - 1) * bucketMs;
}
