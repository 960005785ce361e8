import { useCallback, useEffect, useId, useState } from 'react';
import type { TaskFilter } from '@alter0/api';
import { useApp } from '../app-context.js';
import { Empty, ErrorBox, Loading, StateBadge } from '../ui/feedback.js';
import { formatTime, truncate } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';
import { applyTaskEvent } from '../live/apply.js';
import { mergeList } from '../live/freshest.js';

const FILTERS: TaskFilter[] = ['open', 'closed', 'all'];

export function TaskList({ selectedId }: { selectedId: string | null }) {
  const { api, bus } = useApp();
  const [filter, setFilter] = useState<TaskFilter>('open');
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  const searchId = useId();

  // Debounce typing so each keystroke does not cost a request.
  useEffect(() => {
    const t = setTimeout(() => setQ(search.trim()), 250);
    return () => clearTimeout(t);
  }, [search]);

  const load = useCallback(
    (signal: AbortSignal) => api.listTasks({ state: filter, q, limit: 200 }, { signal }),
    [api, filter, q],
  );
  const tasks = useLoad(load, mergeList);
  const { setData } = tasks;
  useEffect(
    () => bus.onTask((t) => setData((list) => (list ? applyTaskEvent(list, t, filter, q) : list))),
    [bus, setData, filter, q],
  );

  return (
    <section className="panel task-list" aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      <div className="toolbar">
        <div className="segmented" role="group" aria-label="Task state filter">
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
        <label className="visually-hidden" htmlFor={searchId}>
          Search tasks
        </label>
        <input
          id={searchId}
          type="search"
          placeholder="Search tasks"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      {tasks.error && <ErrorBox message={tasks.error} onRetry={tasks.reload} />}
      {!tasks.data && tasks.loading && <Loading what="tasks" />}
      {tasks.data && tasks.data.length === 0 && (
        <Empty>
          {q
            ? `No ${filter === 'all' ? '' : filter + ' '}tasks match “${q}”.`
            : `No ${filter === 'all' ? '' : filter + ' '}tasks yet. Send a message to start one.`}
        </Empty>
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
