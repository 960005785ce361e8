import { useState } from 'react';
import { errorMessage } from '../api/client.js';
import type { Job, JobError } from '@alter0/api';
import { useApp } from '../app-context.js';
import { StateBadge } from './feedback.js';
import { formatConfidence, formatMs, formatTime, truncate } from './format.js';
import { Markdown } from './Markdown.js';
import { JobUsageLine } from './usage.js';

const TIMINGS: ReadonlyArray<[keyof Job['timings'], string]> = [
  ['queue_wait_ms', 'queue wait'],
  ['route_ms', 'route'],
  ['execute_ms', 'execute'],
  ['close_ms', 'close'],
  ['total_ms', 'total'],
];

export function Timings({ timings }: { timings: Job['timings'] }) {
  return (
    <dl className="timings">
      {TIMINGS.map(([key, label]) => (
        <div key={key}>
          <dt>{label}</dt>
          <dd>{formatMs(timings[key])}</dd>
        </div>
      ))}
    </dl>
  );
}

export interface JobCardProps {
  job: Job;
  /** Inside a task view: the task link and the message text (already in the conversation) are left out. */
  inTaskView?: boolean;
  onRetried?: (newJobId: string) => void;
}

export function JobCard({ job, inTaskView, onRetried }: JobCardProps) {
  return (
    <article
      className={`card job job-${job.state}`}
      data-job-id={job.id}
      data-state={job.state}
      aria-label={`Job ${job.id}`}
    >
      <JobHead job={job} inTaskView={inTaskView} />
      {!inTaskView && job.content && <p className="job-content">{truncate(job.content, 400)}</p>}
      {job.reply !== null && job.reply !== '' && <Markdown className="reply" text={job.reply} />}
      {job.error && <JobErrorView error={job.error} />}
      {job.retry_of && (
        <p className="meta">
          retry of <code>{job.retry_of}</code>
        </p>
      )}
      {job.next_run_at && job.state === 'queued' && <p className="meta">next run {formatTime(job.next_run_at)}</p>}
      {job.route && (
        <p className="meta route">
          route: <strong>{job.route.decision}</strong> · confidence {formatConfidence(job.route.confidence)}
          {job.route.fallback && <> · fallback {job.route.fallback}</>}
          {job.route.reason && <> · {truncate(job.route.reason, 160)}</>}
        </p>
      )}
      <Timings timings={job.timings} />
      <JobUsageLine usage={job.usage} />
      <JobActions job={job} onRetried={onRetried} />
    </article>
  );
}

function JobHead({ job, inTaskView }: { job: Job; inTaskView?: boolean }) {
  return (
    <header className="card-head">
      <StateBadge state={job.state} />
      <code className="id">{job.id}</code>
      <span className="meta">
        {job.lane} · attempt {job.attempt}/{job.max_attempts}
      </span>
      {job.task_id && !inTaskView && (
        <a className="meta" href={`#/tasks/${encodeURIComponent(job.task_id)}`}>
          task {job.task_id}
        </a>
      )}
      <span className="meta" title={job.created_at}>
        {formatTime(job.created_at)}
      </span>
    </header>
  );
}

function JobErrorView({ error }: { error: JobError }) {
  return (
    <div className="job-error">
      <strong>{error.class}</strong>: {error.message}
      {error.stderr_tail && (
        <details>
          <summary>stderr</summary>
          <pre>{error.stderr_tail}</pre>
        </details>
      )}
    </div>
  );
}

/** Cancel a queued or running job, retry a failed or canceled one; nothing when neither applies. */
function JobActions({ job, onRetried }: { job: Job; onRetried?: (newJobId: string) => void }) {
  const { api } = useApp();
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [retriedAs, setRetriedAs] = useState<string | null>(null);

  const act = async (what: 'cancel' | 'retry'): Promise<void> => {
    setBusy(true);
    setActionError(null);
    try {
      if (what === 'cancel') {
        await api.cancelJob(job.id);
      } else {
        const r = await api.retryJob(job.id);
        setRetriedAs(r.job_id);
        onRetried?.(r.job_id);
      }
    } catch (e) {
      setActionError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const canCancel = job.state === 'queued' || job.state === 'running';
  const canRetry = job.state === 'failed' || job.state === 'canceled';
  if (!(canCancel || canRetry || actionError || retriedAs)) return null;
  return (
    <footer className="card-actions">
      {canCancel && (
        <button type="button" className="btn danger small" disabled={busy} onClick={() => void act('cancel')}>
          Cancel
        </button>
      )}
      {canRetry && (
        <button type="button" className="btn small" disabled={busy} onClick={() => void act('retry')}>
          Retry
        </button>
      )}
      {retriedAs && (
        <span className="meta" role="status">
          retry queued as <code>{retriedAs}</code>
        </span>
      )}
      {actionError && (
        <span className="inline-error" role="alert">
          {actionError}
        </span>
      )}
    </footer>
  );
}
