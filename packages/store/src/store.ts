import fs from 'node:fs';
import { openDb } from './db.js';
import { Commits } from './tx.js';
import type { CommitCounts } from './tx.js';
import type { OpenDbOptions, OpenedDb } from './db.js';
import { JobsRepo } from './jobs-repo.js';
import { TasksRepo } from './tasks-repo.js';
import { DecisionsRepo } from './decisions-repo.js';
import { EventsRepo } from './events-repo.js';
import { ChannelsRepo } from './channels-repo.js';
import { OutboxRepo } from './outbox-repo.js';
import { ApprovalsRepo } from './approvals-repo.js';
import { MemoryRepo } from './memory-repo.js';
import { SchedulesRepo } from './schedules-repo.js';
import { StatsRepo } from './stats-repo.js';

/** The one owner of the database connection; the repositories are its parts. */
export class Store {
  readonly tasks: TasksRepo;
  readonly jobs: JobsRepo;
  readonly decisions: DecisionsRepo;
  readonly events: EventsRepo;
  readonly channels: ChannelsRepo;
  readonly outbox: OutboxRepo;
  readonly approvals: ApprovalsRepo;
  readonly memory: MemoryRepo;
  readonly schedules: SchedulesRepo;
  readonly stats: StatsRepo;
  private closed = false;
  private readonly commits: Commits;

  constructor(
    readonly file: string,
    readonly opened: OpenedDb,
  ) {
    this.commits = new Commits(opened.sqlite);
    this.tasks = new TasksRepo(opened.sqlite, opened.db, this.commits);
    this.channels = new ChannelsRepo(opened.db);
    this.outbox = new OutboxRepo(opened.db, this.commits);
    this.approvals = new ApprovalsRepo(opened.db, this.commits);
    this.memory = new MemoryRepo(opened.sqlite, opened.db, this.commits);
    this.jobs = new JobsRepo(opened.sqlite, opened.db, this.commits, this.channels);
    this.schedules = new SchedulesRepo(opened.db, this.commits, this.jobs);
    this.decisions = new DecisionsRepo(opened.db);
    this.events = new EventsRepo(opened.db);
    this.stats = new StatsRepo(opened.sqlite);
  }

  static open(opts: OpenDbOptions): Store {
    return new Store(opts.file, openDb(opts));
  }

  /** Runs `fn` in one IMMEDIATE transaction (for multi-repository writes). */
  transaction<T>(fn: () => T): T {
    return this.commits.immediate(fn);
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction committed without an fsync: for a running job's progress markers only
   * (route assignment, close decision), never for what a client was told. Why that is safe: `Commits.relaxed` in tx.ts.
   */
  relaxed<T>(fn: () => T): T {
    return this.commits.relaxed(fn);
  }

  /** Commits made through this store since it opened, durable (one fsync each) and relaxed. */
  commitCounts(): CommitCounts {
    return this.commits.snapshot();
  }

  sizes(): { dbBytes: number; walBytes: number } {
    const size = (f: string): number => {
      try {
        return fs.statSync(f).size;
      } catch {
        return 0;
      }
    };
    return { dbBytes: size(this.file), walBytes: size(`${this.file}-wal`) };
  }

  /**
   * The watchdog's check that the database still works: the write lock can be taken now, or another program holds
   * it. The probe does not wait (busy timeout 0): waiting out the 5 s busy timeout on every ping, while another
   * program held the write lock for 10 s, stopped the pings long enough for the watchdog to kill a daemon that was
   * not hung (found by the day soak) — and restarting never frees another program's lock. I/O errors and a
   * read-only file still fail it.
   */
  writable(): boolean {
    const db = this.opened.sqlite;
    const waitMs = this.opened.pragmas.busyTimeoutMs;
    try {
      db.pragma('busy_timeout = 0');
      db.exec('BEGIN IMMEDIATE; ROLLBACK');
      return true;
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
    } finally {
      db.pragma(`busy_timeout = ${waitMs}`);
    }
  }

  quickCheck(): string {
    return String(this.opened.sqlite.pragma('quick_check', { simple: true }));
  }

  /** Checkpoint the WAL into the main file (at shutdown, so a copy of the .db alone is complete). */
  checkpoint(): void {
    this.opened.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opened.sqlite.close();
  }
}
