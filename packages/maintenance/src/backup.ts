import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { errorMessage } from '@alter0/core';
import { BackupError } from './errors.js';
import { fsyncDir } from './fsync.js';
import { fileStamp, parseFileStamp } from './paths.js';
import { withPool } from './pool.js';
import { PRIVATE_FILE_MODE, privateDir, privateFile } from './private-files.js';
import type { MaintenancePool } from './pool.js';

export const BACKUP_REASONS = ['scheduled', 'manual', 'pre-migrate', 'pre-restore'] as const;
export type BackupReason = (typeof BACKUP_REASONS)[number];

export interface BackupOptions {
  dbFile: string;
  backupDir: string;
  reason: BackupReason;
  /** Backups of the same kind to keep, newest first (see pruneBackups). */
  keep: number;
  signal?: AbortSignal;
  /** Defaults to a pool of its own, closed afterwards. */
  pool?: MaintenancePool;
  now?: () => Date;
  busyTimeoutMs?: number;
}

export interface BackupResult {
  path: string;
  bytes: number;
  ms: number;
  integrity: 'ok';
  /** Older backups deleted by the pruning that followed. */
  pruned: string[];
}

export interface BackupFile {
  path: string;
  name: string;
  at: Date;
  /** The reason in the name; the store's own pre-migration backups read as `pre-migrate`. */
  reason: BackupReason;
  bytes: number;
}

/**
 * An online backup: `VACUUM INTO` a temp file on a worker thread (the daemon keeps serving), fsync it, rename it to
 * `alter0-<UTC time>-<reason>.db`, fsync the directory, then `integrity_check` the copy (a bad copy is deleted
 * and this throws BackupError), then prune old backups.
 */
export async function backup(opts: BackupOptions): Promise<BackupResult> {
  const started = performance.now();
  if (!fs.existsSync(opts.dbFile)) {
    throw new BackupError(
      `there is no database at ${opts.dbFile} to back up; check --data (or data_dir in the config)`,
    );
  }
  // A backup is the whole database: the owner's only (0700 folder, 0600 file), whatever the umask.
  if (!fs.existsSync(opts.backupDir)) privateDir(opts.backupDir);
  const final = freshName(opts.backupDir, opts.now?.() ?? new Date(), opts.reason);
  const tmp = `${final}.tmp`;
  return withPool(opts.pool, async (pool) => {
    let bytes: number;
    try {
      // VACUUM INTO fills an existing empty file and keeps its mode: the copy is never readable by others, not even
      // while it is written.
      await fs.promises.writeFile(tmp, '', { mode: PRIVATE_FILE_MODE, flag: 'wx' });
      privateFile(tmp);
      ({ bytes } = await pool.run(
        { op: 'copy', dbFile: opts.dbFile, dest: tmp, busyTimeoutMs: opts.busyTimeoutMs ?? 10_000 },
        opts.signal,
      ));
      await fs.promises.rename(tmp, final);
      await fsyncDir(opts.backupDir);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      throw new BackupError(`backup of ${opts.dbFile} to ${opts.backupDir} failed: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    let problems: string[];
    try {
      const check = await pool.run({ op: 'check', file: final, level: 'integrity' }, opts.signal);
      problems = check.ok ? [] : check.problems;
    } catch (err) {
      problems = [`the integrity check did not finish: ${errorMessage(err)}`];
    }
    if (problems.length > 0) {
      // An unverified copy must never look like a good backup.
      await fs.promises.rm(final, { force: true });
      await fsyncDir(opts.backupDir);
      throw new BackupError(
        `the backup copy ${final} failed its integrity check and was deleted: ${problems.slice(0, 5).join('; ')}. ` +
          `Run \`alter0 db verify\` on the live database, and check the disk holding ${opts.backupDir}.`,
      );
    }
    const pruned = await pruneBackups(opts.backupDir, opts.keep);
    return { path: final, bytes, ms: Math.round(performance.now() - started), integrity: 'ok' as const, pruned };
  });
}

function freshName(dir: string, at: Date, reason: BackupReason): string {
  // Two backups in the same millisecond (a manual one during a scheduled one) must not overwrite each other.
  let t = at.getTime();
  for (;;) {
    const p = path.join(dir, `alter0-${fileStamp(new Date(t))}-${reason}.db`);
    if (!fs.existsSync(p) && !fs.existsSync(`${p}.tmp`)) return p;
    t++;
  }
}

const NAME_RE =
  /^alter0-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)-(scheduled|manual|pre-migrate|pre-restore)(?:-v\d+-to-v\d+)?\.db$/;

/** The backups in `dir`, newest first (files that do not follow the naming are ignored). */
export async function listBackups(dir: string): Promise<BackupFile[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: BackupFile[] = [];
  for (const name of names) {
    const m = NAME_RE.exec(name);
    const at = m?.[1] === undefined ? null : parseFileStamp(m[1]);
    if (!m || at === null) continue;
    const p = path.join(dir, name);
    try {
      out.push({ path: p, name, at, reason: m[2] as BackupReason, bytes: (await fs.promises.stat(p)).size });
    } catch {
      // Pruned by someone else meanwhile.
    }
  }
  return out.sort((a, b) => b.at.getTime() - a.at.getTime() || b.name.localeCompare(a.name));
}

export async function lastBackupAt(dir: string): Promise<Date | null> {
  return (await listBackups(dir))[0]?.at ?? null;
}

/**
 * Keeps the newest `keep` routine backups (scheduled and manual) and, separately, the newest `keep` safety
 * backups (pre-migrate, pre-restore): a week of daily backups must not push out the only copy that the
 * previous alter0 version can still read.
 */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  const all = await listBackups(dir);
  const safety = new Set<BackupReason>(['pre-migrate', 'pre-restore']);
  const n = Math.max(1, Math.floor(keep));
  const doomed = [
    ...all.filter((b) => !safety.has(b.reason)).slice(n),
    ...all.filter((b) => safety.has(b.reason)).slice(n),
  ];
  for (const b of doomed) await fs.promises.rm(b.path, { force: true });
  const stale = await staleTempFiles(dir);
  for (const p of stale) await fs.promises.rm(p, { force: true });
  if (doomed.length + stale.length > 0) await fsyncDir(dir);
  return [...doomed.map((b) => b.path), ...stale];
}

/** Temp copies of a backup that was killed midway (a live one is minutes old at most). */
async function staleTempFiles(dir: string): Promise<string[]> {
  const cutoff = Date.now() - 6 * 3_600_000;
  const out: string[] = [];
  for (const name of await fs.promises.readdir(dir)) {
    if (!/^alter0-.*\.db\.tmp$/.test(name)) continue;
    const p = path.join(dir, name);
    const st = await fs.promises.stat(p).catch(() => null);
    if (st && st.mtimeMs < cutoff) out.push(p);
  }
  return out;
}
