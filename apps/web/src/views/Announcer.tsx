import { useEffect, useRef, useState } from 'react';
import { useApp } from '../app-context.js';

const MAX_REMEMBERED = 500;

/** Screen-reader announcements of job state changes and of new approvals (the cards themselves update silently). */
export function Announcer() {
  const { bus } = useApp();
  const seen = useRef(new Map<string, string>());
  const [text, setText] = useState('');
  useEffect(
    () =>
      bus.onJob((j) => {
        const before = seen.current.get(j.id);
        seen.current.delete(j.id);
        seen.current.set(j.id, j.state);
        // A console left open for weeks sees many jobs: remember only the recent ones (Map keeps insertion order).
        if (seen.current.size > MAX_REMEMBERED) {
          const oldest = seen.current.keys().next();
          if (!oldest.done) seen.current.delete(oldest.value);
        }
        if (before !== j.state) setText(`Job ${j.id} is ${j.state}${j.error ? `: ${j.error.message}` : ''}`);
      }),
    [bus],
  );
  useEffect(
    () =>
      bus.onApproval((a) => {
        if (a.state === 'pending') setText(`Approval waiting: ${a.tool} for job ${a.job_id}`);
      }),
    [bus],
  );
  return (
    <div className="visually-hidden" aria-live="polite" role="status" data-testid="announcer">
      {text}
    </div>
  );
}
