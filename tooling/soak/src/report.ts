import { killPlan } from './options.js';
import type { Bounds } from './options.js';
import { FAULT_KINDS } from './plan.js';
import type { FaultKind } from './plan.js';
import type { SoakResult, Violation, ViolationKind } from './result.js';
import { VIOLATION_KINDS } from './result.js';
import {
  afterWarmup,
  coveredMs,
  floorPerWindow,
  pooledSlopePerHour,
  slopePerHour,
  splitAtPauses,
  summarize,
} from './stats.js';
import type { Point, Summary } from './stats.js';

interface ResourceRow {
  name: string;
  unit: string;
  summary: Summary;
  /** Per hour; null when there are too few points. */
  slope: number | null;
  slopeHow: string;
  /** Post-warm-up observation the slope was fitted over. */
  windowMs: number;
  bound: string;
  verdict: 'ok' | 'exceeded' | 'not judged';
  note: string;
}

interface Evaluation {
  resources: ResourceRow[];
  /** Violations of the resource bounds (added to the run's). */
  violations: Violation[];
}

/** After SIGCONT, the burst of what the kernel queued meanwhile is left out of slopes for this long (stats.ts). */
const PAUSE_SETTLE_MS = 2 * 60_000;
/** Floors are taken over windows of 12 samples, at least 1 minute. */
const floorWindowMs = (sampleEveryMs: number): number => Math.max(60_000, 12 * sampleEveryMs);

const fmt = (x: number | null, digits = 1): string => (x === null ? 'n/a' : x.toFixed(digits));
// Rounded down, so a window just short of the minimum never prints as equal to it.
const mins = (ms: number): string => `${(Math.floor(ms / 6_000) / 10).toFixed(1)} min`;

/**
 * Judges the resource curves against the bounds. Maxima are always judged; slopes only over at least
 * `minSlopeWindowMs` of post-warm-up observation, since a slope fitted over seconds extrapolated to an hour is
 * noise (a short CI soak reports them, marked "not judged").
 */
function evaluate(r: SoakResult): Evaluation {
  const b: Bounds = r.options.bounds;
  const out: Evaluation = { resources: [], violations: [] };
  const loadPhase = (ps: Point[]): Point[] => ps.filter((p) => r.loadEndedAt === 0 || p.t <= r.loadEndedAt);
  const runWarm = (ps: Point[]): Point[] => ps.filter((p) => p.t - r.startedAt >= b.warmupMs);
  const row = (
    name: string,
    unit: string,
    all: Point[],
    fitted: Point[],
    perLifetime: boolean,
    slopeBound: number | null,
    maxBound: number | null,
  ): void => judgeResource(r, out, { name, unit, all, fitted, perLifetime, slopeBound, maxBound });

  const s = r.samples;
  const pauses = r.moments.flatMap((m) => (m.pause === undefined ? [] : [m.pause]));
  const floors = (ps: Point[]): Point[] =>
    splitAtPauses(
      floorPerWindow(afterWarmup(ps, b.warmupMs), floorWindowMs(r.options.sampleEveryMs)),
      pauses,
      PAUSE_SETTLE_MS,
    );
  // RSS is judged by its maximum; its slope by parts: what V8 manages (heap in use) and what it does not (native).
  row('daemon RSS', 'MB', s.rssMb, floors(s.rssMb), true, null, b.maxRssMb);
  row(
    'daemon native memory (RSS less V8 heaps)',
    'MB',
    s.nativeMb,
    floors(s.nativeMb),
    true,
    b.nativeSlopeMbPerH,
    null,
  );
  row(
    'daemon V8 heaps committed (both isolates)',
    'MB',
    s.heapCommittedMb,
    floors(s.heapCommittedMb),
    true,
    null,
    null,
  );
  row('daemon V8 heap used', 'MB', s.heapMb, floors(s.heapMb), true, b.heapSlopeMbPerH, null);
  // Reported only: the worker starts when the router's pool outgrows inline ranking and ends after a minute idle.
  row('candidates worker V8 heap used', 'MB', s.workerHeapMb, floors(s.workerHeapMb), true, null, null);
  row('daemon open fds', 'fds', s.fds, floors(s.fds), true, b.fdSlopePerH, b.maxFds);
  row('WAL size', 'MB', s.walMb, runWarm(loadPhase(s.walMb)), false, b.walSlopeMbPerH, b.maxWalMb);
  row('queue depth', 'jobs', s.queueDepth, runWarm(loadPhase(s.queueDepth)), false, b.queueSlopePerH, null);
  row('database size', 'MB', s.dbMb, runWarm(loadPhase(s.dbMb)), false, null, null);
  row('open tasks', 'tasks', s.openTasks, runWarm(loadPhase(s.openTasks)), false, null, null);
  row('agent processes', 'procs', s.agents, runWarm(loadPhase(s.agents)), false, null, null);
  judgeDatabaseGrowth(r, out);
  return out;
}

interface ResourceCurve {
  name: string;
  unit: string;
  /** Every sample (for min, median, max). */
  all: Point[];
  /** The samples the slope is fitted to. */
  fitted: Point[];
  /** Fit one intercept per daemon lifetime (floors), rather than one line over the load phase. */
  perLifetime: boolean;
  slopeBound: number | null;
  maxBound: number | null;
}

/** One resource's row: its figures, and its maximum and slope judged against their bounds. */
function judgeResource(r: SoakResult, out: Evaluation, c: ResourceCurve): void {
  const b = r.options.bounds;
  const { name, unit, fitted, perLifetime, slopeBound, maxBound } = c;
  const summary = summarize(c.all.map((p) => p.v));
  const slope = perLifetime ? pooledSlopePerHour(fitted) : slopePerHour(fitted);
  const windowMs = perLifetime
    ? coveredMs(fitted)
    : fitted.length > 1
      ? (fitted[fitted.length - 1]?.t ?? 0) - (fitted[0]?.t ?? 0)
      : 0;
  const parts: string[] = [];
  let verdict: ResourceRow['verdict'] = 'ok';
  const notes: string[] = [];
  if (maxBound !== null) {
    parts.push(`max ≤ ${maxBound} ${unit}`);
    if (summary.max !== null && summary.max > maxBound) {
      verdict = 'exceeded';
      out.violations.push({
        kind: 'resource_bound',
        at: r.endedAt,
        detail: `${name}: max ${fmt(summary.max)} ${unit} is above the bound of ${maxBound} ${unit}`,
      });
    }
  }
  if (slopeBound !== null) {
    parts.push(`slope ≤ ${slopeBound} ${unit}/h`);
    if (windowMs < b.minSlopeWindowMs || slope === null) {
      if (verdict === 'ok') verdict = 'not judged';
      notes.push(`slope not judged: ${mins(windowMs)} observed after warm-up, ${mins(b.minSlopeWindowMs)} needed`);
    } else if (slope > slopeBound) {
      verdict = 'exceeded';
      out.violations.push({
        kind: 'resource_bound',
        at: r.endedAt,
        detail: `${name}: grows ${fmt(slope, 2)} ${unit}/h over ${mins(windowMs)}, above the bound of ${slopeBound} ${unit}/h`,
      });
    }
  }
  out.resources.push({
    name,
    unit,
    summary,
    slope,
    slopeHow: perLifetime ? 'floor, within daemon lifetimes, after warm-up' : 'load phase, after warm-up',
    windowMs,
    bound: parts.length > 0 ? parts.join(', ') : 'reported only',
    verdict: parts.length > 0 ? verdict : 'ok',
    note: notes.join('; '),
  });
}

/** The database only grows (retention keeps 30 days): judge its growth per accepted job instead of per hour. */
function judgeDatabaseGrowth(r: SoakResult, out: Evaluation): void {
  const b = r.options.bounds;
  const db = out.resources.find((x) => x.name === 'database size');
  const first = r.samples.dbMb[0]?.v ?? 0;
  const perJobKb = r.accepted > 0 ? ((r.dbBytesEnd / 2 ** 20 - first) * 1024) / r.accepted : null;
  if (db) {
    db.bound = `growth ≤ ${b.maxDbKbPerJob} KB per accepted job`;
    db.note =
      perJobKb === null ? 'no jobs accepted' : `${perJobKb.toFixed(2)} KB per accepted job (database + WAL at the end)`;
    if (perJobKb !== null && perJobKb > b.maxDbKbPerJob) {
      db.verdict = 'exceeded';
      out.violations.push({
        kind: 'resource_bound',
        at: r.endedAt,
        detail: `database grew ${perJobKb.toFixed(1)} KB per accepted job, above the bound of ${b.maxDbKbPerJob} KB`,
      });
    }
  }
}

/** Fills the template's {{name}} placeholders; every placeholder must be known and every value used. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const used = new Set<string>();
  const text = template.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`the soak report template has an unknown placeholder {{${name}}}`);
    used.add(name);
    return v;
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0)
    throw new Error(`the soak report template lacks the placeholders ${unused.map((k) => `{{${k}}}`).join(', ')}`);
  return text;
}

const table = (head: string[], rows: (string | number)[][]): string =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join(
    '\n',
  );

const dur = (ms: number): string => {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m ${s % 60}s` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
};

export interface Rendered {
  markdown: string;
  violations: Violation[];
  passed: boolean;
  /** The machine-readable summary (also at the end of the Markdown). */
  summary: ReportSummary;
}

type ReportSummary = ReturnType<typeof summaryOf>;

export function renderReport(r: SoakResult, template: string, now = Date.now()): Rendered {
  const ev = evaluate(r);
  const violations = [...r.violations, ...ev.violations];
  const reasons = failReasons(r, violations);
  const passed = reasons.length === 0;
  const byKind = Object.fromEntries(
    VIOLATION_KINDS.map((k) => [k, violations.filter((v) => v.kind === k).length]),
  ) as Record<ViolationKind, number>;
  const summary = summaryOf(r, ev, { passed, violations, byKind });
  const values: Record<string, string> = {
    verdict: passed ? 'PASS' : 'FAIL',
    verdict_reasons: passed
      ? 'No invariant violation, no resource bound exceeded, the queue drained.'
      : reasons.map((x) => `- ${x}`).join('\n'),
    generated_at: new Date(now).toISOString(),
    config_table: configTable(r),
    duration_table: durationTable(r),
    requests_table: table(
      ['request', 'sent', '2xx', 'refused (4xx/5xx)', 'connection errors'],
      Object.entries(r.requests).map(([k, v]) => [k, v.sent, v.accepted, v.refused, v.errors]),
    ),
    outcomes_table: outcomesTable(r),
    faults_table: table(
      ['fault', 'messages planned', 'injected by the agent', 'what it looks like'],
      FAULT_KINDS.map((k) => [k, r.faultsPlanned[k], r.faultsInjected[k], FAULT_LOOKS[k]]),
    ),
    restarts_table: restartsTable(r),
    checks_table: checksTable(r, ev, byKind),
    violations_list:
      violations.length === 0
        ? 'None.'
        : violations.map((v, i) => `${i + 1}. **${v.kind}** (${new Date(v.at).toISOString()}): ${v.detail}`).join('\n'),
    resources_table: resourcesTable(ev),
    bounds_list: boundsText(r.options.bounds),
    daemon_errors:
      r.daemonErrorLines === 0
        ? 'None.'
        : `${r.daemonErrorLines} line(s) at level error. The last ones:\n\n\`\`\`\n${r.daemonLastErrors.slice(-10).join('\n')}\n\`\`\``,
    harness_errors: r.harnessErrors.length === 0 ? 'None.' : r.harnessErrors.map((e) => `- ${e}`).join('\n'),
    summary_json: JSON.stringify(summary, null, 2),
  };
  return { markdown: fillTemplate(template, values), violations, passed, summary };
}

/** Why the run fails; empty when it passes. */
function failReasons(r: SoakResult, violations: Violation[]): string[] {
  const reasons: string[] = [];
  if (violations.length > 0) reasons.push(`${violations.length} invariant or bound violation(s)`);
  if (r.interrupted) reasons.push('the run was interrupted');
  if (!r.drained && !r.interrupted) reasons.push('the queue did not drain within the drain timeout');
  if (r.harnessErrors.length > 0) reasons.push(`${r.harnessErrors.length} harness error(s)`);
  return reasons;
}

/** The machine-readable summary at the end of the report. */
function summaryOf(
  r: SoakResult,
  ev: Evaluation,
  v: { passed: boolean; violations: Violation[]; byKind: Record<ViolationKind, number> },
) {
  const o = r.options;
  const rs = summarize(r.restarts.map((x) => x.restartMs));
  return {
    passed: v.passed,
    seed: o.seed,
    duration_ms: o.durationMs,
    load_ms: r.loadEndedAt - r.startedAt,
    total_ms: r.endedAt - r.startedAt,
    interrupted: r.interrupted,
    drained: r.drained,
    accepted: r.accepted,
    requests: r.requests,
    outcomes: r.outcomes,
    faults_planned: r.faultsPlanned,
    faults_injected: r.faultsInjected,
    agent_runs: r.agentRuns,
    restarts: { count: r.restarts.length, median_ms: rs.median, max_ms: rs.max, recovered: r.outcomes.recovered },
    checks: r.checks,
    violations: { total: v.violations.length, by_kind: v.byKind },
    resources: Object.fromEntries(
      ev.resources.map((x) => [
        x.name,
        { min: x.summary.min, median: x.summary.median, max: x.summary.max, slope_per_h: x.slope, verdict: x.verdict },
      ]),
    ),
    contract_drifts: r.contractDrifts,
    harness_errors: r.harnessErrors.length,
    harness_error_list: r.harnessErrors,
    violation_list: v.violations
      .slice(0, 100)
      .map((x) => ({ kind: x.kind, at: new Date(x.at).toISOString(), detail: x.detail })),
  };
}

function configTable(r: SoakResult): string {
  const o = r.options;
  return table(
    ['setting', 'value'],
    [
      ['duration (load)', dur(o.durationMs)],
      ['seed', o.seed],
      ['rate', `${o.rate} messages/s (Poisson)`],
      ['kill -9', killPlan(o)],
      ['job timeout', `${o.jobTimeoutS}s`],
      ['max attempts', o.maxAttempts],
      ['long job mean', dur(o.longMs)],
      ['workers (interactive, background)', `${o.interactiveWorkers}, ${o.backgroundWorkers}`],
      ['fault rates', FAULT_KINDS.map((k) => `${k}=${o.faults[k]}`).join(', ')],
      ['sampling', `every ${dur(o.sampleEveryMs)}`],
      ['drain timeout', dur(o.drainTimeoutMs)],
      [
        'data directory',
        `\`${r.dataDir}\`${o.data === null ? (o.keepData ? ' (kept)' : ' (temporary, removed)') : ''}`,
      ],
      ['daemon settings', 'backoff 500 ms … 5 s, router/closer timeout = job timeout, file log off, backup every 12 h'],
      ['host', `${process.platform} ${process.arch}, Node ${process.version}`],
    ],
  );
}

function durationTable(r: SoakResult): string {
  return table(
    ['phase', 'time'],
    [
      ['load', dur(r.loadEndedAt - r.startedAt)],
      ['drain', dur(r.drainedAt - r.loadEndedAt)],
      ['total (with stop and final checks)', dur(r.endedAt - r.startedAt)],
      ['started', new Date(r.startedAt).toISOString()],
    ],
  );
}

function outcomesTable(r: SoakResult): string {
  const byClass = Object.entries(r.outcomes.failed_by_class);
  return table(
    ['outcome', 'jobs'],
    [
      ['accepted (2xx with a job id)', r.accepted],
      ['succeeded at the first attempt', r.outcomes.succeeded],
      ['succeeded after a retry (backoff or owner retry)', r.outcomes.succeeded_after_retry],
      [
        'failed',
        `${r.outcomes.failed}${byClass.length > 0 ? ` (${byClass.map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`,
      ],
      ['canceled', r.outcomes.canceled],
      ['recovered at a restart (running when killed)', r.outcomes.recovered],
    ],
  );
}

function restartsTable(r: SoakResult): string {
  if (r.restarts.length === 0) return 'No restarts (kills disabled or the run was shorter than one interval).';
  const rs = summarize(r.restarts.map((x) => x.restartMs));
  const sum = (f: (x: SoakResult['restarts'][number]) => number): number => r.restarts.reduce((a, x) => a + f(x), 0);
  return `${table(
    [
      'restarts',
      'restart time median',
      'max',
      'jobs left running',
      'recovered',
      'agents alive at the kill',
      'orphans after restart',
    ],
    [
      [
        r.restarts.length,
        `${fmt(rs.median, 0)} ms`,
        `${fmt(rs.max, 0)} ms`,
        sum((x) => x.leftRunning),
        sum((x) => x.recovered),
        sum((x) => x.agentsAtKill),
        sum((x) => x.orphansAfterRestart),
      ],
    ],
  )}\n\nRestart time is kill sent → process gone, plus spawn → \`/readyz\` 200 (the harness's own database snapshot in between is not counted).`;
}

function checksTable(r: SoakResult, ev: Evaluation, byKind: Record<ViolationKind, number>): string {
  return table(
    ['invariant', 'checks', 'violations'],
    [
      [
        'no accepted message lost (GET /api/jobs/{id} after each restart and at the end)',
        r.checks.lost_message,
        byKind.lost_message,
      ],
      ['no job running longer than its timeout + margin while the daemon is up', 'every poll', byKind.stuck_running],
      [
        'every job left running at a kill was recovered at the restart',
        r.checks.unrecovered_job,
        byKind.unrecovered_job,
      ],
      ['every job terminal at the end', r.checks.not_terminal, byKind.not_terminal],
      ['PRAGMA integrity_check = ok after each restart and at the end', r.checks.integrity, byKind.integrity],
      [
        'no agent process survives its daemon (after each restart + grace, and at the end)',
        r.checks.orphan_process,
        byKind.orphan_process,
      ],
      [
        'each job ends as its fault plan predicts (chains not hit by a kill or cancel)',
        r.checks.unexpected_outcome,
        byKind.unexpected_outcome,
      ],
      ['the daemon restarts after every kill -9', r.restarts.length, byKind.restart_failed],
      [
        'resource bounds (below)',
        ev.resources.filter((x) => x.bound !== 'reported only').length,
        byKind.resource_bound,
      ],
      [
        `every answer matches the API contract (@alter0/api's client validates it; ${r.contractDrifts} answer(s) did not)`,
        'every answer',
        byKind.contract_drift,
      ],
    ],
  );
}

function resourcesTable(ev: Evaluation): string {
  return table(
    ['resource', 'min', 'median', 'max', 'slope per hour', 'fitted over', 'bound', 'verdict'],
    ev.resources.map((x) => [
      `${x.name} (${x.unit})`,
      fmt(x.summary.min),
      fmt(x.summary.median),
      fmt(x.summary.max),
      x.slope === null ? 'n/a' : `${x.slope.toFixed(2)} (${x.slopeHow})`,
      mins(x.windowMs),
      x.bound,
      `${x.verdict}${x.note ? ` — ${x.note}` : ''}`,
    ]),
  );
}

const FAULT_LOOKS: Record<FaultKind, string> = {
  slow: 'answer after 1.2–1.8 × the sync wait (the sync client gets 202)',
  hang: 'no answer until the job timeout kills it (class timeout, retried)',
  rate_limited: 'stderr `429 Too Many Requests`, exit 1 (rate_limited, retried)',
  unavailable: 'stderr `503 overloaded`, exit 1 (unavailable, retried)',
  auth: 'stderr `401 unauthorized`, exit 1 (auth, not retried)',
  malformed_route: 'router prints broken JSON (fallback: new task)',
  malformed_close: 'closer prints broken JSON (task stays open)',
};

function boundsText(b: Bounds): string {
  return [
    `- **RSS**: max ≤ ${b.maxRssMb} MB; its slope is reported and judged by its parts. RSS is the V8 heaps' committed size, which V8 sizes itself ` +
      `(it grows for about the first hour of a process as the JIT compiles and old space settles, with the heap in use flat: docs/soak.md), plus everything V8 does not manage.`,
    `- **Native memory** (RSS less both isolates' committed V8 heaps: SQLite, buffers, the allocator, file mappings): slope ≤ ${b.nativeSlopeMbPerH} MB/h within a daemon lifetime after ${mins(b.warmupMs)} of warm-up. ` +
      `${b.nativeSlopeMbPerH} MB/h is ${b.nativeSlopeMbPerH * 24} MB a day: at 0.5 jobs/s it catches a leak of about ${((b.nativeSlopeMbPerH * 1024) / 1800).toFixed(0)} KB per job, ` +
      `which would exhaust a small host in the weeks the service is meant to run (smaller leaks need a longer run to tell apart). ` +
      `Slopes are fitted to the floor (the minimum of each window of 12 samples, at least 1 min) with one intercept per lifetime: a leak raises the floor, while transient spikes ` +
      `(RSS was seen jumping by ~150 MB for tens of seconds and falling back) and garbage not yet collected do not; the sawtooth of kill -9 restarts neither reads as growth nor hides it.`,
    `- **V8 heap in use** (floor): slope ≤ ${b.heapSlopeMbPerH} MB/h. Where a JavaScript leak (a map that is never pruned, listeners that pile up, code compiled per message) shows; ` +
      `V8's committed heap around it is reported, not judged: it is V8's sizing, which follows the heap in use.`,
    `- **Open file descriptors**: slope of the floor ≤ ${b.fdSlopePerH}/h, max ≤ ${b.maxFds}. A job holds ~6 fds (three pipes) while it runs; a leak of one fd per job reaches the bound within minutes at any rate, while the working set (db, WAL, shm, lock, log, listener, a few sockets) stays far below the max.`,
    `- **WAL**: max ≤ ${b.maxWalMb} MB, slope ≤ ${b.walSlopeMbPerH} MB/h. SQLite checkpoints at ~4 MB; a WAL that keeps growing means checkpoints are starved (a reader held open) and reads slow down.`,
    `- **Queue depth**: slope ≤ ${b.queueSlopePerH} jobs/h over the load phase. Below capacity the depth wanders around a constant; a steady climb means work is accepted faster than it finishes (or is never claimed).`,
    `- **Database**: growth ≤ ${b.maxDbKbPerJob} KB per accepted job. Everything is kept (retention is 30 days), so the file grows with the load; per job it is a message, a reply, a job row, decisions and events — a few KB.`,
    `- Slopes are judged only over at least ${mins(b.minSlopeWindowMs)} of post-warm-up observation: a slope fitted over seconds and extrapolated to an hour is noise. Maxima are always judged. A SIGSTOP splits a lifetime as a restart does: the stretches before and after it are fitted apart, and the ${mins(PAUSE_SETTLE_MS)} after SIGCONT (a burst of everything queued while stopped) are left out.`,
  ].join('\n');
}

/** The raw samples as CSV (one row per sample and resource), for plotting a long run. */
export function samplesCsv(r: SoakResult): string {
  const rows = ['resource,time_iso,t_s,generation,value'];
  for (const [name, points] of Object.entries(r.samples)) {
    for (const p of points as Point[])
      rows.push(`${name},${new Date(p.t).toISOString()},${((p.t - r.startedAt) / 1000).toFixed(1)},${p.gen},${p.v}`);
  }
  return `${rows.join('\n')}\n`;
}
