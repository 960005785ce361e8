import fs from 'node:fs';
import path from 'node:path';
import type { StatusDocument } from '@alter0/api';
import { ERROR_CLASS_ADVICE, componentAdvice } from '@alter0/api';
import { errorMessage } from '@alter0/core';
import { parseDuration } from '@alter0/config';
import { Store, isDataDirLocked } from '@alter0/store';
import { loadLocalConfig } from '../config-args.js';
import type { DiagnoseArgs } from '../descriptors/diagnose.js';
import { clientFor } from './client.js';
import { output } from '../output.js';

interface FailureGroup {
  component: string;
  class: string;
  count: number;
  last_at: string;
  last_message: string;
  last_job: string;
  hint: string;
}
interface EventGroup {
  component: string;
  kind: string;
  level: string;
  count: number;
  last_at: string;
  last_message: string;
}
interface DiagnoseReport {
  service: { running: boolean; pid: number | null; status: StatusDocument | { error: string } | null };
  failures: FailureGroup[];
  events: EventGroup[];
}

/** `alter0 diagnose`: the service's state, then recent failures and warnings grouped, with hints. */
export async function diagnose(a: DiagnoseArgs): Promise<void> {
  const { config } = loadLocalConfig(a);
  const since = Date.now() - parseDuration(a.since ?? '24h');
  const dbFile = path.join(config.data_dir, 'alter0.db');
  const service = await serviceState(a, config.data_dir);
  const report: DiagnoseReport = { service, failures: [], events: [] };
  if (fs.existsSync(dbFile)) Object.assign(report, readHistory(dbFile, since));
  if (a.json) return output.json(report);
  printReport(report, since);
}

/** Whether the service holds the data directory, and (if it does) its status as it reports it. */
async function serviceState(a: DiagnoseArgs, dataDir: string): Promise<DiagnoseReport['service']> {
  const lock = isDataDirLocked(dataDir);
  const service: DiagnoseReport['service'] = { running: lock.locked, pid: lock.pid, status: null };
  if (lock.locked) {
    try {
      service.status = await clientFor({ config: a.config, data: a.data }).status();
    } catch (err) {
      service.status = { error: errorMessage(err) };
    }
  }
  return service;
}

/** Failed jobs by error class and warn/error events by component and kind since `since`, read-only. */
function readHistory(dbFile: string, since: number): Pick<DiagnoseReport, 'failures' | 'events'> {
  const store = Store.open({ file: dbFile, readonly: true, migrate: false });
  try {
    const failures = store.jobs.failureSummary(since).map((f): FailureGroup => ({
      component: 'executor',
      class: f.errorClass,
      count: f.count,
      last_at: new Date(f.lastAt).toISOString(),
      last_message: f.lastMessage,
      last_job: f.lastJobId,
      hint: ERROR_CLASS_ADVICE[f.errorClass] ?? '',
    }));
    const groups = new Map<string, EventGroup>();
    for (const e of store.events.recent({ since, limit: 5000 })) {
      if (e.level !== 'warn' && e.level !== 'error') continue;
      const k = `${e.component}/${e.kind}`;
      const g = groups.get(k);
      if (g) g.count++;
      else
        groups.set(k, {
          component: e.component,
          kind: e.kind,
          level: e.level,
          count: 1,
          last_at: new Date(e.createdAt).toISOString(),
          last_message: e.message,
        });
    }
    return { failures, events: [...groups.values()] };
  } finally {
    store.close();
  }
}

function printReport(report: DiagnoseReport, since: number): void {
  // Failure messages and hints quote agents (stderr, errors): printed through the sanitizing seam.
  const out = (s: string): void => output.text(s);
  out(
    report.service.running
      ? `service: running (pid ${report.service.pid})`
      : 'service: NOT running (start it with `alter0 serve` or your service manager)',
  );
  const st = report.service.status;
  if (st && 'components' in st) {
    // The same meaning and advice as the console's status page (@alter0/api's componentAdvice).
    for (const [name, c] of Object.entries(st.components)) {
      if (c.state === 'ok') continue;
      const advice = componentAdvice(name, c);
      out(`  ${name}: ${c.state}${c.last_error ? ` — ${c.last_error.message}` : ''}`);
      out(`    ${advice.meaning}${advice.action ? `\n    → ${advice.action}` : ''}`);
    }
  }
  if (report.failures.length === 0 && report.events.length === 0) {
    out(`no failures since ${new Date(since).toISOString()}`);
    return;
  }
  for (const f of report.failures) {
    out(
      `\n[${f.component}] ${f.class}: ${f.count} failed job(s), last ${f.last_at} (job ${f.last_job})\n  ${f.last_message}\n  → ${f.hint}`,
    );
  }
  for (const e of report.events)
    out(`\n[${e.component}] ${e.kind} (${e.level}): ${e.count}×, last ${e.last_at}\n  ${e.last_message}`);
}
