import type BetterSqlite3 from 'better-sqlite3';

/** How many transactions this connection committed, by durability (outermost commits only). */
export interface CommitCounts {
  /** Committed with synchronous=FULL: an fsync of the WAL each. */
  durable: number;
  /** Committed without an fsync (progress markers of running jobs; see `Commits.relaxed`). */
  relaxed: number;
}

/**
 * The one way the daemon's connection writes: every write transaction is IMMEDIATE (it takes the write lock up
 * front, so it never fails mid-way on upgrade), and is either durable or relaxed. Counts what it committed, so the
 * cost of a job in fsyncs is a number the tests and the metrics can read.
 */
export class Commits {
  private readonly counts: CommitCounts = { durable: 0, relaxed: 0 };

  constructor(private readonly sqlite: BetterSqlite3.Database) {}

  /** A durable transaction (synchronous=FULL, the connection's setting): for all a client was told. */
  immediate<T>(fn: () => T): T {
    if (this.sqlite.inTransaction) return this.sqlite.transaction(fn).immediate();
    const out = this.sqlite.transaction(fn).immediate();
    this.counts.durable++;
    return out;
  }

  /**
   * A transaction committed without an fsync (`synchronous = NORMAL` for this commit only; the connection stays
   * FULL for every other one). For progress markers of a running job only — its claim, stage, timings, route
   * assignment, close decision — never for what a client was told (an accept, a reply, an outcome).
   *
   * Why losing one is safe (docs/architecture.md, invariant 12): a kill -9 loses nothing either way (the commit is
   * in the OS's page cache); only a power cut or a kernel crash can roll back the commits made since the last fsync
   * of the WAL. The WAL is appended in commit order and every durable commit fsyncs the whole file, so what can be
   * lost is only a tail of relaxed commits after the last durable one: a running job's markers, which boot recovery
   * treats as a job that was running. Nested inside another transaction it is a savepoint of that transaction and
   * takes the outer commit's durability.
   */
  relaxed<T>(fn: () => T): T {
    if (this.sqlite.inTransaction) return this.sqlite.transaction(fn).immediate();
    // Not a statement prepared once: SQLite applies this pragma when the statement is compiled, not when it runs.
    this.sqlite.pragma('synchronous = NORMAL');
    try {
      const out = this.sqlite.transaction(fn).immediate();
      this.counts.relaxed++;
      return out;
    } finally {
      this.sqlite.pragma('synchronous = FULL');
    }
  }

  snapshot(): CommitCounts {
    return { ...this.counts };
  }
}
