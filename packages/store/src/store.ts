import fs from 'node:fs';
import { openDb } from './db.js';
import type { OpenDbOptions, OpenedDb } from './db.js';
import { JobsRepo } from './jobs-repo.js';
import { TasksRepo } from './tasks-repo.js';
import { DecisionsRepo } from './decisions-repo.js';
import { EventsRepo } from './events-repo.js';

/** The one owner of the database connection; the repositories are its parts. */
export class Store {
  readonly tasks: TasksRepo;
  readonly jobs: JobsRepo;
  readonly decisions: DecisionsRepo;
  readonly events: EventsRepo;
  private closed = false;

  constructor(
    readonly file: string,
    readonly opened: OpenedDb,
  ) {
    this.tasks = new TasksRepo(opened.sqlite, opened.db);
    this.jobs = new JobsRepo(opened.sqlite, opened.db);
    this.decisions = new DecisionsRepo(opened.db);
    this.events = new EventsRepo(opened.db);
  }

  static open(opts: OpenDbOptions): Store {
    return new Store(opts.file, openDb(opts));
  }

  /** Runs `fn` in one IMMEDIATE transaction (for multi-repository writes). */
  transaction<T>(fn: () => T): T {
    return this.opened.sqlite.transaction(fn).immediate();
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

  /** True when the write lock can be taken now (the watchdog's check that the database still works). */
  writable(): boolean {
    try {
      this.opened.sqlite.exec('BEGIN IMMEDIATE; ROLLBACK');
      return true;
    } catch {
      return false;
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
