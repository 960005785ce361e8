import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import type { StatsRange, StatsReport, UsageReport, UsageRow } from '@alter0/api';
import { useApp } from '../app-context.js';
import { Chart } from '../ui/Chart.js';
import { Empty, ErrorBox, Loading } from '../ui/feedback.js';
import { formatEvery, formatTime, truncate } from '../ui/format.js';
import { ScrollBox } from '../ui/ScrollBox.js';
import { costText, formatTokens } from '../ui/usage.js';
import { useLoad, type Loaded } from '../ui/use-load.js';
import { chartsOf, RANGES } from './activity-model.js';

/** The history is rolled up every few minutes (stats.rollup_every): the page reads it again each minute. */
const POLL_MS = 60_000;
const TOP_TASKS = 10;

/** Jobs, latency, queue depth, model calls and cost over 24 h, 7 d or 30 d, and usage by day and by task. */
export function ActivityPage() {
  const { api } = useApp();
  const [range, setRange] = useState<StatsRange>('24h');
  const stats = useLoad(useCallback((signal: AbortSignal) => api.stats(range, { signal }), [api, range]));
  const byDay = useLoad(
    useCallback((signal: AbortSignal) => api.usage({ since: '30d', by: 'day' }, { signal }), [api]),
  );
  const byTask = useLoad(
    useCallback(
      (signal: AbortSignal) => api.usage({ since: range, by: 'task', limit: TOP_TASKS }, { signal }),
      [api, range],
    ),
  );
  const { reload: reloadStats } = stats;
  const { reload: reloadByDay } = byDay;
  const { reload: reloadByTask } = byTask;
  useEffect(() => {
    const t = setInterval(() => {
      reloadStats();
      reloadByDay();
      reloadByTask();
    }, POLL_MS);
    return () => clearInterval(t);
  }, [reloadStats, reloadByDay, reloadByTask]);

  const words = RANGES.find((r) => r.value === range)?.words ?? range;
  return (
    <section className="panel activity-page" aria-labelledby="activity-title" aria-busy={stats.loading}>
      <header className="activity-head">
        <h2 id="activity-title">Activity</h2>
        <RangeSwitch value={range} onChange={setRange} />
      </header>
      {stats.error && <ErrorBox message={stats.error} onRetry={stats.reload} />}
      {!stats.data && stats.loading && <Loading what="the history" />}
      {stats.data && <Charts report={stats.data} />}

      <h3>Usage by day</h3>
      <p className="meta">The last 30 days, by UTC day: the jobs that ended, their tokens and cost.</p>
      <UsageTable loaded={byDay} kind="day" />

      <h3>Top tasks by cost</h3>
      <p className="meta">The {words}: the tasks whose jobs cost the most, then used the most tokens.</p>
      <UsageTable loaded={byTask} kind="task" />
    </section>
  );
}

/** 24 h, 7 d, 30 d: radio buttons (arrow keys move between them), drawn as a segmented control. */
function RangeSwitch({ value, onChange }: { value: StatsRange; onChange: (r: StatsRange) => void }) {
  const name = useId();
  return (
    <fieldset className="range-switch">
      <legend className="visually-hidden">Range</legend>
      {RANGES.map((r) => (
        <label key={r.value} className={r.value === value ? 'on' : undefined}>
          <input
            type="radio"
            name={name}
            value={r.value}
            checked={r.value === value}
            onChange={() => onChange(r.value)}
          />
          {r.label}
        </label>
      ))}
    </fieldset>
  );
}

function Charts({ report }: { report: StatsReport }) {
  const charts = useMemo(() => chartsOf(report), [report]);
  if (report.rolled_up_at === null) return <NoHistory />;
  return (
    <>
      <p className="meta rollup" data-range={report.range} data-bucket={report.bucket}>
        From the hourly history as of {formatTime(report.rolled_up_at)}; the current{' '}
        {report.bucket === '1d' ? 'day' : report.bucket === '6h' ? '6 hours' : 'hour'} last.
      </p>
      <div className="charts" data-range={report.range}>
        {charts.map((c) => (
          <Chart key={c.id} model={c} />
        ))}
      </div>
    </>
  );
}

/** Before the first rollup: what to wait for, with its interval as the daemon runs it. */
function NoHistory() {
  const { api } = useApp();
  const status = useLoad(useCallback((signal: AbortSignal) => api.status({ signal }), [api]));
  const every = status.data?.components.scheduler.details.jobs.find((j) => j.name === 'stats_rollup')?.every;
  return <Empty>No history yet — the rollup runs {every === undefined ? 'every 5 min' : formatEvery(every)}.</Empty>;
}

function UsageTable({ loaded, kind }: { loaded: Loaded<UsageReport>; kind: 'day' | 'task' }) {
  const { data, error, reload } = loaded;
  if (error && !data) return <ErrorBox message={error} onRetry={reload} />;
  if (!data) return <Loading what="usage" />;
  if (data.rows.length === 0) return <Empty>No job ended in this time.</Empty>;
  const name = kind === 'day' ? 'Usage by day' : 'Top tasks by cost';
  return (
    <ScrollBox label={name}>
      <table className="usage-table" data-usage={kind}>
        <thead>
          <tr>
            <th scope="col">{kind === 'day' ? 'day (UTC)' : 'task'}</th>
            <th scope="col" className="num">
              jobs
            </th>
            <th scope="col" className="num">
              tokens in
            </th>
            <th scope="col" className="num">
              tokens out
            </th>
            <th scope="col" className="num">
              cost
            </th>
          </tr>
        </thead>
        <tbody>
          {data.rows.map((r) => (
            <tr key={r.key ?? '-'} data-key={r.key ?? undefined}>
              <th scope="row">{kind === 'day' ? r.key : <TaskCell row={r} />}</th>
              <UsageCells u={r} />
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">total</th>
            <UsageCells u={data.total} />
          </tr>
        </tfoot>
      </table>
    </ScrollBox>
  );
}

function UsageCells({ u }: { u: Omit<UsageRow, 'key' | 'title'> }) {
  return (
    <>
      <td className="num">{u.jobs}</td>
      <td className="num">{formatTokens(u.input_tokens)}</td>
      <td className="num">{formatTokens(u.output_tokens)}</td>
      <td className="num" data-cost-usd={u.cost_usd ?? undefined}>
        {u.cost_usd === null ? 'n/a' : costText(u)}
      </td>
    </>
  );
}

function TaskCell({ row }: { row: UsageRow }) {
  if (row.key === null) return <span className="muted">no task</span>;
  const title = row.title ?? `${row.key} (gone)`;
  return (
    <a className="task-link" href={`#/tasks/${encodeURIComponent(row.key)}`} title={row.key}>
      {truncate(title, 60)}
    </a>
  );
}
