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

/** A length of time in words: "850 ms", "12 s", "5 min", "1 h 30 min", "24 h", "3 days". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1_000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 || m >= 10 ? `${Math.round(s / 60)} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 || h >= 10 ? `${Math.round(m / 60)} h` : `${h} h ${m % 60} min`;
  const d = Math.round(h / 24);
  return d === 1 ? '1 day' : `${d} days`;
}

/** How often something runs: a period in ms ("every 24 h") or a cron pattern ("cron 0 3 * * *"). */
export function formatEvery(every: number | string): string {
  return typeof every === 'number' ? `every ${formatDuration(every)}` : `cron ${every}`;
}

/** A byte count in decimal units, as disks are sold: "512 B", "4.1 kB", "12.3 MB", "1.2 GB". */
export function formatSize(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1_000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n / 1_000;
  let i = 0;
  while (v >= 999.95 && i < units.length - 1) {
    v /= 1_000;
    i++;
  }
  return `${v.toFixed(v < 100 ? 1 : 0)} ${units[i]}`;
}

/** "1 job", "3 jobs": a count and its noun, plural when it is not one. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
