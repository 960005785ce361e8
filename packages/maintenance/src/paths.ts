import path from 'node:path';

/** The database file inside a data directory (the daemon uses the same name). */
export function dbFileFor(dataDir: string): string {
  return path.join(dataDir, 'alter0.db');
}

/** ISO time with the characters file systems dislike replaced: 2025-01-31T04-05-06-789Z (the store uses the same form). */
export function fileStamp(at: Date): string {
  return at.toISOString().replace(/[:.]/g, '-');
}

const STAMP_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/;

export function parseFileStamp(stamp: string): Date | null {
  const m = STAMP_RE.exec(stamp);
  if (!m) return null;
  const d = new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}
