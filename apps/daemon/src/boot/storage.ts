import path from 'node:path';
import { Alter0Error, ConfigError } from '@alter0/core';
import type { Config } from '@alter0/config';
import { Store } from '@alter0/store';
import type { Logger } from '@alter0/obs';
import { CONFIG_CHECKS, preflight, privateFile, tightenDataDir } from '@alter0/maintenance';
import type { MaintenancePool } from '@alter0/maintenance';

/** What a failed start undoes, newest first. */
export type Cleanup = (() => void | Promise<void>)[];

/**
 * The same checks as `alter0 doctor`: fatal ones refuse to start (config and schema with status 78, so a
 * supervisor does not restart-loop); the others start the service degraded and are logged.
 */
export async function refuseOnFatalChecks(config: Config, logger: Logger, pool: MaintenancePool): Promise<void> {
  // The database is checked when it is opened (openStorage), on the daemon's own connection.
  const checks = await preflight({ config, checkExecutors: false, checkDatabase: false, pool });
  for (const c of checks.filter((x) => !x.ok)) {
    (c.fatal ? logger.error : logger.warn).call(logger, `preflight: ${c.check}: ${c.detail}`, { fix: c.fix });
  }
  const fatal = checks.find((c) => !c.ok && c.fatal);
  if (fatal) {
    const msg = `${fatal.check}: ${fatal.detail}. ${fatal.fix}`;
    throw CONFIG_CHECKS.has(fatal.check) ? new ConfigError(msg) : new Alter0Error('preflight', msg);
  }
}

/**
 * Opens and migrates the database (its close goes on `cleanup` at once), makes the data directory private, logs
 * the pragmas, and refuses a database that did not take WAL + synchronous=FULL.
 */
export function openStorage(config: Config, logger: Logger, cleanup: Cleanup): Store {
  const dataDir = config.data_dir;
  // quick_check before any migration or write: a damaged database is refused as the preflight refused it.
  const store = Store.open({ file: path.join(dataDir, 'alter0.db'), backupDir: config.backup.dir, quickCheck: true });
  cleanup.unshift(() => store.close());
  // SQLite gives the -wal and -shm files the database's own mode: 0600 on all three, then fix what an older
  // install (or another umask) left readable, and say what changed.
  for (const suffix of ['', '-wal', '-shm']) privateFile(`${store.file}${suffix}`);
  const tightened = tightenDataDir(dataDir, [config.log.dir, config.backup.dir]);
  if (tightened.fixed.length > 0) {
    logger.warn('made files private that other users could read', {
      count: tightened.fixed.length,
      fixed: tightened.fixed.slice(0, 50),
    });
  }
  if (tightened.failed.length > 0)
    logger.warn('could not make some files private; fix them by hand (chmod go-rwx)', {
      failed: tightened.failed.slice(0, 50),
    });
  const { pragmas, schema } = store.opened;
  logger.info('database open', {
    file: store.file,
    journal_mode: pragmas.journalMode,
    synchronous: pragmas.synchronous === 2 ? 'FULL' : pragmas.synchronous,
    foreign_keys: pragmas.foreignKeys === 1,
    busy_timeout_ms: pragmas.busyTimeoutMs,
    page_cache_kib: pragmas.cacheKib,
    schema_version: schema.dbVersion,
    migrated: schema.migrated,
    backup: schema.backupPath ?? undefined,
  });
  if (pragmas.synchronous !== 2 || pragmas.journalMode !== 'wal') {
    throw new Error(
      `the database did not accept WAL + synchronous=FULL (got ${pragmas.journalMode}, ${pragmas.synchronous})`,
    );
  }
  return store;
}

/** Runs every cleanup step of a start that failed; the original error is the one to report. */
export async function undoStart(cleanup: Cleanup): Promise<void> {
  for (const f of cleanup) {
    try {
      await f();
    } catch {
      // Already failing: the original error is the one to report.
    }
  }
}
