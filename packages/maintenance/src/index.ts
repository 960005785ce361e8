export { MaintenancePool, withPool } from './pool.js';
export type { MaintenancePoolOptions } from './pool.js';
export { backup, listBackups, lastBackupAt, pruneBackups, BACKUP_REASONS } from './backup.js';
export type { BackupOptions, BackupResult, BackupFile, BackupReason } from './backup.js';
export { verify, formatVerifyReport } from './verify.js';
export type { VerifyOptions } from './verify.js';
export { cleanup, retentionFromConfig, formatCleanupReport } from './cleanup.js';
export type { CleanupOptions } from './cleanup.js';
export { checkpointWal } from './checkpoint.js';
export { restore } from './restore.js';
export type { RestoreOptions, RestoreResult } from './restore.js';
export { migrate, migrationStatus } from './migrate.js';
export type { MigrateResult, MigrationStatus } from './migrate.js';
export { startScheduler } from './scheduler.js';
export type { ScheduledJob, Scheduler, SchedulerOptions, ScheduledJobStatus } from './scheduler.js';
export { backupJob, retentionJob, checkpointJob, statsRollupJob, maintenanceJobs, DAY_MS, HOUR_MS } from './jobs.js';
export { statsRollup } from './stats-rollup.js';
export { preflight, formatChecks, preflightExitCode, checkPermissions, CONFIG_CHECKS, MIB } from './preflight.js';
export { otherLoginUsers } from './login-users.js';
export { tightenDataDir, privateDir, privateFile, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-files.js';
export type { TightenResult } from './private-files.js';
export type { CheckResult, PreflightOptions } from './preflight.js';
export { dbFileFor } from './paths.js';
export { BackupError, RestoreError } from './errors.js';
export { CLEANUP_TABLES } from './protocol.js';
export type {
  CheckpointResult,
  CleanupReport,
  CleanupTable,
  FileCheck,
  InvariantResult,
  Retention,
  StatsRollupResult,
  VerifyReport,
} from './protocol.js';
