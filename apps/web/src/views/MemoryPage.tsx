import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { MemoryEntry } from '@alter0/api';
import { errorMessage } from '../api/client.js';
import { useApp } from '../app-context.js';
import { Empty, ErrorBox, Loading } from '../ui/feedback.js';
import { formatTime } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';

/** Global entries first, then each task's, in the order the daemon lists them. */
function group(list: MemoryEntry[]): { global: MemoryEntry[]; tasks: [string, MemoryEntry[]][] } {
  const global: MemoryEntry[] = [];
  const tasks = new Map<string, MemoryEntry[]>();
  for (const m of list) {
    if (m.task_id === null) global.push(m);
    else tasks.set(m.task_id, [...(tasks.get(m.task_id) ?? []), m]);
  }
  return { global, tasks: [...tasks] };
}

export function MemoryPage() {
  const { api } = useApp();
  // No live events for memory: the list is loaded again after every change made here.
  const memory = useLoad(useCallback((signal: AbortSignal) => api.listMemory({}, { signal }), [api]));
  const [said, setSaid] = useState('');
  const changed = (what: string): void => {
    setSaid(what);
    memory.reload();
  };
  const { global, tasks } = group(memory.data ?? []);

  return (
    <section className="panel memory-page" aria-labelledby="memory-title">
      <h2 id="memory-title">Memory</h2>
      <p className="hint">
        Short facts and preferences placed before each new agent session: global ones in every task, a task&apos;s own
        only in that task.
      </p>
      <p className="visually-hidden" role="status">
        {said}
      </p>
      <AddForm onAdded={() => changed('Memory entry added.')} />
      {memory.error && <ErrorBox message={memory.error} onRetry={memory.reload} />}
      {!memory.data && memory.loading && <Loading what="memory" />}
      {memory.data && (
        <>
          <section className="memory-section" aria-labelledby="memory-global">
            <h3 id="memory-global">Global ({global.length})</h3>
            {global.length === 0 ? <Empty>No global entry.</Empty> : <EntryList list={global} onChanged={changed} />}
          </section>
          {tasks.map(([taskId, list]) => (
            <section
              key={taskId}
              className="memory-section"
              aria-labelledby={`memory-task-${taskId}`}
              data-task-id={taskId}
            >
              <h3 id={`memory-task-${taskId}`}>
                <a href={`#/tasks/${encodeURIComponent(taskId)}`}>Task {taskId}</a> ({list.length})
              </h3>
              <EntryList list={list} onChanged={changed} />
            </section>
          ))}
        </>
      )}
    </section>
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

function EntryList({ list, onChanged }: { list: MemoryEntry[]; onChanged(what: string): void }) {
  return (
    <ul className="memory-list">
      {list.map((m) => (
        <EntryItem key={m.id} m={m} onChanged={onChanged} />
      ))}
    </ul>
  );
}

type Mode = 'view' | 'edit' | 'confirm';

function EntryItem({ m, onChanged }: { m: MemoryEntry; onChanged(what: string): void }) {
  const { api } = useApp();
  const [mode, setMode] = useState<Mode>('view');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const contentId = useId();
  const buttons = useRef<HTMLDivElement>(null);
  // Where the keyboard goes back to when the edit or the confirm step closes: the button that opened it.
  const returnTo = useRef<'Edit' | 'Remove' | null>(null);

  useEffect(() => {
    if (mode !== 'view' || !returnTo.current) return;
    const name = returnTo.current;
    returnTo.current = null;
    [...(buttons.current?.querySelectorAll('button') ?? [])].find((b) => b.textContent === name)?.focus();
  }, [mode]);

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
    <li className="memory-entry" data-memory-id={m.id} data-mode={mode}>
      {mode === 'edit' ? (
        <EditForm
          initial={m.content}
          busy={busy}
          onSave={(content) => void run(() => api.editMemory(m.id, content), 'Memory entry saved.')}
          onCancel={() => to('view', 'Edit')}
        />
      ) : (
        <>
          <EntryText m={m} id={contentId} />
          {mode === 'confirm' ? (
            <ConfirmRemove
              describedBy={contentId}
              busy={busy}
              onRemove={() => void run(() => api.removeMemory(m.id), 'Memory entry removed.')}
              onKeep={() => to('view', 'Remove')}
            />
          ) : (
            <div className="card-actions" ref={buttons}>
              <button type="button" className="btn small" aria-describedby={contentId} onClick={() => to('edit')}>
                Edit
              </button>
              <button type="button" className="btn small" aria-describedby={contentId} onClick={() => to('confirm')}>
                Remove
              </button>
            </div>
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

function EntryText({ m, id }: { m: MemoryEntry; id: string }) {
  return (
    <>
      <p className="memory-content" id={id}>
        {m.content}
      </p>
      <p className="meta memory-meta">
        <code className="id">{m.id}</code> · {m.updated_at !== m.created_at ? 'edited' : 'added'}{' '}
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
