import {
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  type FormEvent,
  type KeyboardEvent,
  type RefObject,
} from 'react';
import type { MemoryEntry } from '@alter0/api';
import { errorMessage } from '../api/client.js';
import { useApp } from '../app-context.js';
import { Empty, ErrorBox, Loading } from '../ui/feedback.js';
import { formatTime } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';

/** The owner's notes, global first, then each task's own, in the order the daemon lists them; summaries apart. */
function group(list: MemoryEntry[]): {
  global: MemoryEntry[];
  tasks: [string, MemoryEntry[]][];
  summaries: MemoryEntry[];
} {
  const global: MemoryEntry[] = [];
  const tasks = new Map<string, MemoryEntry[]>();
  const summaries: MemoryEntry[] = [];
  for (const m of list) {
    if (m.kind === 'task_summary') summaries.push(m);
    else if (m.task_id === null) global.push(m);
    else tasks.set(m.task_id, [...(tasks.get(m.task_id) ?? []), m]);
  }
  // The latest closes first: what was done lately is what one looks for.
  summaries.reverse();
  return { global, tasks: [...tasks], summaries };
}

/** The search box's text, settled for 250 ms and trimmed: what is sent as `?q=`. */
function useSettled(text: string): string {
  const [settled, setSettled] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setSettled(text.trim()), 250);
    return () => clearTimeout(t);
  }, [text]);
  return settled;
}

export function MemoryPage() {
  const { api } = useApp();
  const [search, setSearch] = useState('');
  const q = useSettled(search);
  // No live events for memory: the list is loaded again after every change made here. The answer carries its
  // query, so the last list shown while the next one loads is never shown under the new query's heading.
  const memory = useLoad(
    useCallback(
      async (signal: AbortSignal) => ({ q, list: await api.listMemory(q ? { q } : {}, { signal }) }),
      [api, q],
    ),
  );
  const [said, setSaid] = useState('');
  const changed = (what: string): void => {
    setSaid(what);
    memory.reload();
  };

  return (
    <section className="panel memory-page" aria-labelledby="memory-title">
      <h2 id="memory-title">Memory</h2>
      <p className="hint">
        Short facts and preferences placed before each new agent session: global ones in every task, a task&apos;s own
        only in that task. A closed task leaves a summary here (never placed in a session). Pinned entries are kept by
        retention.
      </p>
      <p className="visually-hidden" role="status">
        {said}
      </p>
      <AddForm onAdded={() => changed('Memory entry added.')} />
      <SearchBox value={search} onChange={setSearch} />
      {memory.error && <ErrorBox message={memory.error} onRetry={memory.reload} />}
      {!memory.data && memory.loading && <Loading what="memory" />}
      {memory.data &&
        (memory.data.q ? (
          <SearchResults q={memory.data.q} list={memory.data.list} busy={memory.loading} onChanged={changed} />
        ) : (
          <Grouped list={memory.data.list} onChanged={changed} />
        ))}
    </section>
  );
}

function SearchBox({ value, onChange }: { value: string; onChange(v: string): void }) {
  const id = useId();
  return (
    <div className="toolbar memory-search" role="search">
      <label className="visually-hidden" htmlFor={id}>
        Search memory
      </label>
      <input
        id={id}
        type="search"
        placeholder="Search memory (every word must match)"
        value={value}
        maxLength={500}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

function SearchResults(p: { q: string; list: MemoryEntry[]; busy: boolean; onChanged(what: string): void }) {
  return (
    <section className="memory-section" aria-labelledby="memory-results" aria-busy={p.busy}>
      <h3 id="memory-results">
        Matches for “{p.q}” ({p.list.length})
      </h3>
      {p.list.length === 0 ? (
        <Empty>No memory matches “{p.q}”.</Empty>
      ) : (
        <EntryList list={p.list} onChanged={p.onChanged} showScope />
      )}
    </section>
  );
}

function Grouped({ list, onChanged }: { list: MemoryEntry[]; onChanged(what: string): void }) {
  const { global, tasks, summaries } = group(list);
  return (
    <>
      <section className="memory-section" aria-labelledby="memory-global">
        <h3 id="memory-global">Global ({global.length})</h3>
        {global.length === 0 ? <Empty>No global entry.</Empty> : <EntryList list={global} onChanged={onChanged} />}
      </section>
      {tasks.map(([taskId, entries]) => (
        <section
          key={taskId}
          className="memory-section"
          aria-labelledby={`memory-task-${taskId}`}
          data-task-id={taskId}
        >
          <h3 id={`memory-task-${taskId}`}>
            <a href={`#/tasks/${encodeURIComponent(taskId)}`}>Task {taskId}</a> ({entries.length})
          </h3>
          <EntryList list={entries} onChanged={onChanged} />
        </section>
      ))}
      <section className="memory-section" aria-labelledby="memory-summaries">
        <h3 id="memory-summaries">Closed tasks ({summaries.length})</h3>
        {summaries.length === 0 ? (
          <Empty>No summary yet: a task leaves one here when it closes.</Empty>
        ) : (
          <EntryList list={summaries} onChanged={onChanged} showScope />
        )}
      </section>
    </>
  );
}

function AddForm({ onAdded }: { onAdded(): void }) {
  const { api } = useApp();
  const [content, setContent] = useState('');
  const [taskId, setTaskId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const contentId = useId();
  const taskFieldId = useId();

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Sent as typed: the daemon trims it and says what is wrong (empty, too long, unknown task).
      const t = taskId.trim();
      await api.addMemory(t ? { content, task_id: t } : { content });
      setContent('');
      onAdded();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="memory-add" onSubmit={(e) => void submit(e)} aria-label="Add a memory entry">
      <label htmlFor={contentId}>New entry</label>
      <textarea id={contentId} value={content} maxLength={4000} rows={3} onChange={(e) => setContent(e.target.value)} />
      <div className="memory-add-row">
        <div className="memory-add-task">
          <label htmlFor={taskFieldId}>Task id (optional; empty: global)</label>
          <input
            id={taskFieldId}
            value={taskId}
            autoComplete="off"
            spellCheck={false}
            placeholder="t_…"
            onChange={(e) => setTaskId(e.target.value)}
          />
        </div>
        <button type="submit" className="btn primary" disabled={busy}>
          Add
        </button>
      </div>
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function EntryList({
  list,
  onChanged,
  showScope = false,
}: {
  list: MemoryEntry[];
  onChanged(what: string): void;
  /** Name each entry's task (or "global"): where the list is not grouped by it. */
  showScope?: boolean;
}) {
  return (
    <ul className="memory-list">
      {list.map((m) => (
        <EntryItem key={m.id} m={m} onChanged={onChanged} showScope={showScope} />
      ))}
    </ul>
  );
}

type Mode = 'view' | 'edit' | 'confirm';

/** An entry's mode; back in view, the keyboard returns to the button that opened the edit or the confirm step. */
function useModeFocus() {
  const [mode, setMode] = useState<Mode>('view');
  const buttons = useRef<HTMLDivElement>(null);
  const returnTo = useRef<'Edit' | 'Remove' | null>(null);
  useEffect(() => {
    if (mode !== 'view' || !returnTo.current) return;
    const name = returnTo.current;
    returnTo.current = null;
    [...(buttons.current?.querySelectorAll('button') ?? [])].find((b) => b.textContent === name)?.focus();
  }, [mode]);
  return { mode, setMode, buttons, returnTo };
}

function EntryItem({ m, onChanged, showScope }: { m: MemoryEntry; onChanged(what: string): void; showScope: boolean }) {
  const { api } = useApp();
  const { mode, setMode, buttons, returnTo } = useModeFocus();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const contentId = useId();

  const to = (next: Mode, from: 'Edit' | 'Remove' | null = null): void => {
    returnTo.current = from;
    setError(null);
    setMode(next);
  };

  const run = async (call: () => Promise<unknown>, what: string): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await call();
      returnTo.current = mode === 'edit' ? 'Edit' : null;
      setMode('view');
      onChanged(what);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="memory-entry" data-memory-id={m.id} data-kind={m.kind} data-pinned={m.pinned} data-mode={mode}>
      {mode === 'edit' ? (
        <EditForm
          initial={m.content}
          busy={busy}
          onSave={(content) => void run(() => api.editMemory(m.id, content), 'Memory entry saved.')}
          onCancel={() => to('view', 'Edit')}
        />
      ) : (
        <>
          <EntryText m={m} id={contentId} showScope={showScope} />
          {mode === 'confirm' ? (
            <ConfirmRemove
              describedBy={contentId}
              busy={busy}
              onRemove={() => void run(() => api.removeMemory(m.id), 'Memory entry removed.')}
              onKeep={() => to('view', 'Remove')}
            />
          ) : (
            <EntryActions
              ref={buttons}
              describedBy={contentId}
              pinned={m.pinned}
              onEdit={() => to('edit')}
              // Not disabled while busy: a disabled button would drop the keyboard's focus.
              onPin={() =>
                void (busy
                  ? undefined
                  : run(
                      () => api.pinMemory(m.id, !m.pinned),
                      m.pinned ? 'Unpinned: retention may remove it.' : 'Pinned: retention keeps it.',
                    ))
              }
              onRemove={() => to('confirm')}
            />
          )}
        </>
      )}
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

function EntryActions(p: {
  ref: RefObject<HTMLDivElement | null>;
  describedBy: string;
  pinned: boolean;
  onEdit(): void;
  onPin(): void;
  onRemove(): void;
}) {
  return (
    <div className="card-actions" ref={p.ref}>
      <button type="button" className="btn small" aria-describedby={p.describedBy} onClick={p.onEdit}>
        Edit
      </button>
      <button type="button" className="btn small" aria-describedby={p.describedBy} onClick={p.onPin}>
        {p.pinned ? 'Unpin' : 'Pin'}
      </button>
      <button type="button" className="btn small" aria-describedby={p.describedBy} onClick={p.onRemove}>
        Remove
      </button>
    </div>
  );
}

function EntryText({ m, id, showScope }: { m: MemoryEntry; id: string; showScope: boolean }) {
  const summary = m.kind === 'task_summary';
  return (
    <>
      <p className="memory-content" id={id}>
        {m.content}
      </p>
      <p className="meta memory-meta">
        {summary && <span className="badge state-closed">task summary</span>}
        {summary && ' '}
        {m.pinned && <span className="badge state-running">pinned</span>}
        {m.pinned && ' '}
        <code className="id">{m.id}</code>
        {showScope && (
          <>
            {' · '}
            {m.task_id === null ? 'global' : <a href={`#/tasks/${encodeURIComponent(m.task_id)}`}>task {m.task_id}</a>}
          </>
        )}
        {' · '}
        {summary ? 'closed' : m.updated_at !== m.created_at ? 'edited' : 'added'}{' '}
        <time dateTime={m.updated_at}>{formatTime(m.updated_at)}</time>
      </p>
    </>
  );
}

/** The entry in a textarea, which takes the focus; Escape cancels. */
function EditForm({
  initial,
  busy,
  onSave,
  onCancel,
}: {
  initial: string;
  busy: boolean;
  onSave(content: string): void;
  onCancel(): void;
}) {
  const [draft, setDraft] = useState(initial);
  const id = useId();
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const save = (e: FormEvent): void => {
    e.preventDefault();
    onSave(draft);
  };
  const escape = (e: KeyboardEvent): void => {
    if (e.key === 'Escape') onCancel();
  };
  return (
    <form className="memory-edit" onSubmit={save} onKeyDown={escape}>
      <label htmlFor={id}>Edit entry</label>
      <textarea ref={ref} id={id} value={draft} maxLength={4000} rows={3} onChange={(e) => setDraft(e.target.value)} />
      <div className="card-actions">
        <button type="submit" className="btn primary" disabled={busy}>
          Save
        </button>
        <button type="button" className="btn" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The confirm step of Remove; its button takes the focus. */
function ConfirmRemove({
  describedBy,
  busy,
  onRemove,
  onKeep,
}: {
  describedBy: string;
  busy: boolean;
  onRemove(): void;
  onKeep(): void;
}) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="card-actions memory-confirm" role="group" aria-label="Remove this entry?">
      <span>Remove this entry?</span>
      <button
        ref={ref}
        type="button"
        className="btn danger"
        disabled={busy}
        aria-describedby={describedBy}
        onClick={onRemove}
      >
        Yes, remove
      </button>
      <button type="button" className="btn" disabled={busy} onClick={onKeep}>
        Keep
      </button>
    </div>
  );
}
