import { Fragment } from 'react';
import { formatDuration, formatExact, formatRelative } from './format.js';

/** A time in words ("3 min ago", "in 20 s"), the exact time in its title; `empty` when there is none. */
export function Ago({ iso, now, empty = '—' }: { iso: string | null | undefined; now: number; empty?: string }) {
  if (!iso) return <>{empty}</>;
  return (
    <time dateTime={iso} title={formatExact(iso)}>
      {formatRelative(iso, now)}
    </time>
  );
}

/** Text whose `backticked` parts (commands, settings) are shown as code. */
export function WithCode({ text }: { text: string }) {
  return (
    <>
      {text
        .split('`')
        .map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : <Fragment key={i}>{part}</Fragment>))}
    </>
  );
}

/** How long something has lasted since `iso`, in words ("3 min", "a moment"), the exact start in its title. */
export function Lasting({ iso, now }: { iso: string; now: number }) {
  const ms = now - Date.parse(iso);
  return (
    <time dateTime={iso} title={`since ${formatExact(iso)}`}>
      {Number.isNaN(ms) ? iso : ms < 5_000 ? 'a moment' : formatDuration(ms)}
    </time>
  );
}
