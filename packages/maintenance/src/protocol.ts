import { RETENTION_TABLES } from '@alter0/store';
import type {
  DepthSample,
  InvariantResult,
  RetentionTable,
  RollupReport,
  SchemaState,
  TableCounts,
} from '@alter0/store';

/*
 * The messages between the main thread and the maintenance worker. Everything crossing the boundary is
 * plain data (structured clone), so expected failures come back as fields, not as thrown error classes.
 */

export interface CopyTask {
  op: 'copy';
  dbFile: string;
  /** Where `VACUUM INTO` writes; must not exist. */
  dest: string;
  busyTimeoutMs: number;
}
export interface CopyResult {
  bytes: number;
}

export interface CheckTask {
  op: 'check';
  file: string;
  /** integrity_check reads every page; quick_check skips index/content cross-checks and is much faster. */
  level: 'integrity' | 'quick';
  /**
   * The file is a live database (possibly in WAL mode, possibly in use): open it read-write with query_only, so
   * no -wal/-shm files are left behind (a read-only connection cannot remove them, and files left by root would
   * lock the service out). False for backup files, which are opened read-only.
   */
  live?: boolean;
  migrationsFolder?: string;
}
export interface FileCheck {
  ok: boolean;
  /** What integrity_check/quick_check (or opening the file) reported, when not ok. */
  problems: string[];
  /** Null when the schema could not be read (see schemaError). */
  schema: SchemaState | null;
  schemaError: string | null;
  /** The file was written by a newer alter0 (SchemaTooNewError in the store). */
  schemaTooNew: boolean;
}

export interface VerifyTask {
  op: 'verify';
  dbFile: string;
  /** Whether some process holds the data directory's lock (a running job is only legitimate then). */
  lockHeld: boolean;
  busyTimeoutMs: number;
  migrationsFolder?: string;
}

export type { InvariantResult };

export interface VerifyReport {
  ok: boolean;
  file: string;
  lockHeld: boolean;
  integrity: { ok: boolean; messages: string[] };
  foreignKeys: {
    ok: boolean;
    count: number;
    examples: { table: string; rowid: number | null; parent: string }[];
    error: string | null;
  };
  schema: { ok: boolean; state: SchemaState | null; error: string | null };
  invariants: InvariantResult[];
  counts: TableCounts;
  ms: number;
}

/** Ages in milliseconds, named like the `retention` config table. */
export interface Retention {
  closed_tasks: number;
  decisions: number;
  events: number;
  finished_jobs: number;
  /** The owner's unpinned notes unchanged for this long; null: kept until the owner removes them. */
  memory: number | null;
  /** The hourly stats and usage history, by the hour it describes. */
  stats: number;
}

export interface CleanupTask {
  op: 'cleanup';
  dbFile: string;
  now: number;
  retention: Retention;
  dryRun: boolean;
  batchSize: number;
  /** Sleep between write transactions so the daemon's own writers get the lock. */
  pauseMs: number;
  busyTimeoutMs: number;
}

/** The tables retention deletes from, in deletion order (the store's RETENTION_TABLES). */
export const CLEANUP_TABLES = RETENTION_TABLES;
export type CleanupTable = RetentionTable;

export interface CleanupReport {
  dryRun: boolean;
  /** Rows deleted (or, in a dry run, that would be) per table. */
  counts: Record<CleanupTable, number>;
  /** Rows planned but kept because they changed meanwhile (a task reopened, a job retried). */
  skipped: number;
  transactions: number;
  /** Epoch ms: what is older goes (memory null: notes never age out). */
  cutoffs: {
    closed_tasks: number;
    decisions: number;
    events: number;
    finished_jobs: number;
    memory: number | null;
    stats: number;
  };
  ms: number;
}

export interface CheckpointTask {
  op: 'checkpoint';
  dbFile: string;
  busyTimeoutMs: number;
}
export interface CheckpointResult {
  /** 1 when readers kept the checkpoint from finishing (it is retried next time). */
  busy: number;
  logFrames: number;
  checkpointedFrames: number;
}

export interface StatsRollupTask {
  op: 'stats_rollup';
  dbFile: string;
  now: number;
  /** The daemon's queue depth samples since about the last run. */
  samples: DepthSample[];
  busyTimeoutMs: number;
}
export type StatsRollupResult = RollupReport & { ms: number };

export type WorkerTask = CopyTask | CheckTask | VerifyTask | CleanupTask | CheckpointTask | StatsRollupTask;

export interface WorkerResults {
  copy: CopyResult;
  check: FileCheck;
  verify: VerifyReport;
  cleanup: CleanupReport;
  checkpoint: CheckpointResult;
  stats_rollup: StatsRollupResult;
}
