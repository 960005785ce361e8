import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { errorMessage } from '../api/client.js';
import type { MessageDone } from '@alter0/api';
import { useApp } from '../app-context.js';
import { StateBadge } from '../ui/feedback.js';
import { Timings } from '../ui/JobCard.js';
import { formatConfidence } from '../ui/format.js';
import { Markdown } from '../ui/Markdown.js';
import type { JobNotifier } from '../notify/job-notifier.js';
import { useJobNotifications } from '../notify/use-job-notifications.js';
import { useDockHeight, useRevealNewest } from '../ui/dock.js';
import { LiveJobCard } from './LiveJobCard.js';
import { NotifyToggle } from './NotifyToggle.js';

export interface ReplyTo {
  id: string;
  title: string;
}

type Phase =
  | { phase: 'sending' }
  | { phase: 'answered'; result: MessageDone }
  | { phase: 'accepted'; jobId: string }
  | { phase: 'error'; message: string };

type Submission = { key: number; content: string; replyTo: ReplyTo | null; background: boolean } & Phase;

/** How many submissions stay on screen; older ones are still in the jobs list. */
const KEEP = 8;

export function Composer({ replyTo, focusToken }: { replyTo: ReplyTo | null; focusToken: number }) {
  const [text, setText] = useState('');
  const [background, setBackground] = useState(false);
  const subsRef = useRef<HTMLDivElement>(null);
  const notifier = useJobNotifications();
  const { subs, send, update } = useSubmissions(notifier);

  useRevealNewest(subsRef, subs[0]?.key);

  const submit = (): void => {
    const content = text.trim();
    if (!content) return;
    setText('');
    // Give the text back when the send failed, so nothing typed is lost.
    void send(content, replyTo, background).then((sent) => {
      if (!sent) setText((t) => (t === '' ? content : t));
    });
  };

  return (
    <section className="composer panel" aria-labelledby="composer-title">
      <h2 id="composer-title">New message</h2>
      <ComposerForm
        text={text}
        setText={setText}
        background={background}
        setBackground={setBackground}
        replyTo={replyTo}
        focusToken={focusToken}
        onSubmit={submit}
      />
      <NotifyToggle />
      <div ref={subsRef} className="submissions" role="region" aria-live="polite" aria-label="Sent messages">
        {subs.map((s) => (
          <SubmissionView
            key={s.key}
            sub={s}
            onRetried={(jobId) => {
              notifier.track(jobId);
              update(s.key, { phase: 'accepted', jobId });
            }}
          />
        ))}
      </div>
    </section>
  );
}

/**
 * The messages sent from this composer and how each went. `send` resolves false when the send failed (the
 * submission shows the error); sends still waiting when the composer unmounts are aborted. Each job started here is
 * told to `notifier`, which may notify its end.
 */
function useSubmissions(notifier: JobNotifier) {
  const { api } = useApp();
  const [subs, setSubs] = useState<Submission[]>([]);
  const nextKey = useRef(1);
  const unmount = useRef(new AbortController());

  useEffect(() => {
    const ac = new AbortController();
    unmount.current = ac;
    return () => ac.abort();
  }, []);

  const update = (key: number, phase: Phase): void =>
    setSubs((list) => list.map((s) => (s.key === key ? { ...s, ...phase } : s)));

  const send = async (content: string, replyTo: ReplyTo | null, background: boolean): Promise<boolean> => {
    const key = nextKey.current++;
    setSubs((list) => [{ key, content, replyTo, background, phase: 'sending' as const }, ...list].slice(0, KEEP));
    const input = replyTo ? { content, task_id: replyTo.id } : { content };
    const signal = unmount.current.signal;
    try {
      if (background) {
        const r = await api.submitJob({ ...input, lane: 'background' }, { signal });
        notifier.track(r.job_id);
        update(key, { phase: 'accepted', jobId: r.job_id });
      } else {
        const r = await api.sendMessage(input, { signal });
        notifier.track(r.body.job_id);
        // Answered at once: the reply is shown here (the job's end may have come first, or come later).
        if (r.status === 200) notifier.answered({ ...r.body, id: r.body.job_id });
        update(
          key,
          r.status === 200 ? { phase: 'answered', result: r.body } : { phase: 'accepted', jobId: r.body.job_id },
        );
      }
      return true;
    } catch (e) {
      if (signal.aborted) return true;
      update(key, { phase: 'error', message: errorMessage(e) });
      return false;
    }
  };
  return { subs, send, update };
}

interface ComposerFormProps {
  text: string;
  setText(text: string): void;
  background: boolean;
  setBackground(background: boolean): void;
  replyTo: ReplyTo | null;
  focusToken: number;
  onSubmit(): void;
}

function ComposerForm({ text, setText, background, setBackground, replyTo, focusToken, onSubmit }: ComposerFormProps) {
  const { setReplyTo } = useApp();
  const textareaRef = useRef<HTMLTextAreaElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  useDockHeight(formRef);
  const ids = { text: useId(), bg: useId(), hint: useId() };

  useEffect(() => {
    if (focusToken > 0) textareaRef.current?.focus();
  }, [focusToken]);

  const onFormSubmit = (e: FormEvent): void => {
    e.preventDefault();
    onSubmit();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      onSubmit();
    }
  };

  return (
    <form ref={formRef} className="composer-form" onSubmit={onFormSubmit}>
      <label htmlFor={ids.text}>Message</label>
      <textarea
        id={ids.text}
        ref={textareaRef}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        rows={4}
        placeholder="What should the agent do?"
        aria-describedby={ids.hint}
      />
      {replyTo && (
        <div className="reply-to" aria-label="Reply target">
          <span>
            Into task <strong>{replyTo.title || replyTo.id}</strong> <code>{replyTo.id}</code>
          </span>
          <button
            type="button"
            className="btn small"
            onClick={() => setReplyTo(null)}
            aria-label={`Stop replying to task ${replyTo.id}`}
          >
            × Remove
          </button>
        </div>
      )}
      <div className="composer-row">
        <label className="check" htmlFor={ids.bg}>
          <input id={ids.bg} type="checkbox" checked={background} onChange={(e) => setBackground(e.target.checked)} />
          Run in background
        </label>
        <button type="submit" className="btn primary" disabled={text.trim() === ''}>
          Send
        </button>
      </div>
      <p id={ids.hint} className="hint">
        {replyTo ? 'Goes into the task above.' : 'The router picks a task or starts a new one.'} Ctrl/⌘+Enter sends.
      </p>
    </form>
  );
}

function SubmissionView({ sub, onRetried }: { sub: Submission; onRetried: (jobId: string) => void }) {
  return (
    <div className="submission" data-phase={sub.phase}>
      <p className="sent">
        <span className="meta">
          {sub.background ? 'background' : 'sent'}
          {sub.replyTo ? ` → ${sub.replyTo.id}` : ''}:
        </span>{' '}
        {sub.content}
      </p>
      {sub.phase === 'sending' && (
        <p className="muted" role="status">
          Waiting for the answer…
        </p>
      )}
      {sub.phase === 'error' && (
        <div className="error-box" role="alert">
          {sub.message}
        </div>
      )}
      {sub.phase === 'accepted' && <LiveJobCard id={sub.jobId} onRetried={onRetried} />}
      {/* A failed or canceled answer gets the live card: it has the retry button. */}
      {sub.phase === 'answered' &&
        (sub.result.state === 'succeeded' ? (
          <Answer result={sub.result} />
        ) : (
          <LiveJobCard id={sub.result.job_id} onRetried={onRetried} />
        ))}
    </div>
  );
}

function Answer({ result }: { result: MessageDone }) {
  return (
    <article
      className={`card answer job-${result.state}`}
      data-job-id={result.job_id}
      data-state={result.state}
      aria-label="Answer"
    >
      <header className="card-head">
        <StateBadge state={result.state} />
        <code className="id">{result.job_id}</code>
        {result.task_id && (
          <a className="meta" href={`#/tasks/${encodeURIComponent(result.task_id)}`}>
            task {result.task_id}
          </a>
        )}
      </header>
      {result.reply !== null && result.reply !== '' && <Markdown className="reply" text={result.reply} />}
      {result.error && (
        <div className="job-error">
          <strong>{result.error.class}</strong>: {result.error.message}
        </div>
      )}
      {result.route && (
        <p className="meta route">
          route: <strong>{result.route.decision}</strong> · confidence {formatConfidence(result.route.confidence)}
          {result.route.fallback && <> · fallback {result.route.fallback}</>}
        </p>
      )}
      <Timings timings={result.timings} />
    </article>
  );
}
