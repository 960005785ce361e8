import type BetterSqlite3 from 'better-sqlite3';
import type { StatsHourlyRow } from './schema.js';

/*
 * The hourly history behind GET /api/stats and GET /api/usage: the rollup's SQL (run by the maintenance worker on
 * its own connection, never on the daemon's event loop) and the arithmetic both sides share — percentiles by
 * nearest rank, and log-binned histograms that let longer buckets merge their hours' latencies.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** How far back the rollup looks on its first run and after downtime (retention.finished_jobs is 30d by default). */
export const STATS_BACKFILL_MS = 31 * DAY_MS;

export const STATS_STAGES = ['queue_wait', 'route', 'execute', 'close'] as const;
export type StatsStage = (typeof STATS_STAGES)[number];

/** A queue depth the daemon saw (queued jobs, both lanes) at `at` (epoch ms). */
export interface DepthSample {
  at: number;
  depth: number;
}

export const hourOf = (t: number): number => Math.floor(t / HOUR_MS) * HOUR_MS;

/** Bins of a histogram: bin 255 begins beyond 10^19 ms. */
export const BINS = 256;

/** Four bins per doubling: bin 0 holds < 1 ms, bin b ≥ 1 holds [2^((b-1)/4), 2^(b/4)) ms — within ±9 % of a value. */
export function latencyBin(ms: number): number {
  return ms < 1 ? 0 : Math.min(BINS - 1, Math.floor(4 * Math.log2(ms)) + 1);
}

/** The value a bin stands for: its geometric middle (0 for bin 0). */
export function binValue(bin: number): number {
  return bin <= 0 ? 0 : Math.round(2 ** ((bin - 0.5) / 4));
}

/** The p-th percentile (0 < p ≤ 1) of ascending `sorted` by nearest rank: the smallest value with p of all at or below it. */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1;
  return sorted[i] ?? null;
}

/** The same percentile over a histogram's counts per bin (the bin's value stands in for the values in it). */
export function histogramPercentile(counts: ArrayLike<number>, p: number): number | null {
  let n = 0;
  for (let b = 0; b < counts.length; b++) n += counts[b] ?? 0;
  if (n === 0) return null;
  const rank = Math.min(n, Math.max(1, Math.ceil(p * n)));
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    seen += counts[b] ?? 0;
    if (seen >= rank) return binValue(b);
  }
  return null;
}

/** Per stage with values: [stage index u8][bins u8] then [bin u8][count u32 LE] per bin, ascending. */
export function encodeHistograms(values: Partial<Record<StatsStage, readonly number[]>>): Buffer {
  const parts: Buffer[] = [];
  STATS_STAGES.forEach((stage, index) => {
    const counts = new Map<number, number>();
    for (const v of values[stage] ?? []) counts.set(latencyBin(v), (counts.get(latencyBin(v)) ?? 0) + 1);
    if (counts.size === 0) return;
    const bins = [...counts.entries()].sort((a, b) => a[0] - b[0]);
    const buf = Buffer.alloc(2 + 5 * bins.length);
    buf.writeUInt8(index, 0);
    buf.writeUInt8(bins.length - 1, 1);
    bins.forEach(([bin, n], i) => {
      buf.writeUInt8(bin, 2 + 5 * i);
      buf.writeUInt32LE(n, 3 + 5 * i);
    });
    parts.push(buf);
  });
  return Buffer.concat(parts);
}

/** Adds an encoded hour's counts into one dense array per stage; returns the stages it had values for. */
export function addHistograms(encoded: Uint8Array | null, into: Record<StatsStage, Float64Array>): StatsStage[] {
  if (encoded === null) return [];
  const buf = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const seen: StatsStage[] = [];
  for (let at = 0; at + 2 <= buf.length;) {
    const stage = STATS_STAGES[buf.readUInt8(at)];
    const bins = buf.readUInt8(at + 1) + 1;
    at += 2;
    if (stage === undefined || at + 5 * bins > buf.length) break;
    const counts = into[stage];
    for (let i = 0; i < bins; i++, at += 5) {
      const bin = buf.readUInt8(at);
      counts[bin] = (counts[bin] ?? 0) + buf.readUInt32LE(at + 1);
    }
    seen.push(stage);
  }
  return seen;
}

/** Adds nullable costs: null only when both are null (no job reported one). */
export const addCost = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : a + b);

interface EndedJob {
  finished_at: number;
  state: 'succeeded' | 'failed' | 'canceled';
  task_id: string | null;
  attempt: number;
  queue_wait_ms: number | null;
  route_ms: number | null;
  execute_ms: number | null;
  close_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
}

const STAGE_COLUMN: Record<StatsStage, 'queue_wait_ms' | 'route_ms' | 'execute_ms' | 'close_ms'> = {
  queue_wait: 'queue_wait_ms',
  route: 'route_ms',
  execute: 'execute_ms',
  close: 'close_ms',
};

type HourFigures = Omit<StatsHourlyRow, 'depthSamples' | 'depthSum' | 'depthMax' | 'depthLastAt'>;

interface UsageCell {
  hour: number;
  taskId: string;
  jobs: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  jobsWithCost: number;
}

export interface RollupInput {
  /** Epoch ms: the hour it falls in is the last one computed. */
  now: number;
  /** The daemon's queue depth samples; one already counted in its hour's row is skipped. */
  samples?: readonly DepthSample[];
  /** How far back a first run (or one after downtime) looks; default STATS_BACKFILL_MS. */
  backfillMs?: number;
}

export interface RollupReport {
  /** The first hour recomputed (epoch ms) and how many hours, up to the current one. */
  from: number;
  hours: number;
  /** Jobs that ended in those hours. */
  jobs: number;
  /** Queue depth samples counted now (new ones only). */
  samples: number;
}

/**
 * Recomputes the hours from the earliest that may have changed to the current one, idempotently: the previous
 * and current hour at every run; after downtime (or on the first run) every hour since the last one computed, at
 * most `backfillMs` back. Reads in one snapshot, then writes the hours in short IMMEDIATE transactions (a day of
 * hours each), so the daemon's writers are never held up for long.
 */
export function rollupStats(db: BetterSqlite3.Database, input: RollupInput): RollupReport {
  const current = hourOf(input.now);
  const samples = (input.samples ?? []).filter((s) => s.at <= input.now && Number.isFinite(s.depth));
  const read = db.transaction(() => {
    const from = firstHour(db, current, input.backfillMs ?? STATS_BACKFILL_MS, samples);
    return { from, ...readHours(db, from, current + HOUR_MS) };
  });
  const { from, jobs, routeCalls, closeCalls } = read();
  const hours: HourFigures[] = [];
  const usage: UsageCell[] = [];
  const byHour = groupBy(jobs, (j) => hourOf(j.finished_at));
  for (let h = from; h <= current; h += HOUR_MS) {
    const ended = byHour.get(h) ?? [];
    hours.push(hourFigures(h, ended, routeCalls.get(h) ?? 0, closeCalls.get(h) ?? 0, input.now));
    usage.push(...usageCells(h, ended));
  }
  let counted = 0;
  const write = writer(db);
  for (let i = 0; i < hours.length; i += 24) {
    const chunk = hours.slice(i, i + 24);
    const first = chunk[0]?.hour ?? from;
    const last = chunk.at(-1)?.hour ?? from;
    counted += db
      .transaction(() =>
        write(
          chunk,
          usage.filter((u) => u.hour >= first && u.hour <= last),
          samples.filter((s) => hourOf(s.at) >= first && hourOf(s.at) <= last),
        ),
      )
      .immediate();
  }
  return { from, hours: hours.length, jobs: jobs.length, samples: counted };
}

/** The earliest hour to recompute: the previous one, or back to the last hour computed (or the oldest job). */
function firstHour(
  db: BetterSqlite3.Database,
  current: number,
  backfillMs: number,
  samples: readonly DepthSample[],
): number {
  const limit = hourOf(current - Math.max(0, backfillMs));
  const last = db.prepare('SELECT max(hour) FROM stats_hourly').pluck().get() as number | null;
  let from: number;
  if (last === null) {
    const oldest = db.prepare(`SELECT min(finished_at) FROM jobs WHERE finished_at >= ?`).pluck().get(limit) as
      number | null;
    from = oldest === null ? current : hourOf(oldest);
  } else {
    from = Math.min(last, current - HOUR_MS);
  }
  for (const s of samples) from = Math.min(from, hourOf(s.at));
  return Math.min(current, Math.max(limit, from));
}

function readHours(db: BetterSqlite3.Database, from: number, to: number) {
  const jobs = db
    .prepare(
      `SELECT finished_at, state, task_id, attempt, queue_wait_ms, route_ms, execute_ms, close_ms,
              json_extract(usage_json, '$.inputTokens') AS input_tokens,
              json_extract(usage_json, '$.outputTokens') AS output_tokens,
              json_extract(usage_json, '$.costUsd') AS cost_usd
         FROM jobs
        WHERE finished_at >= ? AND finished_at < ? AND state IN ('succeeded', 'failed', 'canceled')`,
    )
    .all(from, to) as EndedJob[];
  const calls = (table: 'route_decisions' | 'close_decisions'): Map<number, number> =>
    new Map(
      (
        db
          .prepare(
            `SELECT (created_at / ${HOUR_MS}) * ${HOUR_MS} AS hour, count(*) AS n FROM ${table}
              WHERE created_at >= ? AND created_at < ? AND model_called = 1 GROUP BY 1`,
          )
          .all(from, to) as { hour: number; n: number }[]
      ).map((r) => [r.hour, r.n]),
    );
  return { jobs, routeCalls: calls('route_decisions'), closeCalls: calls('close_decisions') };
}

function hourFigures(hour: number, ended: EndedJob[], route: number, close: number, now: number): HourFigures {
  const count = (s: EndedJob['state']): number => ended.filter((j) => j.state === s).length;
  const hist: Partial<Record<StatsStage, number[]>> = {};
  const pct = {} as Record<StatsStage, { p50: number | null; p95: number | null }>;
  for (const stage of STATS_STAGES) {
    const values = ended
      .map((j) => j[STAGE_COLUMN[stage]])
      .filter((v): v is number => v !== null && Number.isFinite(v))
      .sort((a, b) => a - b);
    pct[stage] = { p50: nearestRank(values, 0.5), p95: nearestRank(values, 0.95) };
    hist[stage] = values;
  }
  const usage = sumUsage(ended);
  return {
    hour,
    succeeded: count('succeeded'),
    failed: count('failed'),
    canceled: count('canceled'),
    queueWaitP50: pct.queue_wait.p50,
    queueWaitP95: pct.queue_wait.p95,
    routeP50: pct.route.p50,
    routeP95: pct.route.p95,
    executeP50: pct.execute.p50,
    executeP95: pct.execute.p95,
    closeP50: pct.close.p50,
    closeP95: pct.close.p95,
    latencyHist: encodeHistograms(hist),
    routeCalls: route,
    closeCalls: close,
    agentRuns: ended.reduce((n, j) => n + (j.execute_ms === null ? 0 : Math.max(1, j.attempt)), 0),
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    costUsd: usage.costUsd,
    jobsWithCost: usage.jobsWithCost,
    rolledAt: now,
  };
}

function sumUsage(ended: readonly EndedJob[]): Omit<UsageCell, 'hour' | 'taskId'> {
  let inputTokens = 0;
  let outputTokens = 0;
  let costUsd: number | null = null;
  let jobsWithCost = 0;
  for (const j of ended) {
    inputTokens += num(j.input_tokens);
    outputTokens += num(j.output_tokens);
    if (typeof j.cost_usd === 'number' && Number.isFinite(j.cost_usd)) {
      costUsd = (costUsd ?? 0) + j.cost_usd;
      jobsWithCost++;
    }
  }
  return { jobs: ended.length, inputTokens, outputTokens, costUsd, jobsWithCost };
}

/** A token count as reported: a finite number, else 0 (a field the executor did not report). */
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : 0);

function usageCells(hour: number, ended: EndedJob[]): UsageCell[] {
  return [...groupBy(ended, (j) => j.task_id ?? '').entries()].map(([taskId, js]) => ({
    hour,
    taskId,
    ...sumUsage(js),
  }));
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** The statements of one write: the hours' figures (depth columns kept), their usage cells, new depth samples. */
function writer(db: BetterSqlite3.Database) {
  const upsert = db.prepare(
    `INSERT INTO stats_hourly (hour, succeeded, failed, canceled, queue_wait_p50, queue_wait_p95, route_p50, route_p95,
        execute_p50, execute_p95, close_p50, close_p95, latency_hist, route_calls, close_calls, agent_runs,
        input_tokens, output_tokens, cost_usd, jobs_with_cost, rolled_at)
     VALUES (:hour, :succeeded, :failed, :canceled, :queueWaitP50, :queueWaitP95, :routeP50, :routeP95,
        :executeP50, :executeP95, :closeP50, :closeP95, :latencyHist, :routeCalls, :closeCalls, :agentRuns,
        :inputTokens, :outputTokens, :costUsd, :jobsWithCost, :rolledAt)
     ON CONFLICT (hour) DO UPDATE SET succeeded = excluded.succeeded, failed = excluded.failed,
        canceled = excluded.canceled, queue_wait_p50 = excluded.queue_wait_p50,
        queue_wait_p95 = excluded.queue_wait_p95, route_p50 = excluded.route_p50, route_p95 = excluded.route_p95,
        execute_p50 = excluded.execute_p50, execute_p95 = excluded.execute_p95, close_p50 = excluded.close_p50,
        close_p95 = excluded.close_p95, latency_hist = excluded.latency_hist,
        route_calls = excluded.route_calls, close_calls = excluded.close_calls, agent_runs = excluded.agent_runs,
        input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd,
        jobs_with_cost = excluded.jobs_with_cost, rolled_at = excluded.rolled_at`,
  );
  const clearUsage = db.prepare('DELETE FROM usage_hourly WHERE hour >= ? AND hour <= ?');
  const addUsage = db.prepare(
    `INSERT INTO usage_hourly (hour, task_id, jobs, input_tokens, output_tokens, cost_usd, jobs_with_cost)
     VALUES (:hour, :taskId, :jobs, :inputTokens, :outputTokens, :costUsd, :jobsWithCost)`,
  );
  const lastSample = db.prepare('SELECT depth_last_at FROM stats_hourly WHERE hour = ?').pluck();
  const addSamples = db.prepare(
    `UPDATE stats_hourly SET depth_samples = depth_samples + :n, depth_sum = depth_sum + :sum,
        depth_max = max(coalesce(depth_max, 0), :max), depth_last_at = :last WHERE hour = :hour`,
  );
  return (hours: HourFigures[], usage: UsageCell[], samples: DepthSample[]): number => {
    for (const h of hours) upsert.run(h);
    if (hours.length > 0) clearUsage.run(hours[0]?.hour, hours.at(-1)?.hour);
    for (const u of usage) addUsage.run(u);
    let counted = 0;
    for (const [hour, list] of groupBy(samples, (s) => hourOf(s.at))) {
      const after = (lastSample.get(hour) as number | null | undefined) ?? -Infinity;
      const fresh = list.filter((s) => s.at > after);
      if (fresh.length === 0) continue;
      const depths = fresh.map((s) => Math.max(0, Math.round(s.depth)));
      addSamples.run({
        hour,
        n: fresh.length,
        sum: depths.reduce((a, b) => a + b, 0),
        max: Math.max(...depths),
        last: Math.max(...fresh.map((s) => s.at)),
      });
      counted += fresh.length;
    }
    return counted;
  };
}
