import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { Approval } from '@alter0/api';
import { errorMessage } from '../api/client.js';
import { useApp } from '../app-context.js';
import { useLiveApprovals } from '../live/approvals.js';
import { Empty, ErrorBox, Loading, StateBadge } from '../ui/feedback.js';
import { formatMs, formatTime } from '../ui/format.js';

type Answer = { allow: true; always: boolean } | { allow: false; reason: string };

/** Pending first, the one that expires soonest on top; then the decided ones, the latest decision on top. */
function split(list: Approval[]): { pending: Approval[]; decided: Approval[] } {
  const pending = list.filter((a) => a.state === 'pending').sort((a, b) => a.expires_at.localeCompare(b.expires_at));
  const decided = list
    .filter((a) => a.state !== 'pending')
    .sort((a, b) => (b.decided_at ?? b.created_at).localeCompare(a.decided_at ?? a.created_at));
  return { pending, decided };
}

/** The tool's input as the agent gave it (secrets already redacted by the daemon), indented. */
function prettyInput(input: unknown): string {
  if (typeof input === 'string') return input;
  // It came as JSON, so it goes back to JSON (undefined: the field was missing).
  return JSON.stringify(input, null, 2) ?? '';
}

export function ApprovalsPage() {
  const { api } = useApp();
  const approvals = useLiveApprovals('all');
  const { apply } = approvals;
  // Keyed by approval: an answer refused (e.g. 409, decided meanwhile elsewhere) stays visible after the card moved.
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const [said, setSaid] = useState('');
  const [focusId, setFocusId] = useState<string | null>(null);
  const { pending, decided } = split(approvals.data ?? []);

  const answer = async (a: Approval, ans: Answer): Promise<void> => {
    setBusy((s) => new Set(s).add(a.id));
    setErrors((m) => Object.fromEntries(Object.entries(m).filter(([id]) => id !== a.id)));
    // Where the keyboard goes once this card has left the waiting list: the next waiting one, else this one, decided.
    const next = pending.find((p) => p.id !== a.id);
    try {
      const done = ans.allow
        ? await api.allowApproval(a.id, ans.always ? { always: true } : {})
        : await api.denyApproval(a.id, ans.reason ? { reason: ans.reason } : {});
      apply(done);
      setSaid(`${a.tool}: ${done.state}${done.reason ? ` (${done.reason})` : ''}.`);
      setFocusId(next?.id ?? done.id);
    } catch (e) {
      setErrors((m) => ({ ...m, [a.id]: errorMessage(e) }));
      // Decided elsewhere meanwhile: the refusal names how; the list learns it from the daemon.
      approvals.reload();
    } finally {
      setBusy((s) => {
        const rest = new Set(s);
        rest.delete(a.id);
        return rest;
      });
    }
  };

  const shared = { errors, focusId, onFocused: () => setFocusId(null) };
  return (
    <section className="panel approvals-page" aria-labelledby="approvals-title">
      <h2 id="approvals-title">Approvals</h2>
      <p className="hint approvals-intro">
        An agent asks here before it uses a tool that no rule allows; it waits until you answer or the request expires.
      </p>
      <p className="visually-hidden" role="status">
        {said}
      </p>
      {approvals.error && <ErrorBox message={approvals.error} onRetry={approvals.reload} />}
      {!approvals.data && approvals.loading && <Loading what="approvals" />}
      {approvals.data && (
        <>
          <ApprovalSection
            id="approvals-pending"
            title={`Waiting (${pending.length})`}
            empty="No approval is waiting."
            list={pending}
            card={(a) => ({
              busy: busy.has(a.id),
              onAnswer: (ans: Answer) => void answer(a, ans),
            })}
            {...shared}
          />
          <ApprovalSection
            id="approvals-decided"
            title="Decided"
            empty="None decided yet."
            list={decided}
            card={() => ({ busy: false })}
            {...shared}
          />
        </>
      )}
    </section>
  );
}

interface SectionProps {
  id: string;
  title: string;
  empty: string;
  list: Approval[];
  /** What each card gets besides the approval, its error and its focus. */
  card(a: Approval): Pick<CardProps, 'busy' | 'onAnswer'>;
  errors: Record<string, string>;
  focusId: string | null;
  onFocused(): void;
}

function ApprovalSection({ id, title, empty, list, card, errors, focusId, onFocused }: SectionProps) {
  return (
    <section aria-labelledby={id} className="approvals-section">
      <h3 id={id}>{title}</h3>
      {list.length === 0 ? (
        <Empty>{empty}</Empty>
      ) : (
        <div className="cards">
          {list.map((a) => (
            <ApprovalCard
              key={a.id}
              a={a}
              error={errors[a.id]}
              focus={focusId === a.id}
              onFocused={onFocused}
              {...card(a)}
            />
          ))}
        </div>
      )}
    </section>
  );
}

interface CardProps {
  a: Approval;
  busy: boolean;
  error: string | undefined;
  /** Take the keyboard focus (after an answer moved the previous card away). */
  focus: boolean;
  onFocused(): void;
  /** Only for a pending one. */
  onAnswer?: (ans: Answer) => void;
}

function ApprovalCard({ a, busy, error, focus, onFocused, onAnswer }: CardProps) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!focus) return;
    ref.current?.focus();
    onFocused();
  }, [focus, onFocused]);
  const input = prettyInput(a.input);
  return (
    <article
      ref={ref}
      tabIndex={-1}
      className={`card approval approval-${a.state}`}
      data-approval-id={a.id}
      data-state={a.state}
      aria-label={`${a.tool} approval, ${a.state}`}
    >
      <header className="card-head">
        <StateBadge state={a.state} />
        <h4 className="approval-tool">{a.tool}</h4>
        <code className="id" title={a.id}>
          {a.id}
        </code>
      </header>
      <p className="meta approval-where">
        agent <strong>{a.agent}</strong> · job <code>{a.job_id}</code>
        {a.attempt > 1 && <> (attempt {a.attempt})</>} ·{' '}
        {a.task_id ? (
          <a href={`#/tasks/${encodeURIComponent(a.task_id)}`}>task {a.task_id}</a>
        ) : (
          <a href="#/jobs">jobs</a>
        )}
      </p>
      {input !== '' && (
        // Scrolls inside its own box when long; focusable so the keyboard can scroll it too.
        <pre className="approval-input" tabIndex={0} aria-label={`${a.tool} input`}>
          {input}
        </pre>
      )}
      <p className="meta approval-times">
        asked <time dateTime={a.created_at}>{formatTime(a.created_at)}</time>
        {a.state === 'pending' ? (
          <>
            {' '}
            · expires <time dateTime={a.expires_at}>{formatTime(a.expires_at)}</time>
          </>
        ) : (
          <>
            {' '}
            · {a.state} by <strong className="decided-by">{a.decided_by ?? '—'}</strong>
            {a.decided_at && (
              <>
                {' '}
                at <time dateTime={a.decided_at}>{formatTime(a.decided_at)}</time>
              </>
            )}{' '}
            · waited <span className="waited">{formatMs(a.waited_ms)}</span>
            {a.always && <> · always for this task</>}
          </>
        )}
      </p>
      {a.state !== 'pending' && a.reason && a.reason !== a.state && (
        <p className="approval-reason">
          <span className="meta">reason:</span> <span className="reason-text">{a.reason}</span>
        </p>
      )}
      {a.state === 'pending' && onAnswer && <Answers a={a} busy={busy} onAnswer={onAnswer} />}
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

function Answers({ a, busy, onAnswer }: { a: Approval; busy: boolean; onAnswer: (ans: Answer) => void }) {
  const [reason, setReason] = useState('');
  const reasonId = useId();
  const deny = (e: FormEvent): void => {
    e.preventDefault();
    onAnswer({ allow: false, reason: reason.trim() });
  };
  return (
    <div className="approval-answers">
      <div className="card-actions">
        <button
          type="button"
          className="btn primary"
          disabled={busy}
          onClick={() => onAnswer({ allow: true, always: false })}
        >
          Approve
        </button>
        {a.task_id && (
          <button
            type="button"
            className="btn"
            disabled={busy}
            title="Allow this tool with this input for the rest of the task, without asking"
            onClick={() => onAnswer({ allow: true, always: true })}
          >
            Always allow for this task
          </button>
        )}
      </div>
      <form className="inline-form deny-form" onSubmit={deny}>
        <label htmlFor={reasonId}>Reason for denying (optional)</label>
        <input
          id={reasonId}
          value={reason}
          maxLength={2000}
          autoComplete="off"
          onChange={(e) => setReason(e.target.value)}
        />
        <button type="submit" className="btn danger" disabled={busy}>
          Deny
        </button>
      </form>
    </div>
  );
}
