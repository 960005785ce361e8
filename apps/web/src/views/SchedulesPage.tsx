import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { Schedule, ScheduleRequest, ScheduleRun } from '@alter0/api';
import { errorMessage } from '../api/client.js';
import { useApp } from '../app-context.js';
import { pausedAfterFailures, useLiveSchedules } from '../live/schedules.js';
import { Empty, ErrorBox, Loading, StateBadge } from '../ui/feedback.js';
import { formatExact, formatRelative, formatTime, truncate } from '../ui/format.js';
import { jobHref } from '../ui/use-hash-route.js';
import { useLoad } from '../ui/use-load.js';

/** The list is loaded again this often while the page is open (besides after each firing), so "next run" stays true. */
const POLL_MS = 15_000;
/** How often the words of relative times ("in 4 min") are worked out again. */
const TICK_MS = 5_000;

type WhenKind = 'every' | 'cron' | 'at';
type Lane = NonNullable<ScheduleRequest['lane']>;

const RUN_KINDS: Record<ScheduleRun['kind'], string> = {
  slot: 'on schedule',
  catch_up: 'catch-up after downtime',
  now: 'run now',
};

/** The browser's own zone: the default for a cron pattern and a one-shot time. */
function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return 'UTC';
  }
}

/** The zones the browser knows, offered while typing one (the daemon checks what is sent). */
function knownZones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
}

/** The current time, moving on every `ms`: relative times are rendered against it. */
function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function SchedulesPage() {
  const { bus } = useApp();
  const schedules = useLiveSchedules(POLL_MS);
  const { setData } = schedules;
  const now = useNow(TICK_MS);
  const [said, setSaid] = useState('');
  const listHeading = useRef<HTMLHeadingElement>(null);

  /** A schedule as the daemon answered an action: shown at once; the other views (the nav's count) load again. */
  const changed = useCallback(
    (s: Schedule, what: string): void => {
      setData((list) => list?.map((x) => (x.id === s.id ? s : x)) ?? list);
      setSaid(what);
      bus.emitSchedulesChanged();
    },
    [bus, setData],
  );
  const added = (s: Schedule): void => {
    setData((list) => (list ? [...list.filter((x) => x.id !== s.id), s] : list));
    setSaid(`Schedule added: ${s.description}.`);
    bus.emitSchedulesChanged();
  };
  const removed = (s: Schedule): void => {
    setData((list) => list?.filter((x) => x.id !== s.id) ?? list);
    setSaid(`Schedule removed: ${s.description}.`);
    bus.emitSchedulesChanged();
    // Its buttons are gone: the keyboard goes back to the top of the list.
    listHeading.current?.focus();
  };

  const list = schedules.data;
  return (
    <section className="panel schedules-page" aria-labelledby="schedules-title">
      <h2 id="schedules-title">Schedules</h2>
      <p className="hint">
        Work that starts by itself: each firing sends the message as if you had written it (channel{' '}
        <code>schedule</code>), to the task given or routed like any message, and its end is announced like any job.
      </p>
      <p className="visually-hidden" role="status">
        {said}
      </p>
      <AddScheduleForm onAdded={added} />
      <section className="schedules-section" aria-labelledby="schedules-list-title" aria-busy={schedules.loading}>
        <h3 id="schedules-list-title" ref={listHeading} tabIndex={-1}>
          Your schedules{list ? ` (${list.length})` : ''}
        </h3>
        {list && list.length > 0 && <Summary list={list} now={now} />}
        {schedules.error && <ErrorBox message={schedules.error} onRetry={schedules.reload} />}
        {!list && schedules.loading && <Loading what="schedules" />}
        {list && list.length === 0 && <Empty>No schedule yet: add one above.</Empty>}
        {list && list.length > 0 && (
          <ul className="schedule-list">
            {list.map((s) => (
              <ScheduleItem key={s.id} s={s} now={now} onChanged={changed} onRemoved={removed} />
            ))}
          </ul>
        )}
      </section>
    </section>
  );
}

/** One line over the list: how many, in which state, and which fires next. */
function Summary({ list, now }: { list: Schedule[]; now: number }) {
  const active = list.filter((s) => s.state === 'active');
  const paused = list.filter((s) => s.state === 'paused');
  const failing = list.filter(pausedAfterFailures).length;
  const next = active
    .filter((s) => s.next_run_at !== null)
    .sort((a, b) => (a.next_run_at ?? '').localeCompare(b.next_run_at ?? ''))[0];
  return (
    <p className="meta schedules-summary">
      {active.length} active · {paused.length} paused
      {failing > 0 && (
        <>
          {' '}
          (<strong className="schedules-failing">{failing} after failures</strong>)
        </>
      )}
      {next?.next_run_at && (
        <>
          {' '}
          · next: {next.description} <When iso={next.next_run_at} now={now} next />
        </>
      )}
    </p>
  );
}

/**
 * A time in words ("in 4 min"), the exact time in its title. `now` moves in steps: a next run already due says so,
 * and a time that has passed (a firing) but is later than `now` is "just now".
 */
function When({ iso, now, next = false }: { iso: string; now: number; next?: boolean }) {
  const t = Date.parse(iso);
  const words = next && t <= now ? 'due now' : !next && t > now ? 'just now' : formatRelative(iso, now);
  return (
    <time dateTime={iso} title={formatExact(iso)}>
      {words}
    </time>
  );
}

/** What the add form holds, as typed. */
interface Draft {
  text: string;
  kind: WhenKind;
  every: string;
  cron: string;
  at: string;
  tz: string;
  taskId: string;
  lane: Lane;
}

type SetDraft = (patch: Partial<Draft>) => void;

/** Sent as typed: the daemon trims it and says what to write when something is wrong. */
function requestOf(d: Draft): ScheduleRequest {
  const zone = d.tz.trim() ? { tz: d.tz.trim() } : {};
  const when =
    d.kind === 'every' ? { every: d.every } : d.kind === 'cron' ? { cron: d.cron, ...zone } : { at: d.at, ...zone };
  const task = d.taskId.trim();
  return { text: d.text, ...when, lane: d.lane, ...(task ? { task_id: task } : {}) };
}

function AddScheduleForm({ onAdded }: { onAdded(s: Schedule): void }) {
  const { api } = useApp();
  const [draft, setDraft] = useState<Draft>(() => ({
    text: '',
    kind: 'every',
    every: '',
    cron: '',
    at: '',
    tz: browserZone(),
    taskId: '',
    lane: 'background',
  }));
  const set: SetDraft = useCallback((patch) => setDraft((d) => ({ ...d, ...patch })), []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const textId = useId();
  const errorId = useId();

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    // Not disabled while busy: a disabled button would drop the keyboard's focus.
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const s = await api.addSchedule(requestOf(draft));
      // The zone, the task and the lane stay for the next one.
      set({ text: '', every: '', cron: '', at: '' });
      onAdded(s);
    } catch (err) {
      // Everything typed stays, to be corrected.
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="schedule-add"
      onSubmit={(e) => void submit(e)}
      aria-label="Add a schedule"
      aria-describedby={error ? errorId : undefined}
    >
      <h3>Add a schedule</h3>
      <label htmlFor={textId}>Message to send</label>
      <textarea
        id={textId}
        value={draft.text}
        rows={3}
        maxLength={100_000}
        placeholder="What alter0 is asked each time, e.g. “Summarise the open pull requests”"
        onChange={(e) => set({ text: e.target.value })}
      />
      <WhenFields draft={draft} set={set} />
      <TargetFields draft={draft} set={set} />
      <div className="card-actions">
        <button type="submit" className="btn primary" aria-disabled={busy}>
          Add schedule
        </button>
      </div>
      {error && (
        <p className="inline-error" role="alert" id={errorId}>
          {error}
        </p>
      )}
    </form>
  );
}

const KINDS: readonly (readonly [WhenKind, string])[] = [
  ['every', 'Every'],
  ['cron', 'Cron'],
  ['at', 'Once at'],
];

/** When it fires: a period, a cron pattern in a zone, or one time in a zone. */
function WhenFields({ draft, set }: { draft: Draft; set: SetDraft }) {
  return (
    <fieldset className="schedule-when">
      <legend>When</legend>
      <div className="schedule-kinds">
        {KINDS.map(([k, label]) => (
          <label key={k} className="check schedule-kind">
            <input
              type="radio"
              name="schedule-kind"
              value={k}
              checked={draft.kind === k}
              onChange={() => set({ kind: k })}
            />
            {label}
          </label>
        ))}
      </div>
      <div className="schedule-fields">
        {draft.kind === 'every' && (
          <TextField
            label="Period"
            value={draft.every}
            placeholder="30m"
            hint="A number and a unit (s, m, h, d, w), 10s or more: 30m, 24h."
            onChange={(every) => set({ every })}
          />
        )}
        {draft.kind === 'cron' && (
          <TextField
            label="Cron pattern"
            value={draft.cron}
            placeholder="0 9 * * 1-5"
            hint="minute hour day month weekday; 0 9 * * 1-5 is 9:00 on weekdays."
            onChange={(cron) => set({ cron })}
          />
        )}
        {draft.kind === 'at' && <AtField value={draft.at} onChange={(at) => set({ at })} />}
        {draft.kind !== 'every' && <ZoneField value={draft.tz} onChange={(tz) => set({ tz })} />}
      </div>
    </fieldset>
  );
}

function TextField(p: { label: string; value: string; placeholder: string; hint: string; onChange(v: string): void }) {
  const id = useId();
  return (
    <div className="schedule-field">
      <label htmlFor={id}>{p.label}</label>
      <input
        id={id}
        value={p.value}
        autoComplete="off"
        spellCheck={false}
        placeholder={p.placeholder}
        aria-describedby={`${id}-hint`}
        onChange={(e) => p.onChange(e.target.value)}
      />
      <p className="hint" id={`${id}-hint`}>
        {p.hint}
      </p>
    </div>
  );
}

function AtField({ value, onChange }: { value: string; onChange(v: string): void }) {
  const id = useId();
  return (
    <div className="schedule-field">
      <label htmlFor={id}>Time</label>
      <input id={id} type="datetime-local" value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}

/** The zone of a cron pattern or of a one-shot time: the browser's by default; the browser's zones offered. */
function ZoneField({ value, onChange }: { value: string; onChange(v: string): void }) {
  const id = useId();
  const listId = useId();
  const [zones] = useState(knownZones);
  return (
    <div className="schedule-field">
      <label htmlFor={id}>Time zone</label>
      <input
        id={id}
        value={value}
        list={zones.length > 0 ? listId : undefined}
        autoComplete="off"
        spellCheck={false}
        placeholder="Europe/Berlin"
        onChange={(e) => onChange(e.target.value)}
      />
      {zones.length > 0 && (
        <datalist id={listId}>
          {zones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      )}
    </div>
  );
}

/** Where each firing's message goes, and in which lane. */
function TargetFields({ draft, set }: { draft: Draft; set: SetDraft }) {
  const taskId = useId();
  const laneId = useId();
  return (
    <div className="schedule-fields">
      <div className="schedule-field">
        <label htmlFor={taskId}>Task id (optional; empty: routed like any message)</label>
        <input
          id={taskId}
          value={draft.taskId}
          autoComplete="off"
          spellCheck={false}
          placeholder="t_…"
          onChange={(e) => set({ taskId: e.target.value })}
        />
      </div>
      <div className="schedule-field schedule-lane">
        <label htmlFor={laneId}>Lane</label>
        <select id={laneId} value={draft.lane} onChange={(e) => set({ lane: e.target.value as Lane })}>
          <option value="background">background (default)</option>
          <option value="interactive">interactive</option>
        </select>
      </div>
    </div>
  );
}

type Action = 'pause' | 'resume' | 'run' | 'remove';

interface ItemProps {
  s: Schedule;
  now: number;
  onChanged(s: Schedule, what: string): void;
  onRemoved(s: Schedule): void;
}

/** Pause, resume, run now, remove: one at a time, the daemon's refusal kept to show, the job Run now started. */
function useScheduleActions({ s, onChanged, onRemoved }: ItemProps) {
  const { api } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [started, setStarted] = useState<string | null>(null);
  const act = async (what: Action): Promise<void> => {
    // Not disabled while busy: a disabled button would drop the keyboard's focus.
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      if (what === 'pause') onChanged(await api.pauseSchedule(s.id), `Paused: ${s.description}.`);
      else if (what === 'resume') onChanged(await api.resumeSchedule(s.id), `Resumed: ${s.description}.`);
      else if (what === 'run') {
        const r = await api.runSchedule(s.id);
        setStarted(r.job_id);
        onChanged(r.schedule, `Started job ${r.job_id}.`);
      } else {
        await api.removeSchedule(s.id);
        onRemoved(s);
      }
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, started, act: (what: Action) => void act(what) };
}

function ScheduleItem(props: ItemProps) {
  const { s, now } = props;
  const { busy, error, setError, started, act } = useScheduleActions(props);
  const [confirm, setConfirm] = useState(false);
  const [open, setOpen] = useState(false);
  const removeButton = useRef<HTMLButtonElement>(null);
  const backToRemove = useRef(false);
  const nameId = useId();
  const runsId = useId();

  // Back from the confirm step, the keyboard returns to Remove.
  useEffect(() => {
    if (confirm || !backToRemove.current) return;
    backToRemove.current = false;
    removeButton.current?.focus();
  }, [confirm]);
  const keep = (): void => {
    backToRemove.current = true;
    setConfirm(false);
  };

  return (
    <li
      className={`schedule schedule-${s.state}`}
      data-schedule-id={s.id}
      data-state={s.state}
      aria-labelledby={nameId}
    >
      <ItemHead s={s} nameId={nameId} />
      <Facts s={s} now={now} />
      {started && <Started jobId={started} />}
      {confirm ? (
        <ConfirmRemove describedBy={nameId} busy={busy} onRemove={() => act('remove')} onKeep={keep} />
      ) : (
        <div className="card-actions schedule-actions">
          {s.state !== 'done' && (
            <ItemButton describedBy={nameId} busy={busy} onClick={() => act(s.state === 'paused' ? 'resume' : 'pause')}>
              {s.state === 'paused' ? 'Resume' : 'Pause'}
            </ItemButton>
          )}
          <ItemButton describedBy={nameId} busy={busy} onClick={() => act('run')}>
            Run now
          </ItemButton>
          <button
            type="button"
            className="btn small"
            aria-expanded={open}
            aria-controls={runsId}
            aria-describedby={nameId}
            onClick={() => setOpen((o) => !o)}
          >
            {open ? 'Hide runs' : 'Show runs'}
          </button>
          <button
            ref={removeButton}
            type="button"
            className="btn small danger"
            aria-describedby={nameId}
            onClick={() => {
              setError(null);
              setConfirm(true);
            }}
          >
            Remove
          </button>
        </div>
      )}
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
      <div id={runsId} className="schedule-runs-box" hidden={!open}>
        {open && <Runs s={s} now={now} />}
      </div>
    </li>
  );
}

/** What it is: its state, its timing in words, its id, its message; why it is paused. */
function ItemHead({ s, nameId }: { s: Schedule; nameId: string }) {
  return (
    <>
      <header className="card-head">
        <StateBadge state={s.state} />
        <h4 className="schedule-description" id={nameId}>
          {s.description}
        </h4>
        <code className="id" title={s.id}>
          {s.id}
        </code>
      </header>
      <p className="schedule-text">{truncate(s.text, 600)}</p>
      {s.state === 'paused' && s.paused_reason && (
        <p className={`schedule-reason${pausedAfterFailures(s) ? ' failing' : ''}`}>
          <span className="meta">paused:</span> {s.paused_reason}
        </p>
      )}
    </>
  );
}

/** The job Run now started, linked. */
function Started({ jobId }: { jobId: string }) {
  return (
    <p className="schedule-started" role="status">
      Started job{' '}
      <a href={jobHref(jobId)}>
        <code>{jobId}</code>
      </a>
    </p>
  );
}

/** A button of a schedule, described by its one line for a screen reader ("Pause", "every 10m"). */
function ItemButton(p: { describedBy: string; busy: boolean; onClick(): void; children: string }) {
  return (
    <button
      type="button"
      className="btn small"
      aria-describedby={p.describedBy}
      aria-disabled={p.busy}
      onClick={p.onClick}
    >
      {p.children}
    </button>
  );
}

/** When it fires next and last, how the last run ended, the failures in a row, where its messages go. */
function Facts({ s, now }: { s: Schedule; now: number }) {
  const next =
    s.next_run_at !== null ? (
      <When iso={s.next_run_at} now={now} next />
    ) : s.state === 'done' ? (
      'none: it fired once'
    ) : s.state === 'paused' ? (
      'none while paused'
    ) : (
      '—'
    );
  return (
    <dl className="schedule-facts">
      <div data-fact="next">
        <dt>Next run</dt>
        <dd>{next}</dd>
      </div>
      <div data-fact="last">
        <dt>Last run</dt>
        <dd>{s.last_fired_at ? <When iso={s.last_fired_at} now={now} /> : 'never'}</dd>
      </div>
      <div data-fact="result">
        <dt>Last result</dt>
        <dd>
          {s.last_result ? <StateBadge state={s.last_result} /> : s.last_fired_at ? 'not ended yet' : '—'}
          {s.last_job_id && (
            <>
              {' '}
              <a className="schedule-job" href={jobHref(s.last_job_id)} title={`Job ${s.last_job_id}`}>
                job <code>{s.last_job_id}</code>
              </a>
            </>
          )}
        </dd>
      </div>
      <div data-fact="failures">
        <dt>Failures in a row</dt>
        <dd className={s.consecutive_failures > 0 ? 'failing' : undefined}>{s.consecutive_failures}</dd>
      </div>
      <div data-fact="to">
        <dt>Goes to</dt>
        <dd>
          {s.task_id ? <a href={`#/tasks/${encodeURIComponent(s.task_id)}`}>task {s.task_id}</a> : 'routed'} · {s.lane}
        </dd>
      </div>
    </dl>
  );
}

/** Its latest firings (GET /api/schedules/{id}), loaded again whenever the schedule itself changed. */
function Runs({ s, now }: { s: Schedule; now: number }) {
  const { api } = useApp();
  const { id } = s;
  const runs = useLoad(useCallback((signal: AbortSignal) => api.getSchedule(id, { signal }), [api, id]));
  const { reload } = runs;
  // A firing or a run's end changes the schedule (its last run, its result): then its runs are read again.
  const stamp = `${s.updated_at} ${s.last_fired_at ?? ''} ${s.last_job_id ?? ''}`;
  const seen = useRef(stamp);
  useEffect(() => {
    if (seen.current === stamp) return;
    seen.current = stamp;
    reload();
  }, [stamp, reload]);

  const list = runs.data?.runs;
  return (
    <section className="schedule-runs" aria-label={`Runs of ${s.description}`} aria-busy={runs.loading}>
      <h5>Latest runs{list ? ` (${list.length})` : ''}</h5>
      {runs.error && <ErrorBox message={runs.error} onRetry={reload} />}
      {!list && runs.loading && <Loading what="runs" />}
      {list && list.length === 0 && <Empty>No firing yet.</Empty>}
      {list && list.length > 0 && (
        <ol className="run-list">
          {list.map((r) => (
            <li key={r.id} className="run" data-run-id={r.id} data-kind={r.kind} data-result={r.result ?? 'pending'}>
              <span>
                slot{' '}
                <time dateTime={r.slot_at} title={formatExact(r.slot_at)}>
                  {formatTime(r.slot_at)}
                </time>{' '}
                <span className="meta">
                  ({Date.parse(r.slot_at) > now ? 'just now' : formatRelative(r.slot_at, now)})
                </span>
              </span>
              <span className="meta">{RUN_KINDS[r.kind]}</span>
              {r.result ? <StateBadge state={r.result} /> : <StateBadge state="running" label="not ended" />}
              <a href={jobHref(r.job_id)}>
                job <code>{r.job_id}</code>
              </a>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** The confirm step of Remove; its button takes the focus. */
function ConfirmRemove(p: { describedBy: string; busy: boolean; onRemove(): void; onKeep(): void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="card-actions schedule-confirm" role="group" aria-label="Remove this schedule?">
      <span>Remove this schedule? Its jobs stay.</span>
      <button
        ref={ref}
        type="button"
        className="btn danger"
        aria-describedby={p.describedBy}
        aria-disabled={p.busy}
        onClick={p.onRemove}
      >
        Yes, remove
      </button>
      <button type="button" className="btn" onClick={p.onKeep}>
        Keep
      </button>
    </div>
  );
}
