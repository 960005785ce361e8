import fs from 'node:fs';
import { Alter0Error } from '@alter0/core';
import type { VerifyReport } from './protocol.js';
import { withPool } from './pool.js';
import type { MaintenancePool } from './pool.js';

export interface VerifyOptions {
  dbFile: string;
  /** Whether a process holds the data directory's lock (`isDataDirLocked(dataDir).locked` from @alter0/store). */
  lockHeld: boolean;
  signal?: AbortSignal;
  pool?: MaintenancePool;
  busyTimeoutMs?: number;
}

/** integrity_check, foreign_key_check, schema version and alter0's invariants, on a worker thread. */
export async function verify(opts: VerifyOptions): Promise<VerifyReport> {
  if (!fs.existsSync(opts.dbFile)) {
    throw new Alter0Error(
      'not_found',
      `there is no database at ${opts.dbFile}; check --data (or data_dir in the config)`,
    );
  }
  return withPool(opts.pool, (pool) =>
    pool.run(
      { op: 'verify', dbFile: opts.dbFile, lockHeld: opts.lockHeld, busyTimeoutMs: opts.busyTimeoutMs ?? 10_000 },
      opts.signal,
    ),
  );
}

/** The report as text: one line per check, then the counts. */
export function formatVerifyReport(r: VerifyReport): string {
  const mark = (ok: boolean): string => (ok ? 'ok  ' : 'FAIL');
  const lines = [
    `database ${r.file} (${r.lockHeld ? 'in use by a running alter0' : 'not in use'}), checked in ${r.ms} ms`,
  ];
  lines.push(
    `${mark(r.integrity.ok)}  integrity_check${r.integrity.ok ? '' : `: ${r.integrity.messages.slice(0, 10).join('; ')}`}`,
  );
  lines.push(
    `${mark(r.foreignKeys.ok)}  foreign_key_check` +
      (r.foreignKeys.ok
        ? ''
        : r.foreignKeys.error !== null
          ? `: ${r.foreignKeys.error}`
          : `: ${r.foreignKeys.count} row(s) point at missing parents, e.g. ${r.foreignKeys.examples
              .map((e) => `${e.table} rowid ${e.rowid ?? '?'} -> ${e.parent}`)
              .join(', ')}`),
  );
  lines.push(
    `${mark(r.schema.ok)}  schema` +
      (r.schema.state
        ? ` version ${r.schema.state.dbVersion} (code ${r.schema.state.codeVersion}, ${r.schema.state.pending} pending)`
        : `: ${r.schema.error ?? 'unknown'}`),
  );
  for (const i of r.invariants) {
    lines.push(`${mark(i.ok)}  ${i.name}${i.ok ? '' : `: ${i.count} — ${i.detail} e.g. ${i.examples.join(', ')}`}`);
  }
  const jobs = Object.entries(r.counts.jobs)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const tasks = Object.entries(r.counts.tasks)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  lines.push(`jobs: ${jobs}`, `tasks: ${tasks}`, `messages: ${r.counts.messages}, events: ${r.counts.events}`);
  lines.push(r.ok ? 'verify: ok' : 'verify: FAILED (see the FAIL lines above)');
  return lines.join('\n');
}
