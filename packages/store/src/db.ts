import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { DatabaseDamagedError } from '@alter0/core';
import * as schema from './schema.js';
import { MIGRATIONS_FOLDER, schemaState } from './migrations.js';
import { cachingClient } from './statement-cache.js';
import type { SchemaState } from './migrations.js';

export type Drizzle = BetterSQLite3Database<typeof schema>;

/**
 * How long the daemon's connection waits for another connection's write lock before a write fails. Whatever
 * holds the write lock while it waits for something else (a TRUNCATE checkpoint waiting for readers) must give
 * up well before this: see LOCK_HOLDING_WAIT_MS.
 */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * The longest any maintenance step may wait while it holds the write lock (a fifth of BUSY_TIMEOUT_MS): a
 * `wal_checkpoint(TRUNCATE)` blocks writers while it waits for readers, so it waits at most this long and
 * otherwise reports busy and is tried again at its next run. The daemon's writes then never time out behind it.
 */
export const LOCK_HOLDING_WAIT_MS = BUSY_TIMEOUT_MS / 5;

/**
 * SQLite's page cache per connection, in KiB: SQLite's own default. better-sqlite3 builds it with 16 MB, which a
 * growing database fills a page at a time — for hours in the daemon and again in the candidates worker, memory that
 * reads as a leak until both are full (docs/benchmarks.md, section 9). A page not cached is read from the OS's
 * file cache instead, a system call.
 */
export const PAGE_CACHE_KIB = 2048;

export interface OpenedDb {
  sqlite: BetterSqlite3.Database;
  db: Drizzle;
  /** What the connection reports after setup, for the start-up log. */
  pragmas: { journalMode: string; synchronous: number; foreignKeys: number; busyTimeoutMs: number; cacheKib: number };
  schema: SchemaState & { migrated: number; backupPath: string | null };
}

export interface OpenDbOptions {
  file: string;
  busyTimeoutMs?: number;
  /** Apply pending migrations (after a backup of a non-empty database). Default true. */
  migrate?: boolean;
  /** Where the pre-migration backup goes. */
  backupDir?: string;
  readonly?: boolean;
  now?: () => Date;
  /** Defaults to the migrations shipped with the package (tests point elsewhere to simulate upgrades). */
  migrationsFolder?: string;
  /**
   * Run `PRAGMA quick_check` on an existing database before anything is migrated or written, and refuse a damaged
   * one (DatabaseDamagedError). The daemon's start does it here, on its own connection, rather than in a worker
   * thread: nothing is served yet, and starting a thread that loads the store again cost most of a restart.
   */
  quickCheck?: boolean;
}

export function configureConnection(sqlite: BetterSqlite3.Database, busyTimeoutMs: number): OpenedDb['pragmas'] {
  if (!sqlite.readonly && !sqlite.pragma('query_only', { simple: true })) sqlite.pragma('journal_mode = WAL');
  // FULL: a transaction that returned is on disk even if the machine loses power (invariant 1).
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  sqlite.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  return {
    journalMode: String(sqlite.pragma('journal_mode', { simple: true })),
    synchronous: Number(sqlite.pragma('synchronous', { simple: true })),
    foreignKeys: Number(sqlite.pragma('foreign_keys', { simple: true })),
    busyTimeoutMs: Number(sqlite.pragma('busy_timeout', { simple: true })),
    cacheKib: -Number(sqlite.pragma('cache_size', { simple: true })),
  };
}

/**
 * Opens the database with the connection settings alter0 relies on, refuses a schema newer than the code,
 * and (unless told not to) backs up a non-empty database and applies pending migrations.
 */
export function openDb(opts: OpenDbOptions): OpenedDb {
  const readonly = opts.readonly ?? false;
  if (!readonly) fs.mkdirSync(path.dirname(opts.file), { recursive: true });
  // A read-only look (diagnose, verify) uses a read-write connection that refuses writes: a true read-only
  // connection to a WAL database leaves -wal/-shm files behind, owned by whoever ran the command.
  const sqlite = new Database(opts.file, { fileMustExist: readonly });
  if (readonly) sqlite.pragma('query_only = ON');
  try {
    const pragmas = configureConnection(sqlite, opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
    const folder = opts.migrationsFolder ?? MIGRATIONS_FOLDER;
    const state = schemaState(sqlite, folder);
    if (opts.quickCheck === true && state.dbVersion > 0) refuseDamaged(sqlite, opts.file);
    let migrated = 0;
    let backupPath: string | null = null;
    if (state.pending > 0 && (opts.migrate ?? true) && !readonly) {
      if (state.dbVersion > 0) {
        backupPath = preMigrationBackup(sqlite, opts, state);
      }
      migrate(drizzle(sqlite, { schema }), { migrationsFolder: folder });
      migrated = state.pending;
    }
    const after = schemaState(sqlite, folder);
    if (!readonly) sqlite.pragma(`user_version = ${after.dbVersion}`);
    return {
      sqlite,
      db: drizzle(cachingClient(sqlite), { schema }),
      pragmas,
      schema: { ...after, migrated, backupPath },
    };
  } catch (err) {
    sqlite.close();
    throw notADatabase(err, opts.file) ?? err;
  }
}

const RESTORE_ADVICE =
  'Stop alter0 and restore the newest good backup: `alter0 db restore <backup>` (list them in the backups directory; see docs/operations.md)';

/** SQLite's "not a database" / "malformed" at open, as the typed error that says what to do. */
function notADatabase(err: unknown, file: string): DatabaseDamagedError | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') return null;
  return new DatabaseDamagedError(
    `${file} cannot be read as an SQLite database (${(err as Error).message}); nothing was changed. ${RESTORE_ADVICE}`,
  );
}

function refuseDamaged(sqlite: BetterSqlite3.Database, file: string): void {
  const problems = (sqlite.pragma('quick_check(10)') as { quick_check: string }[]).map((r) =>
    r.quick_check.replace(/\s+/g, ' '),
  );
  if (problems.length === 1 && problems[0] === 'ok') return;
  throw new DatabaseDamagedError(
    `${file} is damaged (quick_check: ${problems.slice(0, 3).join('; ')}); nothing was changed. ${RESTORE_ADVICE}`,
  );
}

/** Invariant 6: a backup is taken before any migration runs. Start-up is not yet serving, so this is synchronous. */
function preMigrationBackup(sqlite: BetterSqlite3.Database, opts: OpenDbOptions, state: SchemaState): string {
  const dir = opts.backupDir ?? path.join(path.dirname(opts.file), 'backups');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = (opts.now?.() ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const final = path.join(dir, `alter0-${stamp}-pre-migrate-v${state.dbVersion}-to-v${state.codeVersion}.db`);
  const tmp = `${final}.tmp`;
  fs.rmSync(tmp, { force: true });
  sqlite.prepare('VACUUM INTO ?').run(tmp);
  const fd = fs.openSync(tmp, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const check = new Database(tmp, { readonly: true });
  try {
    const result = String(check.pragma('integrity_check', { simple: true }));
    if (result !== 'ok')
      throw new Error(`the pre-migration backup ${tmp} failed integrity_check (${result}); nothing was migrated`);
  } finally {
    check.close();
  }
  fs.renameSync(tmp, final);
  const dirFd = fs.openSync(dir, 'r');
  fs.fsyncSync(dirFd);
  fs.closeSync(dirFd);
  return final;
}
