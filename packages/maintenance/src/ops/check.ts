import Database from 'better-sqlite3';
import { SchemaTooNewError } from '@alter0/core';
import { schemaState } from '@alter0/store';
import type { CheckTask, FileCheck } from '../protocol.js';
import { errorText } from './connection.js';

/** Reports a database file's integrity and schema version; never changes its content. */
export function checkFile(task: CheckTask): FileCheck {
  let db: Database.Database;
  try {
    if (task.live) {
      db = new Database(task.file, { fileMustExist: true, timeout: 10_000 });
      db.pragma('query_only = ON');
    } else {
      db = new Database(task.file, { readonly: true, fileMustExist: true });
    }
  } catch (err) {
    return {
      ok: false,
      problems: [`cannot open ${task.file}: ${errorText(err)}`],
      schema: null,
      schemaError: null,
      schemaTooNew: false,
    };
  }
  try {
    let problems: string[];
    try {
      const pragma = task.level === 'integrity' ? 'integrity_check(50)' : 'quick_check(50)';
      const rows = db.pragma(pragma) as Record<string, unknown>[];
      problems = rows.map((r) => String(Object.values(r)[0])).filter((s) => s !== 'ok');
    } catch (err) {
      // A damaged header or page tree throws instead of reporting rows.
      problems = [errorText(err)];
    }
    let schema: FileCheck['schema'] = null;
    let schemaError: string | null = null;
    let schemaTooNew = false;
    try {
      schema = schemaState(db, task.migrationsFolder);
    } catch (err) {
      schemaError = errorText(err);
      schemaTooNew = err instanceof SchemaTooNewError;
    }
    return { ok: problems.length === 0, problems, schema, schemaError, schemaTooNew };
  } finally {
    db.close();
  }
}
