import type BetterSqlite3 from 'better-sqlite3';

/** Every write transaction is IMMEDIATE: it takes the write lock up front, so it never fails mid-way on upgrade. */
export function immediate<T>(sqlite: BetterSqlite3.Database, fn: () => T): T {
  return sqlite.transaction(fn).immediate();
}
