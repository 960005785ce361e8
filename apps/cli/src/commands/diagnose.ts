import fs from 'node:fs';
import path from 'node:path';
import type { ErrorClass } from '@alter0/core';
import type { StatusDocument } from '@alter0/api';
import { errorMessage } from '@alter0/core';
import { parseDuration } from '@alter0/config';
import { Store, isDataDirLocked } from '@alter0/store';
import { loadLocalConfig } from '../config-args.js';
import type { DiagnoseArgs } from '../descriptors/diagnose.js';
import { clientFor } from './client.js';
import { output } from '../output.js';

/** What to do about each class of executor failure (docs/operations.md has the full runbook). */
export const HINTS: Record<ErrorClass, string> = {
  auth: 'the agent CLI is not logged in or its key was refused: log in as the user the service runs as (`claude`, `codex login`) and retry the jobs',
  rate_limited:
    'the model provider is rate limiting: alter0 retries with backoff; lower queue.*_workers or wait for the quota to reset',
  unavailable:
    'the provider or the network is down or overloaded: alter0 retries; check connectivity from this machine',
  timeout:
    'jobs ran past queue.job_timeout_s (or the router/closer timeout): raise it for long work, or look for an agent that hangs',
  not_found: 'the agent CLI is not on the service PATH: install it or set executor.<kind>.bin to its absolute path',
  exit: 'the agent CLI exited with an error: read the stderr tail with `alter0 job <id>`',
  bad_output: 'the agent CLI printed output alter0 cannot parse: compare its version with docs/executors.md',
  canceled: 'canceled by the owner or by a shutdown: retry them if they are still wanted',
  internal: 'interrupted by a crash or an alter0 bug: see `alter0 logs --level error` and retry the jobs',
};

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
      hint: HINTS[f.errorClass] ?? '',
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
    for (const [name, c] of Object.entries(st.components)) {
      if (c.state !== 'ok') out(`  ${name}: ${c.state}${c.last_error ? ` — ${c.last_error.message}` : ''}`);
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
