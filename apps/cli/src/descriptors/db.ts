import type { Argv, CommandModule } from 'yargs';
import { withLocalFlags } from '../local-flags.js';
import type { LocalArgs } from '../local-flags.js';

export type JsonArgs = LocalArgs & { json?: boolean };
export type BackupArgs = JsonArgs & { keep?: number; dir?: string };
export type RestoreArgs = JsonArgs & { file: string };
export type CleanupArgs = JsonArgs & { 'dry-run'?: boolean };
export type MigrateArgs = JsonArgs & { status?: boolean };

function withJson<T>(y: Argv<T>): Argv<T & JsonArgs> {
  return withLocalFlags(y).option('json', { type: 'boolean', describe: 'print the result as JSON' });
}

const backupCommand: CommandModule<object, BackupArgs> = {
  command: 'backup',
  describe: 'take an online backup now (safe while alter0 runs), verify it and prune old ones',
  builder: (y) =>
    withJson(y)
      .option('keep', { type: 'number', describe: 'backups to keep (default backup.keep)' })
      .option('dir', { type: 'string', describe: 'where to write it (default backup.dir)' }),
  handler: async (a) => (await import('../commands/db.js')).backupDb(a),
};

const restoreCommand: CommandModule<object, RestoreArgs> = {
  command: 'restore <file>',
  describe: 'replace the database with a backup (alter0 must be stopped); the current one is kept aside',
  builder: (y) => withJson(y).positional('file', { type: 'string', demandOption: true, describe: 'the backup file' }),
  handler: async (a) => (await import('../commands/db.js')).restoreDb(a),
};

const verifyCommand: CommandModule<object, JsonArgs> = {
  command: 'verify',
  describe:
    "check the database: integrity, foreign keys, schema version and alter0's invariants (exit 1 on any failure)",
  builder: (y) => withJson(y),
  handler: async (a) => (await import('../commands/db.js')).verifyDb(a),
};

const cleanupCommand: CommandModule<object, CleanupArgs> = {
  command: 'cleanup',
  describe: 'apply the retention settings now (safe while alter0 runs); --dry-run only counts',
  builder: (y) =>
    withJson(y).option('dry-run', { type: 'boolean', describe: 'count what would be deleted; delete nothing' }),
  handler: async (a) => (await import('../commands/db.js')).cleanupDb(a),
};

const migrateCommand: CommandModule<object, MigrateArgs> = {
  command: 'migrate',
  describe: 'apply pending schema migrations after a backup (alter0 must be stopped); --status only reports',
  builder: (y) =>
    withJson(y).option('status', {
      type: 'boolean',
      describe: 'print the database and code schema versions and what is pending',
    }),
  handler: async (a) => (await import('../commands/db.js')).migrateDb(a),
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
