import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { errorMessage } from '../api/client.js';
import type { Approval, CloseDecision, RouteDecision, Task, TaskDetail, TaskMessage } from '@alter0/api';
import { useApp } from '../app-context.js';
import { useTaskEvents } from '../live/use-live.js';
import { JobCard } from '../ui/JobCard.js';
import { Empty, ErrorBox, Loading, StateBadge } from '../ui/feedback.js';
import { formatConfidence, formatMs, formatTime, shortId, truncate } from '../ui/format.js';
import { Markdown } from '../ui/Markdown.js';
import { ScrollBox } from '../ui/ScrollBox.js';
import { useLoad } from '../ui/use-load.js';
import { TaskUsage } from '../ui/usage.js';

export function TaskView({ id }: { id: string }) {
  const { api } = useApp();
  const task = useLoad(useCallback((signal: AbortSignal) => api.getTask(id, { signal }), [api, id]));
  // Messages, decisions and approvals are not in the events: refetch the whole view when something about it changes.
  useTaskEvents(id, task.reload);

  if (task.error && !task.data) return <ErrorBox message={task.error} onRetry={task.reload} />;
  if (!task.data || task.data.id !== id) return <Loading what={`task ${id}`} />;
  return <TaskDetailView task={task.data} onChanged={task.reload} refreshError={task.error} />;
}

function TaskDetailView({
  task,
  onChanged,
  refreshError,
}: {
  task: TaskDetail;
  onChanged: () => void;
  refreshError: string | null;
}) {
  const sectionRef = useRef<HTMLElement>(null);

  // In the one-column layout the view sits below the list: bring it into sight when a task is picked.
  useEffect(() => {
    if (window.matchMedia('(max-width: 1100px)').matches) sectionRef.current?.scrollIntoView({ block: 'start' });
  }, [task.id]);

  const jobs = [...task.jobs].sort((a, b) => b.created_at.localeCompare(a.created_at));
  return (
    <section
      ref={sectionRef}
      className="panel task-view"
      aria-labelledby="task-title"
      data-task-id={task.id}
      data-state={task.state}
    >
      <header className="task-head">
        <h2 id="task-title">{task.title || task.id}</h2>
        <StateBadge state={task.state} />
      </header>
      {refreshError && <ErrorBox message={refreshError} onRetry={onChanged} />}
      {task.summary && <p className="task-summary">{task.summary}</p>}
      <TaskFacts task={task} />
      <TaskUsage usage={task.usage} />
      <TaskActions task={task} onChanged={onChanged} />

      <h3>Conversation</h3>
      <Conversation messages={task.messages} />

      <h3>Jobs</h3>
      {jobs.length === 0 ? (
        <Empty>No jobs.</Empty>
      ) : (
        <div className="cards">
          {jobs.map((j) => (
            <JobCard key={j.id} job={j} inTaskView />
          ))}
        </div>
      )}

      {task.approvals.length > 0 && <TaskApprovals approvals={task.approvals} />}

      <h3>Route decisions</h3>
      <RouteDecisions decisions={task.decisions.route} />

      <h3>Close decisions</h3>
      <CloseDecisions decisions={task.decisions.close} />
    </section>
  );
}

function TaskFacts({ task }: { task: Task }) {
  return (
    <dl className="facts">
      <div>
        <dt>id</dt>
        <dd>
          <code>{task.id}</code>
        </dd>
      </div>
      <div>
        <dt>executor</dt>
        <dd>{task.executor}</dd>
      </div>
      <div>
        <dt>session</dt>
        <dd>{task.session_id ? <code>{task.session_id}</code> : '—'}</dd>
      </div>
      {task.workspace && (
        <div>
          <dt>workspace</dt>
          <dd>
            <code>{task.workspace}</code>
          </dd>
        </div>
      )}
      <div>
        <dt>created</dt>
        <dd>{formatTime(task.created_at)}</dd>
      </div>
      <div>
        <dt>updated</dt>
        <dd>{formatTime(task.updated_at)}</dd>
      </div>
      {task.state === 'closed' && (
        <div>
          <dt>closed</dt>
          <dd>
            {formatTime(task.closed_at)} by {task.closed_by ?? '—'}
            {task.close_confidence !== null && <> · confidence {formatConfidence(task.close_confidence)}</>}
            {task.close_reason && <> · “{task.close_reason}”</>}
          </dd>
        </div>
      )}
    </dl>
  );
}

/** Reply into the task, close it with an optional reason, or reopen it. */
function TaskActions({ task, onChanged }: { task: Task; onChanged: () => void }) {
  const { api, setReplyTo } = useApp();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const reasonId = useId();

  const run = async (action: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    setActionError(null);
    try {
      await action();
      setReason('');
      onChanged();
    } catch (e) {
      setActionError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const onClose = (e: FormEvent): void => {
    e.preventDefault();
    const why = reason.trim();
    void run(() => api.closeTask(task.id, why ? { reason: why } : {}));
  };

  return (
    <div className="task-actions">
      <button type="button" className="btn" onClick={() => setReplyTo({ id: task.id, title: task.title })}>
        Reply in this task
      </button>
      {task.state === 'open' ? (
        <form className="inline-form" onSubmit={onClose}>
          <label htmlFor={reasonId}>Close reason (optional)</label>
          <input id={reasonId} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="e.g. done" />
          <button type="submit" className="btn danger" disabled={busy}>
            Close task
          </button>
        </form>
      ) : (
        <button type="button" className="btn" disabled={busy} onClick={() => void run(() => api.reopenTask(task.id))}>
          Reopen task
        </button>
      )}
      {actionError && (
        <div className="error-box" role="alert">
          {actionError}
        </div>
      )}
    </div>
  );
}

function Conversation({ messages }: { messages: TaskMessage[] }) {
  if (messages.length === 0) return <Empty>No messages in this task.</Empty>;
  return (
    <ol className="conversation">
      {messages.map((m) => (
        <li key={m.id} className={`msg msg-${m.role}`}>
          <span className="meta">
            {m.role} · {formatTime(m.created_at)}
          </span>
          {/* The agent's reply is Markdown; the owner's own messages (and system notes) stay as typed. */}
          {m.role === 'assistant' ? <Markdown text={m.content} /> : <pre>{m.content}</pre>}
        </li>
      ))}
    </ol>
  );
}

/** What a tool was asked for, at a glance: the command, else the file, else the input as one line of JSON. */
function approvalArgument(input: unknown): string {
  if (typeof input === 'string') return input;
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const fields = input as Record<string, unknown>;
    for (const key of ['command', 'file_path']) {
      const value = fields[key];
      if (typeof value === 'string' && value !== '') return value;
    }
    if (Object.keys(fields).length === 0) return '';
  }
  // It came as JSON, so it goes back to JSON (undefined: there was none).
  return JSON.stringify(input) ?? '';
}

const ARGUMENT_MAX = 120;

/** The task's approvals, newest first (as the daemon lists them): one compact row each. */
function TaskApprovals({ approvals }: { approvals: Approval[] }) {
  return (
    <section className="task-approvals" aria-labelledby="task-approvals-title">
      <h3 id="task-approvals-title">Approvals</h3>
      <ol className="task-approval-list">
        {approvals.map((a) => (
          <TaskApproval key={a.id} a={a} />
        ))}
      </ol>
    </section>
  );
}

function TaskApproval({ a }: { a: Approval }) {
  const arg = approvalArgument(a.input);
  return (
    <li className={`task-approval approval-${a.state}`} data-approval-id={a.id} data-state={a.state}>
      <div className="task-approval-head">
        <StateBadge state={a.state} />
        <strong className="approval-tool">{a.tool}</strong>
        {arg !== '' && (
          <code className="approval-arg" title={arg.length > ARGUMENT_MAX ? arg : undefined}>
            {truncate(arg, ARGUMENT_MAX)}
          </code>
        )}
      </div>
      <p className="meta task-approval-outcome">
        {a.state === 'pending' ? (
          <>
            waiting since <time dateTime={a.created_at}>{formatTime(a.created_at)}</time> ·{' '}
            <a href="#/approvals">answer it on the approvals page</a>
          </>
        ) : (
          <>
            {a.state} by <strong className="decided-by">{a.decided_by ?? '—'}</strong> after{' '}
            <span className="waited">{formatMs(a.waited_ms)}</span>
            {a.always && (
              <>
                {' '}
                · <span className="always">always</span> for this task
              </>
            )}
          </>
        )}{' '}
        · job <code title={a.job_id}>{shortId(a.job_id)}</code>
        {a.attempt > 1 && <> (attempt {a.attempt})</>}
      </p>
      {a.state !== 'pending' && a.reason && a.reason !== a.state && (
        <p className="meta task-approval-reason">
          reason: <span className="reason-text">{a.reason}</span>
        </p>
      )}
    </li>
  );
}

function RouteDecisions({ decisions }: { decisions: RouteDecision[] }) {
  if (decisions.length === 0) return <Empty>No route decisions recorded.</Empty>;
  return (
    <ScrollBox label="Route decisions">
      <table className="stack" aria-label="Route decisions">
        <thead>
          <tr>
            <th scope="col">time</th>
            <th scope="col">job</th>
            <th scope="col">decision</th>
            <th scope="col">confidence</th>
            <th scope="col">fallback</th>
            <th scope="col">latency</th>
            <th scope="col">reason</th>
          </tr>
        </thead>
        <tbody>
          {decisions.map((d) => (
            <tr key={d.id}>
              <th scope="row">{formatTime(d.created_at)}</th>
              <td data-label="job">{d.job_id ? <code title={d.job_id}>{shortId(d.job_id)}</code> : '—'}</td>
              <td data-label="decision">{d.decision}</td>
              <td data-label="confidence">{formatConfidence(d.confidence)}</td>
              <td data-label="fallback">{d.fallback ?? '—'}</td>
              <td data-label="latency">{formatMs(d.latency_ms)}</td>
              <td data-label="reason" className="wrap">
                {d.reason}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}

function CloseDecisions({ decisions }: { decisions: CloseDecision[] }) {
  if (decisions.length === 0) return <Empty>No close decisions recorded.</Empty>;
  return (
    <ScrollBox label="Close decisions">
      <table className="stack" aria-label="Close decisions">
        <thead>
          <tr>
            <th scope="col">time</th>
            <th scope="col">source</th>
            <th scope="col">action</th>
            <th scope="col">confidence</th>
            <th scope="col">fallback</th>
            <th scope="col">reason</th>
          </tr>
        </thead>
        <tbody>
          {decisions.map((d) => (
            <tr key={d.id}>
              <th scope="row">{formatTime(d.created_at)}</th>
              <td data-label="source">{d.source}</td>
              <td data-label="action">{d.action}</td>
              <td data-label="confidence">{formatConfidence(d.confidence)}</td>
              <td data-label="fallback">{d.fallback ?? '—'}</td>
              <td data-label="reason" className="wrap">
                {d.reason}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}
