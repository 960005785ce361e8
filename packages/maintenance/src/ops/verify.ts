import { performance } from 'node:perf_hooks';
import type BetterSqlite3 from 'better-sqlite3';
import { emptyTableCounts, schemaState, verifyTables } from '@alter0/store';
import type { InvariantResult } from '@alter0/store';
import type { VerifyReport, VerifyTask } from '../protocol.js';
import { errorText, openLive } from './connection.js';

/*
 * SQLite's own checks (integrity_check, foreign_key_check: about the file, not alter0's tables) run here; the
 * queries on alter0's tables (invariants, counts) are the store's verifyTables.
 */

/** Offending rows shown per failed check. */
const EXAMPLES = 10;

/** integrity_check, foreign_key_check, schema version and alter0's invariants, in one read snapshot. */
export function verifyDatabase(task: VerifyTask): VerifyReport {
  const started = performance.now();
  let db: BetterSqlite3.Database;
  try {
    db = openLive(task.dbFile, task.busyTimeoutMs);
    try {
      // Opening is lazy: reading the schema is what fails on a file that is not a database.
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (err) {
      db.close();
      throw err;
    }
  } catch (err) {
    // Not a database at all (garbage header, truncated file): report it like any integrity failure.
    return unreadable(task, errorText(err), started);
  }
  try {
    const integrity = integrityOf(db);
    const foreignKeys = foreignKeysOf(db);
    let schema: VerifyReport['schema'];
    try {
      schema = { ok: true, state: schemaState(db, task.migrationsFolder), error: null };
    } catch (err) {
      schema = { ok: false, state: null, error: errorText(err) };
    }
    let invariants: InvariantResult[];
    let counts: VerifyReport['counts'];
    try {
      ({ invariants, counts } = verifyTables(db, { lockHeld: task.lockHeld }));
    } catch (err) {
      // A damaged table can make these queries fail: that is a finding, not a crash.
      invariants = [
        {
          name: 'invariants readable',
          ok: false,
          count: 0,
          detail: `the checks could not read the tables: ${errorText(err)}`,
          examples: [],
        },
      ];
      counts = emptyTableCounts();
    }
    const ok = integrity.ok && foreignKeys.ok && schema.ok && invariants.every((i) => i.ok);
    return {
      ok,
      file: task.dbFile,
      lockHeld: task.lockHeld,
      integrity,
      foreignKeys,
      schema,
      invariants,
      counts,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    db.close();
  }
}

function unreadable(task: VerifyTask, message: string, started: number): VerifyReport {
  return {
    ok: false,
    file: task.dbFile,
    lockHeld: task.lockHeld,
    integrity: { ok: false, messages: [`cannot open the database: ${message}`] },
    foreignKeys: { ok: false, count: 0, examples: [], error: 'not checked: the database cannot be opened' },
    schema: { ok: false, state: null, error: 'not read: the database cannot be opened' },
    invariants: [],
    counts: emptyTableCounts(),
    ms: Math.round(performance.now() - started),
  };
}

function integrityOf(db: BetterSqlite3.Database): VerifyReport['integrity'] {
  try {
    const rows = db.pragma('integrity_check(100)') as Record<string, unknown>[];
    const messages = rows.map((r) => String(Object.values(r)[0])).filter((s) => s !== 'ok');
    return { ok: messages.length === 0, messages };
  } catch (err) {
    return { ok: false, messages: [errorText(err)] };
  }
}

function foreignKeysOf(db: BetterSqlite3.Database): VerifyReport['foreignKeys'] {
  let rows: { table: string; rowid: number | null; parent: string }[];
  try {
    rows = db.pragma('foreign_key_check') as typeof rows;
  } catch (err) {
    return { ok: false, count: 0, examples: [], error: errorText(err) };
  }
  return {
    ok: rows.length === 0,
    count: rows.length,
    examples: rows.slice(0, EXAMPLES).map((r) => ({ table: r.table, rowid: r.rowid, parent: r.parent })),
    error: null,
  };
}
