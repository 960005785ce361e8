import { useEffect, useId, useState } from 'react';
import type { Task, TaskFilter } from '../api/types.js';
import { useApp } from '../app-context.js';
import { Empty, ErrorBox, Loading, StateBadge } from '../ui/feedback.js';
import { formatTime, truncate } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';

const FILTERS: TaskFilter[] = ['open', 'closed', 'all'];

function matches(task: Task, filter: TaskFilter, q: string): boolean {
  if (filter !== 'all' && task.state !== filter) return false;
  if (!q) return true;
  const needle = q.toLowerCase();
  return [task.id, task.title, task.summary ?? ''].some((s) => s.toLowerCase().includes(needle));
}

/** Applies a live task event to the list: update in place, add when it now matches, drop when it no longer does. */
export function applyTaskEvent(list: Task[], task: Task, filter: TaskFilter, q: string): Task[] {
  const rest = list.filter((t) => t.id !== task.id);
  const known = rest.length !== list.length;
  if (!matches(task, filter, q)) return known ? rest : list;
  return [task, ...rest].sort((a, b) => b.updated_at.localeCompare(a.updated_at));
}

export function TaskList({ selectedId }: { selectedId: string | null }) {
  const { api, bus, reloadToken } = useApp();
  const [filter, setFilter] = useState<TaskFilter>('open');
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  const searchId = useId();

  // Debounce typing so each keystroke does not cost a request.
  useEffect(() => {
    const t = setTimeout(() => setQ(search.trim()), 250);
    return () => clearTimeout(t);
  }, [search]);

  const tasks = useLoad((signal) => api.listTasks({ state: filter, q, limit: 200 }, signal), [api, filter, q, reloadToken]);
  const { setData } = tasks;
  useEffect(() => bus.onTask((t) => setData((list) => (list ? applyTaskEvent(list, t, filter, q) : list))), [bus, setData, filter, q]);

  return (
    <section className="panel task-list" aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      <div className="toolbar">
        <div className="segmented" role="group" aria-label="Task state filter">
          {FILTERS.map((f) => (
            <button key={f} type="button" className="btn small" aria-pressed={filter === f} onClick={() => setFilter(f)}>
              {f}
            </button>
          ))}
        </div>
        <label className="visually-hidden" htmlFor={searchId}>
          Search tasks
        </label>
        <input id={searchId} type="search" placeholder="Search tasks" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      {tasks.error && <ErrorBox message={tasks.error} onRetry={tasks.reload} />}
      {!tasks.data && tasks.loading && <Loading what="tasks" />}
      {tasks.data && tasks.data.length === 0 && (
        <Empty>{q ? `No ${filter === 'all' ? '' : filter + ' '}tasks match “${q}”.` : `No ${filter === 'all' ? '' : filter + ' '}tasks yet. Send a message to start one.`}</Empty>
      )}
      {tasks.data && tasks.data.length > 0 && (
        <ul className="list" aria-busy={tasks.loading}>
          {tasks.data.map((t) => (
            <li key={t.id} data-task-id={t.id}>
              <a href={`#/tasks/${encodeURIComponent(t.id)}`} aria-current={t.id === selectedId ? 'page' : undefined}>
                <span className="row">
                  <StateBadge state={t.state} />
                  <span className="title">{t.title || t.id}</span>
                </span>
                {t.summary && <span className="summary">{truncate(t.summary, 140)}</span>}
                <span className="meta">
                  <code>{t.id}</code> · updated {formatTime(t.updated_at)}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
