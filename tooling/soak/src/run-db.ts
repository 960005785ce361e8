import Database from 'better-sqlite3';

/**
 * The harness's own read-only view of the daemon's database, for the quick reads that sit on the restart path
 * (which jobs a kill left running, whether the jobs of a dead lifetime are still there). They take milliseconds
 * in-process, where a separate process or the restarted daemon's API would take a second under load; the slow
 * checks (integrity_check, db verify) stay in their own process (db-check.ts). Opened on first use; an idle
 * connection holds no read transaction, so it never holds back a checkpoint.
 */
export class RunDb {
  private db: Database.Database | null = null;

  constructor(private readonly file: string) {}

  private open(): Database.Database {
    if (this.db === null) {
      this.db = new Database(this.file, { readonly: true, fileMustExist: true });
      this.db.pragma('busy_timeout = 5000');
    }
    return this.db;
  }

  /** Jobs in state running, with their attempt. */
  running(): { id: string; attempt: number }[] {
    return this.open().prepare(`SELECT id, attempt FROM jobs WHERE state = 'running' ORDER BY id`).all() as {
      id: string;
      attempt: number;
    }[];
  }

  /** The state and attempt of each of `ids` that exists. */
  states(ids: readonly string[]): Map<string, { state: string; attempt: number }> {
    const out = new Map<string, { state: string; attempt: number }>();
    const stmt = this.open().prepare('SELECT state, attempt FROM jobs WHERE id = ?');
    for (const id of ids) {
      const row = stmt.get(id) as { state: string; attempt: number } | undefined;
      if (row) out.set(id, row);
    }
    return out;
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }
}
