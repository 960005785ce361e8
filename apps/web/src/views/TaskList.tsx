import { useCallback, useEffect, useId, useState } from 'react';
import type { Task, TaskFilter } from '@alter0/api';
import { useApp } from '../app-context.js';
import { Empty, ErrorBox, Loading, StateBadge } from '../ui/feedback.js';
import { formatTime, truncate } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';
import { applyTaskEvent } from '../live/apply.js';
import { mergeList } from '../live/freshest.js';

const FILTERS: TaskFilter[] = ['open', 'closed', 'all'];

export function TaskList({ selectedId }: { selectedId: string | null }) {
  const [filter, setFilter] = useState<TaskFilter>('open');
  const [search, setSearch] = useState('');
  const q = useDebouncedQuery(search);
  const tasks = useTasks(filter, q);

  return (
    <section className="panel task-list" aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      <TaskToolbar filter={filter} onFilter={setFilter} search={search} onSearch={setSearch} />
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
        <TaskRows tasks={tasks.data} loading={tasks.loading} selectedId={selectedId} />
      )}
    </section>
  );
}

/** Debounce typing so each keystroke does not cost a request. */
function useDebouncedQuery(search: string): string {
  const [q, setQ] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setQ(search.trim()), 250);
    return () => clearTimeout(t);
  }, [search]);
  return q;
}

/** The filtered list, kept current by live task events. */
function useTasks(filter: TaskFilter, q: string) {
  const { api, bus } = useApp();
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
  return tasks;
}

function TaskToolbar(props: {
  filter: TaskFilter;
  onFilter: (f: TaskFilter) => void;
  search: string;
  onSearch: (s: string) => void;
}) {
  const searchId = useId();
  return (
    <div className="toolbar">
      <div className="segmented" role="group" aria-label="Task state filter">
        {FILTERS.map((f) => (
          <button
            key={f}
            type="button"
            className="btn small"
            aria-pressed={props.filter === f}
            onClick={() => props.onFilter(f)}
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
        value={props.search}
        onChange={(e) => props.onSearch(e.target.value)}
      />
    </div>
  );
}

function TaskRows({ tasks, loading, selectedId }: { tasks: Task[]; loading: boolean; selectedId: string | null }) {
  return (
    <ul className="list" aria-busy={loading}>
      {tasks.map((t) => (
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
  );
}
