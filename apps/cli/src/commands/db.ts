import path from 'node:path';
import {
  backup,
  cleanup,
  dbFileFor,
  formatCleanupReport,
  formatVerifyReport,
  migrate,
  migrationStatus,
  restore,
  retentionFromConfig,
  verify,
} from '@alter0/maintenance';
import { isDataDirLocked } from '@alter0/store';
import { loadLocalConfig } from '../config-args.js';
import type { BackupArgs, CleanupArgs, JsonArgs, MigrateArgs, RestoreArgs } from '../descriptors/db.js';
import { EXIT } from '../exit-codes.js';

const out = (s: string): void => {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};
const json = (v: unknown): void => out(JSON.stringify(v, null, 2));
const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

export async function backupDb(a: BackupArgs): Promise<void> {
  const { config } = loadLocalConfig(a);
  const r = await backup({
    dbFile: dbFileFor(config.data_dir),
    backupDir: a.dir === undefined ? config.backup.dir : path.resolve(a.dir),
    reason: 'manual',
    keep: a.keep ?? config.backup.keep,
  });
  if (a.json) return json(r);
  out(`backup written: ${r.path} (${mib(r.bytes)}, ${r.ms} ms, integrity ok)`);
  for (const p of r.pruned) out(`pruned: ${p}`);
}

export async function restoreDb(a: RestoreArgs): Promise<void> {
  const { config } = loadLocalConfig(a);
  const r = await restore({
    dataDir: config.data_dir,
    file: a.file,
    backupDir: config.backup.dir,
    keep: config.backup.keep,
  });
  if (a.json) return json(r);
  out(`restored ${path.resolve(a.file)} into ${r.dbFile} (schema version ${r.schemaVersion}, ${r.ms} ms)`);
  if (r.replacedPath) out(`the replaced database is kept as ${r.replacedPath}`);
  if (r.preRestoreBackup) out(`and backed up as ${r.preRestoreBackup}`);
  for (const w of r.warnings) out(`warning: ${w}`);
  out('start alter0 again to use it');
}

export async function verifyDb(a: JsonArgs): Promise<void> {
  const { config } = loadLocalConfig(a);
  const lock = isDataDirLocked(config.data_dir);
  const r = await verify({ dbFile: dbFileFor(config.data_dir), lockHeld: lock.locked });
  if (a.json) json(r);
  else out(formatVerifyReport(r));
  if (!r.ok) process.exitCode = EXIT.failure;
}

export async function cleanupDb(a: CleanupArgs): Promise<void> {
  const { config } = loadLocalConfig(a);
  const r = await cleanup({
    dbFile: dbFileFor(config.data_dir),
    now: Date.now(),
    retention: retentionFromConfig(config),
    dryRun: a['dry-run'] === true,
  });
  if (a.json) return json(r);
  out(formatCleanupReport(r));
}

export async function migrateDb(a: MigrateArgs): Promise<void> {
  const { config } = loadLocalConfig(a);
  if (a.status) {
    const s = migrationStatus({ dataDir: config.data_dir });
    if (a.json) return json(s);
    out(`database: ${s.dbFile}${s.exists ? '' : ' (does not exist yet; it is created at the code version)'}`);
    out(`db version: ${s.dbVersion}`);
    out(`code version: ${s.codeVersion}`);
    out(
      `pending: ${s.pending}${s.pending > 0 ? ' (applied by `alter0 db migrate` or at the next start, after a backup)' : ''}`,
    );
    return;
  }
  const r = await migrate({ dataDir: config.data_dir, backupDir: config.backup.dir });
  if (a.json) return json(r);
  if (r.migrated === 0) out(`${r.dbFile} is already at version ${r.to}; nothing to do`);
  else out(`migrated ${r.dbFile} from version ${r.from} to ${r.to}; backup taken first: ${r.backupPath ?? 'none'}`);
}
