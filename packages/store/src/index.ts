export * from './schema.js';
export { BUSY_TIMEOUT_MS, LOCK_HOLDING_WAIT_MS, openDb, configureConnection } from './db.js';
export type { Drizzle, OpenedDb, OpenDbOptions } from './db.js';
export { MIGRATIONS_FOLDER, codeSchemaVersion, schemaState } from './migrations.js';
export type { SchemaState } from './migrations.js';
export { acquireDataDirLock, isDataDirLocked, lockHolderPid, lockPath } from './lock.js';
export type { DataDirLock } from './lock.js';
export { Store } from './store.js';
export type { CommitCounts } from './tx.js';
export { JobsRepo } from './jobs-repo.js';
export type {
  AcceptInput,
  AcceptResult,
  Accepted,
  Fence,
  JobFilter,
  RecoveryReport,
  RetryResult,
  TimingField,
  Transition,
} from './jobs-repo.js';
export { TasksRepo } from './tasks-repo.js';
export type { CloseDecisionInput, NewTask, RankTextRow, TaskFilter } from './tasks-repo.js';
export { DecisionsRepo } from './decisions-repo.js';
export type { RouteDecisionInput } from './decisions-repo.js';
export { EventsRepo } from './events-repo.js';
export { ChannelsRepo } from './channels-repo.js';
export { OutboxRepo } from './outbox-repo.js';
export type { NoticeInput, OutboxSummary } from './outbox-repo.js';
export { ApprovalsRepo } from './approvals-repo.js';
export { MemoryRepo } from './memory-repo.js';
export { SchedulesRepo } from './schedules-repo.js';
export type { EndedRun, FireResult, Firing, NewSchedule, ScheduleSummary } from './schedules-repo.js';
export type { Decision, NewApproval } from './approvals-repo.js';
export { StatsRepo, alignedStart } from './stats-repo.js';
export type { StatsBucket, StatsFigures, StatsSeries, UsageReport, UsageRow, UsageTotals } from './stats-repo.js';
export { STATS_BACKFILL_MS, STATS_STAGES, rollupStats } from './stats.js';
export type { DepthSample, RollupInput, RollupReport, StatsStage } from './stats.js';
export { RETENTION_TABLES, planRetention, retentionDeleter } from './retention.js';
export type { RetentionCutoffs, RetentionTable } from './retention.js';
export { emptyTableCounts, verifyTables } from './verify-queries.js';
export type { InvariantResult, TableCounts } from './verify-queries.js';
