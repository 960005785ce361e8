/** Human-readable duration for a millisecond count (null: the stage did not run). */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = ms / 1_000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

export function formatConfidence(c: number | null | undefined): string {
  return typeof c === 'number' ? c.toFixed(2) : '—';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export function truncate(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** ULIDs are long; their tail is what tells neighbours apart. The full id goes in a title. */
export function shortId(id: string): string {
  const cut = id.indexOf('_') + 1;
  return id.length - cut > 10 ? `${id.slice(0, cut)}…${id.slice(-8)}` : id;
}

/** How far a time is from `now`, in words: "in 4 min", "3 min ago", "in 2 h 5 min", "just now". */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = t - now;
  const a = Math.abs(d);
  if (a < 5_000) return d >= 0 ? 'in a moment' : 'just now';
  const s = Math.round(a / 1_000);
  const m = Math.round(a / 60_000);
  let span: string;
  if (s < 60) span = `${s} s`;
  else if (m < 60) span = `${m} min`;
  else if (m < 48 * 60) {
    const h = Math.floor(m / 60);
    span = h < 10 && m % 60 !== 0 ? `${h} h ${m % 60} min` : `${Math.round(m / 60)} h`;
  } else if (m < 730 * 1_440) {
    span = `${Math.round(m / 1_440)} days`;
  } else {
    span = `${Math.round(m / 525_960)} years`;
  }
  return d > 0 ? `in ${span}` : `${span} ago`;
}

/** A time in full, for a title next to the words of formatRelative. */
export function formatExact(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toLocaleString()} (${iso})`;
}
