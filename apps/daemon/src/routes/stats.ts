import { Hono } from 'hono';
import { parseDuration } from '@alter0/config';
import type { StatsRange, StatsReport } from '@alter0/api';
import { StatsQuery, UsageQuery } from '@alter0/api';
import { alignedStart } from '@alter0/store';
import type { ApiDeps } from '../api.js';
import { parseInput } from '../inputs.js';
import { statsReportView, usageReportView } from '../views.js';

const HOUR = 3_600_000;

/** Per range: the bucket and how many of them (the current one last, aligned to UTC). */
const RANGES: Record<StatsRange, { bucket: StatsReport['bucket']; ms: number; count: number }> = {
  '24h': { bucket: '1h', ms: HOUR, count: 24 },
  '7d': { bucket: '6h', ms: 6 * HOUR, count: 28 },
  '30d': { bucket: '1d', ms: 24 * HOUR, count: 30 },
};

/** A duration back from `now`, or an ISO date or time (UsageQuery checked which). */
function sinceOf(text: string | undefined, now: number): number {
  if (text === undefined) return now - 7 * 24 * HOUR;
  return /^\d+(\.\d+)?(ms|s|m|h|d|w)$/.test(text) ? now - parseDuration(text) : Date.parse(text);
}

/**
 * GET /api/usage (tokens and cost by day or task) and GET /api/stats (the charts' series): both read the hourly
 * history the maintenance job `stats_rollup` keeps (and the jobs of the hours since its last run), never a month of
 * jobs on this event loop.
 */
export function statsRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const app = new Hono();

  app.get('/api/usage', (c) => {
    const q = parseInput(UsageQuery, c.req.query(), 'query');
    const by = q.by ?? 'day';
    const report = store.stats.usage({ since: sinceOf(q.since, deps.now()), by, limit: q.limit });
    return c.json(usageReportView(report, by));
  });

  app.get('/api/stats', (c) => {
    const q = parseInput(StatsQuery, c.req.query(), 'query');
    const range = q.range ?? '24h';
    const r = RANGES[range];
    const series = store.stats.series({
      from: alignedStart(deps.now(), r.ms, r.count),
      bucketMs: r.ms,
      count: r.count,
    });
    return c.json(statsReportView(range, r.bucket, series));
  });

  return app;
}
