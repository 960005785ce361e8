import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
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
import { loadLocalConfig, withLocalFlags } from '../config-args.js';
import type { LocalArgs } from '../config-args.js';
import { EXIT } from '../exit-codes.js';

type JsonArgs = LocalArgs & { json?: boolean };

const out = (s: string): void => {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};
const json = (v: unknown): void => out(JSON.stringify(v, null, 2));
const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

function withJson<T>(y: Argv<T>): Argv<T & JsonArgs> {
  return withLocalFlags(y).option('json', { type: 'boolean', describe: 'print the result as JSON' });
}

const backupCommand: CommandModule<object, JsonArgs & { keep?: number; dir?: string }> = {
  command: 'backup',
  describe: 'take an online backup now (safe while alter0 runs), verify it and prune old ones',
  builder: (y) =>
    withJson(y)
      .option('keep', { type: 'number', describe: 'backups to keep (default backup.keep)' })
      .option('dir', { type: 'string', describe: 'where to write it (default backup.dir)' }),
  handler: async (a) => {
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
  },
};

const restoreCommand: CommandModule<object, JsonArgs & { file: string }> = {
  command: 'restore <file>',
  describe: 'replace the database with a backup (alter0 must be stopped); the current one is kept aside',
  builder: (y) => withJson(y).positional('file', { type: 'string', demandOption: true, describe: 'the backup file' }),
  handler: async (a) => {
    const { config } = loadLocalConfig(a);
    const r = await restore({ dataDir: config.data_dir, file: a.file, backupDir: config.backup.dir, keep: config.backup.keep });
    if (a.json) return json(r);
    out(`restored ${path.resolve(a.file)} into ${r.dbFile} (schema version ${r.schemaVersion}, ${r.ms} ms)`);
    if (r.replacedPath) out(`the replaced database is kept as ${r.replacedPath}`);
    if (r.preRestoreBackup) out(`and backed up as ${r.preRestoreBackup}`);
    for (const w of r.warnings) out(`warning: ${w}`);
    out('start alter0 again to use it');
  },
};

const verifyCommand: CommandModule<object, JsonArgs> = {
  command: 'verify',
  describe: "check the database: integrity, foreign keys, schema version and alter0's invariants (exit 1 on any failure)",
  builder: (y) => withJson(y),
  handler: async (a) => {
    const { config } = loadLocalConfig(a);
    const lock = isDataDirLocked(config.data_dir);
    const r = await verify({ dbFile: dbFileFor(config.data_dir), lockHeld: lock.locked });
    if (a.json) json(r);
    else out(formatVerifyReport(r));
    if (!r.ok) process.exitCode = EXIT.failure;
  },
};

const cleanupCommand: CommandModule<object, JsonArgs & { 'dry-run'?: boolean }> = {
  command: 'cleanup',
  describe: 'apply the retention settings now (safe while alter0 runs); --dry-run only counts',
  builder: (y) =>
    withJson(y).option('dry-run', { type: 'boolean', describe: 'count what would be deleted; delete nothing' }),
  handler: async (a) => {
    const { config } = loadLocalConfig(a);
    const r = await cleanup({
      dbFile: dbFileFor(config.data_dir),
      now: Date.now(),
      retention: retentionFromConfig(config),
      dryRun: a['dry-run'] === true,
    });
    if (a.json) return json(r);
    out(formatCleanupReport(r));
  },
};

const migrateCommand: CommandModule<object, JsonArgs & { status?: boolean }> = {
  command: 'migrate',
  describe: 'apply pending schema migrations after a backup (alter0 must be stopped); --status only reports',
  builder: (y) =>
    withJson(y).option('status', { type: 'boolean', describe: 'print the database and code schema versions and what is pending' }),
  handler: async (a) => {
    const { config } = loadLocalConfig(a);
    if (a.status) {
      const s = migrationStatus({ dataDir: config.data_dir });
      if (a.json) return json(s);
      out(`database: ${s.dbFile}${s.exists ? '' : ' (does not exist yet; it is created at the code version)'}`);
      out(`db version: ${s.dbVersion}`);
      out(`code version: ${s.codeVersion}`);
      out(`pending: ${s.pending}${s.pending > 0 ? ' (applied by `alter0 db migrate` or at the next start, after a backup)' : ''}`);
      return;
    }
    const r = await migrate({ dataDir: config.data_dir, backupDir: config.backup.dir });
    if (a.json) return json(r);
    if (r.migrated === 0) out(`${r.dbFile} is already at version ${r.to}; nothing to do`);
    else out(`migrated ${r.dbFile} from version ${r.from} to ${r.to}; backup taken first: ${r.backupPath ?? 'none'}`);
  },
};

export const dbCommand: CommandModule = {
  command: 'db <command>',
  describe: 'database maintenance: backup, restore, verify, cleanup, migrate',
  builder: (y) =>
    y
      .command(backupCommand as never)
      .command(restoreCommand as never)
      .command(verifyCommand as never)
      .command(cleanupCommand as never)
      .command(migrateCommand as never)
      .demandCommand(1, 'name a db command: backup, restore, verify, cleanup or migrate'),
  handler: () => undefined,
};
