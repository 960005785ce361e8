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
  if (!fs.existsSync(source))
    throw new RestoreError(`${source} does not exist; name a backup file (see the backups directory)`);
  const walOfSource = `${source}-wal`;
  if (fs.existsSync(walOfSource) && fs.statSync(walOfSource).size > 0) {
    throw new RestoreError(
      `${source} has a write-ahead log (${walOfSource}) whose changes a plain copy would lose; restore a backup made by \`alter0 db backup\` instead`,
    );
  }
  let lock;
  try {
    lock = acquireDataDirLock(opts.dataDir);
  } catch (err) {
    if (err instanceof LockHeldError) throw new LockHeldError(`restore refused: ${err.message}`, err.holderPid);
    throw err;
  }
  try {
    return await withPool(opts.pool, async (pool) => {
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

      const dbFile = dbFileFor(opts.dataDir);
      const at = opts.now?.() ?? new Date();
      // Copy first, next to the target (same file system, so the final rename is atomic).
      const incoming = `${dbFile}.restore-tmp`;
      await fs.promises.copyFile(source, incoming);
      // copyFile keeps the source's mode; the live database is the owner's only.
      privateFile(incoming);
      await fsyncFile(incoming);

      const warnings: string[] = [];
      let preRestoreBackup: string | null = null;
      let replacedPath: string | null = null;
      if (fs.existsSync(dbFile)) {
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
        replacedPath = `${dbFile}.replaced-${fileStamp(at)}`;
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
      }
      await fs.promises.rename(incoming, dbFile);
      await fsyncDir(path.dirname(dbFile));
      return {
        dbFile,
        replacedPath,
        preRestoreBackup,
        warnings,
        schemaVersion: check.schema.dbVersion,
        ms: Math.round(performance.now() - started),
      };
    });
  } finally {
    await fs.promises.rm(`${dbFileFor(opts.dataDir)}.restore-tmp`, { force: true });
    lock.release();
  }
}
