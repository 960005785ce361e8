import fs from 'node:fs';
import Database from 'better-sqlite3';
import { Alter0Error, LockHeldError } from '@alter0/core';
import { acquireDataDirLock, codeSchemaVersion, openDb, schemaState } from '@alter0/store';
import type { SchemaState } from '@alter0/store';
import { BackupError } from './errors.js';
import { dbFileFor } from './paths.js';
import { withPool } from './pool.js';
import type { MaintenancePool } from './pool.js';

export interface MigrationStatus extends SchemaState {
  dbFile: string;
  exists: boolean;
}

/** Database and code schema versions; throws SchemaTooNewError (with the store's message) for a newer database. */
export function migrationStatus(opts: { dataDir: string; migrationsFolder?: string }): MigrationStatus {
  const dbFile = dbFileFor(opts.dataDir);
  if (!fs.existsSync(dbFile)) {
    // A new database is created at the current version; nothing is pending for it.
    return { dbFile, exists: false, dbVersion: 0, codeVersion: codeSchemaVersion(opts.migrationsFolder), pending: 0 };
  }
  // Read-write with query_only rather than read-only: a read-only connection leaves -wal/-shm files behind.
  const db = new Database(dbFile, { fileMustExist: true, timeout: 10_000 });
  try {
    db.pragma('query_only = ON');
    return { dbFile, exists: true, ...schemaState(db, opts.migrationsFolder) };
  } finally {
    db.close();
  }
}

export interface MigrateResult {
  dbFile: string;
  from: number;
  to: number;
  migrated: number;
  /** The verified backup taken before migrating (null when nothing was pending). */
  backupPath: string | null;
}

/**
 * Applies pending migrations offline, holding the data directory lock (refused while alter0 runs: it migrates
 * at start by itself). The store takes its pre-migration backup into `backupDir` first; that copy is then
 * integrity-checked here.
 */
export async function migrate(opts: {
  dataDir: string;
  backupDir: string;
  signal?: AbortSignal;
  pool?: MaintenancePool;
  migrationsFolder?: string;
}): Promise<MigrateResult> {
  const dbFile = dbFileFor(opts.dataDir);
  if (!fs.existsSync(dbFile)) {
    throw new Alter0Error(
      'not_found',
      `there is no database at ${dbFile} to migrate; \`alter0 serve\` creates it at the current version`,
    );
  }
  let lock;
  try {
    lock = acquireDataDirLock(opts.dataDir);
  } catch (err) {
    if (err instanceof LockHeldError) throw new LockHeldError(`migrate refused: ${err.message}`, err.holderPid);
    throw err;
  }
  try {
    const opened = openDb({
      file: dbFile,
      backupDir: opts.backupDir,
      migrate: true,
      ...(opts.migrationsFolder ? { migrationsFolder: opts.migrationsFolder } : {}),
    });
    const { schema } = opened;
    opened.sqlite.close();
    const result: MigrateResult = {
      dbFile,
      from: schema.dbVersion - schema.migrated,
      to: schema.dbVersion,
      migrated: schema.migrated,
      backupPath: schema.backupPath,
    };
    if (schema.backupPath !== null) {
      const backupPath = schema.backupPath;
      const check = await withPool(opts.pool, (pool) =>
        pool.run({ op: 'check', file: backupPath, level: 'integrity' }, opts.signal),
      );
      if (!check.ok) {
        throw new BackupError(
          `migrated to version ${result.to}, but the pre-migration backup ${backupPath} failed its integrity check (${check.problems.slice(0, 3).join('; ')}); ` +
            'take a fresh backup now with `alter0 db backup`',
        );
      }
    }
    return result;
  } finally {
    lock.release();
  }
}
