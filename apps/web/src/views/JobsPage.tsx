import { useEffect, useState } from 'react';
import type { Job, JobState } from '../api/types.js';
import { useApp } from '../app-context.js';
import { JobCard } from '../ui/JobCard.js';
import { Empty, ErrorBox, Loading } from '../ui/feedback.js';
import { useLoad } from '../ui/use-load.js';

type JobFilter = JobState | 'all';
const FILTERS: JobFilter[] = ['all', 'queued', 'running', 'succeeded', 'failed', 'canceled'];
const LIMIT = 100;

/** Applies a live job event: replace a known job in place, put a new matching one on top. */
export function applyJobEvent(list: Job[], job: Job, filter: JobFilter): Job[] {
  const i = list.findIndex((j) => j.id === job.id);
  if (i >= 0) return list.map((j, k) => (k === i ? job : j));
  if (filter !== 'all' && job.state !== filter) return list;
  return [job, ...list].slice(0, LIMIT);
}

export function JobsPage() {
  const { api, bus, reloadToken } = useApp();
  const [filter, setFilter] = useState<JobFilter>('all');
  const jobs = useLoad(
    (signal) => api.listJobs({ state: filter === 'all' ? undefined : filter, limit: LIMIT }, signal),
    [api, filter, reloadToken],
  );
  const { setData } = jobs;
  useEffect(() => bus.onJob((j) => setData((list) => (list ? applyJobEvent(list, j, filter) : list))), [bus, setData, filter]);

  return (
    <section className="panel" aria-labelledby="jobs-title">
      <h2 id="jobs-title">Jobs</h2>
      <div className="toolbar">
        <div className="segmented" role="group" aria-label="Job state filter">
          {FILTERS.map((f) => (
            <button key={f} type="button" className="btn small" aria-pressed={filter === f} onClick={() => setFilter(f)}>
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
