import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LockHeldError, errorMessage } from '@alter0/core';
import { acquireDataDirLock } from '@alter0/store';
import { backup } from './backup.js';
import { RestoreError } from './errors.js';
import { fsyncDir, fsyncFile } from './fsync.js';
import { dbFileFor, fileStamp } from './paths.js';
import { withPool } from './pool.js';
import { privateFile } from './private-files.js';
import type { MaintenancePool } from './pool.js';

export interface RestoreOptions {
  dataDir: string;
  /** The backup to restore (any alter0 database file that passes the checks). */
  file: string;
  /** Where the pre-restore backup of the current database goes, and how many of those to keep. */
  backupDir: string;
  keep: number;
  now?: () => Date;
  signal?: AbortSignal;
  pool?: MaintenancePool;
  migrationsFolder?: string;
}

export interface RestoreResult {
  dbFile: string;
  /** The database that was replaced, kept aside (null when there was none). */
  replacedPath: string | null;
  /** A verified copy of the replaced database in the backups directory (null if none or it could not be made). */
  preRestoreBackup: string | null;
  /** Why the pre-restore backup is missing, when it is. */
  warnings: string[];
  schemaVersion: number;
  ms: number;
}

/**
 * Replaces the data directory's database with `file`. Holds the data directory lock throughout (so it refuses
 * while alter0 runs, naming the pid, and alter0 cannot start midway). The file must pass integrity_check and
 * have a schema this code can run. The current database is backed up (`pre-restore`) and also kept aside as
 * `alter0.db.replaced-<time>` together with its WAL; then the file is copied in place and fsynced.
 */
export async function restore(opts: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const source = path.resolve(opts.file);
  assertRestorable(source);
  const lock = lockForRestore(opts.dataDir);
  try {
    return await withPool(opts.pool, async (pool) => {
      const schemaVersion = await verifySource(pool, source, opts);
      const dbFile = dbFileFor(opts.dataDir);
      const at = opts.now?.() ?? new Date();
      const incoming = await stageCopy(source, dbFile);
      const warnings: string[] = [];
      const { preRestoreBackup, replacedPath } = await setAsideCurrent(dbFile, at, pool, opts, warnings);
      await fs.promises.rename(incoming, dbFile);
      await fsyncDir(path.dirname(dbFile));
      return {
        dbFile,
        replacedPath,
        preRestoreBackup,
        warnings,
        schemaVersion,
        ms: Math.round(performance.now() - started),
      };
    });
  } finally {
    await fs.promises.rm(`${dbFileFor(opts.dataDir)}.restore-tmp`, { force: true });
    lock.release();
  }
}

/** Cheap refusals before taking the lock: the file must exist and carry no WAL a plain copy would drop. */
function assertRestorable(source: string): void {
  if (!fs.existsSync(source))
    throw new RestoreError(`${source} does not exist; name a backup file (see the backups directory)`);
  const walOfSource = `${source}-wal`;
  if (fs.existsSync(walOfSource) && fs.statSync(walOfSource).size > 0) {
    throw new RestoreError(
      `${source} has a write-ahead log (${walOfSource}) whose changes a plain copy would lose; restore a backup made by \`alter0 db backup\` instead`,
    );
  }
}

/** The data directory lock, with a held lock reported as a refused restore (still naming the holder's pid). */
function lockForRestore(dataDir: string): ReturnType<typeof acquireDataDirLock> {
  try {
    return acquireDataDirLock(dataDir);
  } catch (err) {
    if (err instanceof LockHeldError) throw new LockHeldError(`restore refused: ${err.message}`, err.holderPid);
    throw err;
  }
}

/** integrity_check plus a readable alter0 schema, before anything is changed; returns the schema version. */
async function verifySource(pool: MaintenancePool, source: string, opts: RestoreOptions): Promise<number> {
  const check = await pool.run(
    {
      op: 'check',
      file: source,
      level: 'integrity',
      ...(opts.migrationsFolder ? { migrationsFolder: opts.migrationsFolder } : {}),
    },
    opts.signal,
  );
  if (!check.ok) {
    throw new RestoreError(
      `${source} failed its integrity check (${check.problems.slice(0, 3).join('; ')}); nothing was changed. Choose another backup.`,
    );
  }
  if (!check.schema)
    throw new RestoreError(`${source} cannot be restored: ${check.schemaError ?? 'unreadable schema'}`);
  if (check.schema.dbVersion === 0)
    throw new RestoreError(`${source} is not an alter0 database (it has no alter0 schema); nothing was changed`);
  return check.schema.dbVersion;
}

/** Copy first, next to the target (same file system, so the final rename is atomic). */
async function stageCopy(source: string, dbFile: string): Promise<string> {
  const incoming = `${dbFile}.restore-tmp`;
  await fs.promises.copyFile(source, incoming);
  // copyFile keeps the source's mode; the live database is the owner's only.
  privateFile(incoming);
  await fsyncFile(incoming);
  return incoming;
}

/** Backs up the current database (if any) and renames it aside with its journal files; warnings get why not. */
async function setAsideCurrent(
  dbFile: string,
  at: Date,
  pool: MaintenancePool,
  opts: RestoreOptions,
  warnings: string[],
): Promise<{ preRestoreBackup: string | null; replacedPath: string | null }> {
  if (!fs.existsSync(dbFile)) return { preRestoreBackup: null, replacedPath: null };
  let preRestoreBackup: string | null = null;
  try {
    preRestoreBackup = (
      await backup({
        dbFile,
        backupDir: opts.backupDir,
        reason: 'pre-restore',
        keep: opts.keep,
        pool,
        signal: opts.signal,
        now: () => at,
      })
    ).path;
  } catch (err) {
    // The database being replaced may be the damaged one: it is still kept aside below.
    warnings.push(`no pre-restore backup: ${errorMessage(err)}`);
  }
  const replacedPath = `${dbFile}.replaced-${fileStamp(at)}`;
  await fs.promises.rename(dbFile, replacedPath);
  // Its WAL may hold committed transactions (after a kill -9): keep it with it, under the name SQLite looks for.
  for (const [suffix, keep] of [
    ['-wal', true],
    ['-journal', true],
    ['-shm', false],
  ] as const) {
    const side = `${dbFile}${suffix}`;
    if (!fs.existsSync(side)) continue;
    if (keep) await fs.promises.rename(side, `${replacedPath}${suffix}`);
    else await fs.promises.rm(side, { force: true });
  }
  return { preRestoreBackup, replacedPath };
}
