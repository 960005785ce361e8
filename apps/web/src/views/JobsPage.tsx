import { useCallback, useEffect, useState } from 'react';
import { useApp } from '../app-context.js';
import { JobCard } from '../ui/JobCard.js';
import { Empty, ErrorBox, Loading } from '../ui/feedback.js';
import { useLoad } from '../ui/use-load.js';
import { JOB_LIST_LIMIT as LIMIT, applyJobEvent, type JobFilter } from '../live/apply.js';
import { mergeList } from '../live/freshest.js';

const FILTERS: JobFilter[] = ['all', 'queued', 'running', 'succeeded', 'failed', 'canceled'];

export function JobsPage() {
  const { api, bus } = useApp();
  const [filter, setFilter] = useState<JobFilter>('all');
  const load = useCallback(
    (signal: AbortSignal) => api.listJobs({ state: filter === 'all' ? undefined : filter, limit: LIMIT }, { signal }),
    [api, filter],
  );
  const jobs = useLoad(load, mergeList);
  const { setData } = jobs;
  useEffect(
    () => bus.onJob((j) => setData((list) => (list ? applyJobEvent(list, j, filter) : list))),
    [bus, setData, filter],
  );

  return (
    <section className="panel" aria-labelledby="jobs-title">
      <h2 id="jobs-title">Jobs</h2>
      <div className="toolbar">
        <div className="segmented" role="group" aria-label="Job state filter">
          {FILTERS.map((f) => (
            <button
              key={f}
              type="button"
              className="btn small"
              aria-pressed={filter === f}
              onClick={() => setFilter(f)}
            >
              {f}
            </button>
          ))}
        </div>
      </div>
      {jobs.error && <ErrorBox message={jobs.error} onRetry={jobs.reload} />}
      {!jobs.data && jobs.loading && <Loading what="jobs" />}
      {jobs.data && jobs.data.length === 0 && <Empty>{filter === 'all' ? 'No jobs yet.' : `No ${filter} jobs.`}</Empty>}
      {jobs.data && jobs.data.length > 0 && (
        <div className="cards" aria-busy={jobs.loading}>
          {jobs.data.map((j) => (
            <JobCard key={j.id} job={j} />
          ))}
        </div>
      )}
    </section>
  );
}
