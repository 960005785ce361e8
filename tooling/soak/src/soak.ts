import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess } from './daemon.js';
import type { DaemonSpec } from './daemon.js';
import { checkDb } from './db-check.js';
import type { DbCheck } from './db-check.js';
import { Api, TERMINAL, asJob, asJobs, field, num, str } from './http.js';
import type { JobView } from './http.js';
import type { SoakOptions } from './options.js';
import { FAULT_KINDS } from './plan.js';
import type { AgentLogLine, FaultKind, MessagePlan } from './plan.js';
import { fileSize, findAgents, killAll, openFds, rssBytes } from './procs.js';
import { createRng } from './rng.js';
import type { Point } from './stats.js';
import { drawPlan, expectationOf, messageText } from './workload.js';

export const VIOLATION_KINDS = [
  'lost_message',
  'stuck_running',
  'unrecovered_job',
  'not_terminal',
  'integrity',
  'orphan_process',
  'unexpected_outcome',
  'restart_failed',
  'resource_bound',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

/** The invariants counted per check performed (stuck_running is checked on every poll, not counted). */
export type CheckKind = 'lost_message' | 'unrecovered_job' | 'not_terminal' | 'integrity' | 'orphan_process' | 'unexpected_outcome';

export interface Violation {
  kind: ViolationKind;
  at: number;
  detail: string;
}

export type RequestKind = 'sync' | 'async' | 'followup' | 'retry' | 'cancel' | 'close_task';

interface Chain {
  plan: MessagePlan;
  jobs: string[];
  /** A job of the chain was running when the daemon was killed: its fault counter and attempts are disturbed. */
  killed: boolean;
  /** The harness asked to cancel a job of the chain. */
  canceled: boolean;
}

interface Tracked {
  id: string;
  chain: Chain;
  isRetry: boolean;
  acceptedGen: number;
  state: JobView['state'];
  attempt: number;
  errorClass: string | null;
  timeoutS: number;
  /** When this harness first saw the current attempt running (during this daemon lifetime). */
  runningSeen: { attempt: number; gen: number; at: number } | null;
  stuckReported: boolean;
  retried: boolean;
}

export interface RestartRecord {
  gen: number;
  at: number;
  /** Kill sent → process gone. */
  killMs: number;
  /** Spawn → /readyz 200. */
  startMs: number;
  /** killMs + startMs: the outage a client sees (the harness's own DB snapshot in between is not counted). */
  restartMs: number;
  leftRunning: number;
  recovered: number;
  agentsAtKill: number;
  orphansAfterRestart: number;
}

export interface Samples {
  rssMb: Point[];
  /** V8 heap in use (prom-client's nodejs_heap_size_used_bytes): tells a JS leak from native or allocator growth. */
  heapMb: Point[];
  fds: Point[];
  dbMb: Point[];
  walMb: Point[];
  queueDepth: Point[];
  openTasks: Point[];
  agents: Point[];
}

export interface SoakResult {
  options: SoakOptions;
  runId: string;
  dataDir: string;
  startedAt: number;
  loadEndedAt: number;
  drainedAt: number;
  endedAt: number;
  interrupted: boolean;
  drained: boolean;
  requests: Record<RequestKind, { sent: number; accepted: number; refused: number; errors: number }>;
  accepted: number;
  outcomes: {
    succeeded: number;
    succeeded_after_retry: number;
    failed: number;
    canceled: number;
    recovered: number;
    failed_by_class: Record<string, number>;
  };
  faultsPlanned: Record<FaultKind, number>;
  faultsInjected: Record<FaultKind, number>;
  agentRuns: Record<string, number>;
  restarts: RestartRecord[];
  checks: Record<CheckKind, number>;
  violations: Violation[];
  samples: Samples;
  daemonErrorLines: number;
  daemonLastErrors: string[];
  finalDb: { integrity: string | null; by_state: Record<string, number> } | null;
  dbBytesEnd: number;
  harnessErrors: string[];
}

const MAX_INFLIGHT = 64;
const POLL_MS = 1000;
const OPEN_TASKS_TARGET = 30;
/** Slack on top of a job's timeout before it counts as stuck: the kill grace, two polls, scheduling. */
const STUCK_MARGIN_MS = 3000 + 2 * POLL_MS + 5000;
/** After a restart, how long the previous lifetime's agents get to disappear (the executor's kill grace + slack). */
const ORPHAN_GRACE_MS = 3000 + 2000;
const MAX_VIOLATIONS_KEPT = 500;
/** A line on stderr this often, so a long run shows it is alive. */
const PROGRESS_MS = 300_000;

/** Runs one soak: the caller owns the options and the signal (SIGINT → abort), and writes the report. */
export async function runSoak(opts: SoakOptions, paths: { agent: string }, signal: AbortSignal, log: (line: string) => void): Promise<SoakResult> {
  // Separate streams, so the plan of the n-th message and the kill times do not depend on how many retries or
  // cancels timing happened to interleave: the same seed gives the same messages and the same kill schedule.
  const rng = createRng(opts.seed);
  const killRng = createRng(opts.seed ^ 0x5bd1e995);
  const reactRng = createRng(opts.seed ^ 0x27d4eb2f);
  const runId = `soak-${opts.seed}-${process.pid}-${Date.now().toString(36)}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-soak-'));
  const dataDir = opts.data ?? path.join(work, 'data');
  const stateDir = path.join(work, 'state');
  const agentLog = path.join(work, 'agent.jsonl');
  fs.mkdirSync(stateDir, { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const dbFile = path.join(dataDir, 'alter0.db');
  const syncWaitMs = Math.min(2000, Math.round((opts.jobTimeoutS * 1000) / 4));

  const spec: DaemonSpec = {
    bin: opts.bin,
    data: dataDir,
    command: [process.execPath, paths.agent, '--soak-run', runId].map((a) => JSON.stringify(a)).join(' '),
    sets: [
      `queue.job_timeout_s=${opts.jobTimeoutS}`,
      `queue.max_attempts=${opts.maxAttempts}`,
      `queue.interactive_workers=${opts.interactiveWorkers}`,
      `queue.background_workers=${opts.backgroundWorkers}`,
      // Shorter backoff than the defaults so retries happen within a short soak; the policy is what is tested.
      'queue.backoff_initial_ms=500',
      'queue.backoff_max_ms=5000',
      `router.timeout_s=${opts.jobTimeoutS}`,
      `closer.timeout_s=${opts.jobTimeoutS}`,
      'log.file=false',
      // Backups copy the database: a 24 h soak should see one, not one per restart.
      'backup.interval=12h',
    ],
    env: { SOAK_AGENT_LOG: agentLog, SOAK_STATE_DIR: stateDir, SOAK_HANG_MAX_MS: String(Math.max(60_000, opts.jobTimeoutS * 4000)) },
  };

  const zero = (): { sent: number; accepted: number; refused: number; errors: number } => ({ sent: 0, accepted: 0, refused: 0, errors: 0 });
  const result: SoakResult = {
    options: opts,
    runId,
    dataDir,
    startedAt: Date.now(),
    loadEndedAt: 0,
    drainedAt: 0,
    endedAt: 0,
    interrupted: false,
    drained: false,
    requests: { sync: zero(), async: zero(), followup: zero(), retry: zero(), cancel: zero(), close_task: zero() },
    accepted: 0,
    outcomes: { succeeded: 0, succeeded_after_retry: 0, failed: 0, canceled: 0, recovered: 0, failed_by_class: {} },
    faultsPlanned: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    faultsInjected: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    agentRuns: {},
    restarts: [],
    checks: { lost_message: 0, unrecovered_job: 0, not_terminal: 0, integrity: 0, orphan_process: 0, unexpected_outcome: 0 },
    violations: [],
    samples: { rssMb: [], heapMb: [], fds: [], dbMb: [], walMb: [], queueDepth: [], openTasks: [], agents: [] },
    daemonErrorLines: 0,
    daemonLastErrors: [],
    finalDb: null,
    dbBytesEnd: 0,
    harnessErrors: [],
  };
  const violate = (kind: ViolationKind, detail: string): void => {
    if (result.violations.length < MAX_VIOLATIONS_KEPT) result.violations.push({ kind, at: Date.now(), detail });
    else if (result.violations.length === MAX_VIOLATIONS_KEPT) result.violations.push({ kind, at: Date.now(), detail: 'further violations not listed' });
    log(`VIOLATION ${kind}: ${detail}`);
  };
  const harnessError = (what: string, err: unknown): void => {
    const msg = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    if (result.harnessErrors.length < 50) result.harnessErrors.push(msg);
  };

  const jobs = new Map<string, Tracked>();
  const nonTerminal = new Set<string>();
  const tasks: string[] = [];
  let gen = 1;
  let daemon: DaemonProcess | null = null;
  let up = false;
  const api = new Api(() => daemon?.url ?? 'http://127.0.0.1:9', signal);
  const inflight = new Set<Promise<void>>();
  let loadOn = true;
  let retriesOn = true;
  let keySeq = 0;
  let agentLogOffset = 0;

  const stopAll = (): void => {
    daemon?.kill9();
    killAll(findAgents(runId).map((a) => a.pid));
  };
  process.on('exit', stopAll);

  const track = (id: string, chain: Chain, isRetry: boolean, timeoutS: number): void => {
    if (jobs.has(id)) return;
    chain.jobs.push(id);
    jobs.set(id, {
      id,
      chain,
      isRetry,
      acceptedGen: gen,
      state: 'queued',
      attempt: 0,
      errorClass: null,
      timeoutS,
      runningSeen: null,
      stuckReported: false,
      retried: false,
    });
    nonTerminal.add(id);
    result.accepted++;
  };

  const newChain = (longMs: number): Chain => {
    const plan = drawPlan(rng, `m${(keySeq++).toString(36)}-${opts.seed}`, { faults: opts.faults, maxAttempts: opts.maxAttempts, jobTimeoutS: opts.jobTimeoutS, syncWaitMs }, longMs);
    if (plan.exec !== 'ok' && plan.exec !== 'long') result.faultsPlanned[plan.exec]++;
    if (plan.route === 'malformed') result.faultsPlanned.malformed_route++;
    if (plan.close === 'malformed') result.faultsPlanned.malformed_close++;
    return { plan, jobs: [], killed: false, canceled: false };
  };

  // ---- requests (each one bounded by its own timeout)
  const send = async (kind: RequestKind, fn: () => Promise<{ status: number; body: unknown }>, onOk: (body: unknown) => void): Promise<void> => {
    const r = result.requests[kind];
    r.sent++;
    try {
      const a = await fn();
      if (a.status >= 200 && a.status < 300) {
        r.accepted++;
        onOk(a.body);
      } else r.refused++;
    } catch {
      // Connection refused or reset: the daemon is down or was killed mid-request. No 2xx, nothing promised.
      r.errors++;
    }
  };

  const submit = (kind: 'sync' | 'async' | 'followup'): Promise<void> => {
    const async = kind === 'async' || (kind === 'followup' && rng.chance(0.5));
    const chain = newChain(kind === 'async' ? opts.longMs : 0);
    const content = messageText(rng, chain.plan);
    const taskId = kind === 'followup' ? rng.pick(tasks) : undefined;
    const body: Record<string, unknown> = { content, channel_id: 'soak', ...(taskId ? { task_id: taskId } : {}) };
    const onOk = (b: unknown): void => {
      const id = str(field(b, 'job_id'));
      if (id !== null) track(id, chain, false, opts.jobTimeoutS);
    };
    if (async) {
      Object.assign(body, { lane: kind === 'async' ? 'background' : 'interactive', timeout_s: opts.jobTimeoutS, max_attempts: opts.maxAttempts });
      return send(kind, () => api.call('POST', '/api/jobs', body), onOk);
    }
    body.wait_ms = syncWaitMs;
    return send(kind, () => api.call('POST', '/api/message', body, syncWaitMs + 15_000), onOk);
  };

  const cancelOne = (): Promise<void> | null => {
    const candidates = [...nonTerminal].slice(-50);
    const id = reactRng.pick(candidates);
    const t = id === undefined ? undefined : jobs.get(id);
    if (t === undefined) return null;
    t.chain.canceled = true;
    return send('cancel', () => api.call('POST', `/api/jobs/${t.id}/cancel`, {}), () => undefined);
  };

  const retryOf = (t: Tracked): Promise<void> => {
    t.retried = true;
    return send('retry', () => api.call('POST', `/api/jobs/${t.id}/retry`, {}), (b) => {
      const id = str(field(b, 'job_id'));
      if (id !== null) track(id, t.chain, true, t.timeoutS);
    });
  };

  const launch = (p: Promise<void> | null): void => {
    if (p === null) return;
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  // ---- observation of job states
  const observe = (j: JobView): void => {
    const t = jobs.get(j.id);
    if (t === undefined) return;
    t.attempt = j.attempt;
    t.errorClass = j.error_class;
    if (j.task_id !== null && !tasks.includes(j.task_id)) {
      tasks.push(j.task_id);
      if (tasks.length > 200) tasks.shift();
    }
    if (j.state === 'running') {
      if (t.runningSeen === null || t.runningSeen.attempt !== j.attempt || t.runningSeen.gen !== gen) {
        t.runningSeen = { attempt: j.attempt, gen, at: Date.now() };
      } else if (!t.stuckReported && Date.now() - t.runningSeen.at > t.timeoutS * 1000 + STUCK_MARGIN_MS) {
        t.stuckReported = true;
        violate('stuck_running', `job ${j.id} has been running attempt ${j.attempt} for more than ${Math.round((Date.now() - t.runningSeen.at) / 1000)}s (timeout ${t.timeoutS}s + ${STUCK_MARGIN_MS / 1000}s margin)`);
      }
    }
    const was = t.state;
    t.state = j.state;
    if (TERMINAL.has(j.state) && !TERMINAL.has(was)) finished(t);
  };

  const finished = (t: Tracked): void => {
    nonTerminal.delete(t.id);
    if (t.state === 'succeeded') {
      if (t.attempt > 1 || t.isRetry) result.outcomes.succeeded_after_retry++;
      else result.outcomes.succeeded++;
    } else if (t.state === 'canceled') result.outcomes.canceled++;
    else {
      result.outcomes.failed++;
      const cls = t.errorClass ?? 'unknown';
      result.outcomes.failed_by_class[cls] = (result.outcomes.failed_by_class[cls] ?? 0) + 1;
      // The owner's move after a failure: retry it (chains are kept short so a run converges).
      const depth = t.chain.jobs.indexOf(t.id);
      if (retriesOn && loadOn && depth < 2 && !t.retried && reactRng.chance(0.8)) launch(retryOf(t));
    }
    checkExpectation(t);
  };

  const checkExpectation = (t: Tracked): void => {
    if (t.chain.killed || t.chain.canceled) return;
    result.checks.unexpected_outcome++;
    const exp = expectationOf(t.chain.plan, opts.maxAttempts);
    const want = t.isRetry ? { state: exp.retry, errorClass: null } : exp.first;
    const cls = t.state === 'failed' ? t.errorClass : null;
    if (t.state !== want.state || cls !== want.errorClass) {
      violate(
        'unexpected_outcome',
        `job ${t.id}${t.isRetry ? ' (a retry)' : ''} with plan exec=${t.chain.plan.exec}:${t.chain.plan.n} and max_attempts ${opts.maxAttempts} ended ${t.state}${cls ? `/${cls}` : ''} at attempt ${t.attempt}; expected ${want.state}${want.errorClass ? `/${want.errorClass}` : ''}`,
      );
    }
  };

  const poll = async (): Promise<void> => {
    const seen = new Set<string>();
    for (const state of ['queued', 'running'] as const) {
      const a = await api.call('GET', `/api/jobs?state=${state}&limit=1000`);
      if (a.status !== 200) throw new Error(`GET /api/jobs?state=${state} answered ${a.status}`);
      for (const j of asJobs(a.body)) {
        seen.add(j.id);
        observe(j);
      }
    }
    // Tracked jobs no longer queued or running have finished (or, the lists being capped, are beyond them).
    const gone = [...nonTerminal].filter((id) => !seen.has(id)).slice(0, 100);
    for (const id of gone) {
      const a = await api.call('GET', `/api/jobs/${id}`);
      if (a.status === 404) {
        violate('lost_message', `job ${id} was accepted (2xx) but GET /api/jobs/${id} answers 404`);
        nonTerminal.delete(id);
        continue;
      }
      const j = asJob(a.body);
      if (j !== null) observe(j);
    }
  };

  const readAgentLog = (): void => {
    let fd: number;
    try {
      fd = fs.openSync(agentLog, 'r');
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size - agentLogOffset, 4 * 1024 * 1024);
      if (len <= 0) return;
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, agentLogOffset);
      const text = buf.toString('utf8');
      const end = text.lastIndexOf('\n');
      if (end < 0) return;
      agentLogOffset += Buffer.byteLength(text.slice(0, end + 1));
      for (const line of text.slice(0, end).split('\n')) {
        try {
          const l = JSON.parse(line) as AgentLogLine;
          result.agentRuns[l.stage] = (result.agentRuns[l.stage] ?? 0) + 1;
          if (l.fault !== null) result.faultsInjected[l.fault]++;
        } catch {
          // A torn line from an agent killed mid-write: not a run we can count.
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  };

  const sample = async (): Promise<void> => {
    const d = daemon;
    if (d === null || !up) return;
    const t = Date.now();
    const rss = rssBytes(d.pid);
    const fds = openFds(d.pid);
    if (rss !== null) result.samples.rssMb.push({ t, v: rss / 2 ** 20, gen: d.gen });
    if (fds !== null) result.samples.fds.push({ t, v: fds, gen: d.gen });
    result.samples.dbMb.push({ t, v: fileSize(dbFile) / 2 ** 20, gen: d.gen });
    result.samples.walMb.push({ t, v: fileSize(`${dbFile}-wal`) / 2 ** 20, gen: d.gen });
    result.samples.agents.push({ t, v: findAgents(runId).length, gen: d.gen });
    const heap = metricValue(await api.call('GET', '/metrics'), 'nodejs_heap_size_used_bytes');
    if (heap !== null) result.samples.heapMb.push({ t, v: heap / 2 ** 20, gen: d.gen });
    const s = await api.call('GET', '/api/status');
    const depth = field(field(field(field(s.body, 'components'), 'queue'), 'details'), 'depth');
    const q = (num(field(depth, 'interactive')) ?? 0) + (num(field(depth, 'background')) ?? 0);
    result.samples.queueDepth.push({ t, v: q, gen: d.gen });
    const open = await api.call('GET', '/api/tasks?state=open&limit=1000');
    const list = field(open.body, 'tasks');
    if (Array.isArray(list)) {
      result.samples.openTasks.push({ t, v: list.length, gen: d.gen });
      // Keep the open set bounded the way an owner would: close the oldest (the list is newest first).
      if (loadOn && list.length > OPEN_TASKS_TARGET) {
        for (const task of list.slice(OPEN_TASKS_TARGET).slice(-5)) {
          const id = str(field(task, 'id'));
          if (id !== null) launch(send('close_task', () => api.call('POST', `/api/tasks/${id}/close`, { reason: 'soak: too many open tasks' }), () => undefined));
        }
      }
    }
  };

  // ---- kill -9 and restart, with the checks that belong to it
  const restart = async (): Promise<void> => {
    const d = daemon;
    if (d === null) return;
    up = false;
    const t0 = Date.now();
    d.kill9();
    await d.exited;
    const t1 = Date.now();
    result.daemonErrorLines += d.errorLines;
    result.daemonLastErrors.push(...d.lastErrors);
    const agentsAtKill = findAgents(runId).filter((a) => a.gen === d.gen).length;
    let snap: DbCheck = { integrity: null, running: [], by_state: {} };
    try {
      snap = await checkDb(dbFile, false, signal);
      for (const r of snap.running) {
        const t = jobs.get(r.id);
        if (t) t.chain.killed = true;
      }
    } catch (err) {
      if (signal.aborted) throw err;
      // Without the snapshot, any unfinished chain may have been hit: none of them is judged by its plan.
      harnessError(`database snapshot after the kill of generation ${d.gen}`, err);
      for (const id of nonTerminal) {
        const t = jobs.get(id);
        if (t) t.chain.killed = true;
      }
    }
    gen++;
    const t2 = Date.now();
    let next: DaemonProcess;
    try {
      next = await DaemonProcess.start(spec, gen, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      violate('restart_failed', `after kill -9 of generation ${d.gen}, alter0 serve did not start again: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    const t3 = Date.now();
    daemon = next;
    up = true;
    const rec = next.recovered ?? { requeued: [], failed: [], completed: [] };
    const recoveredIds = new Set([...rec.requeued, ...rec.failed, ...rec.completed]);
    result.outcomes.recovered += recoveredIds.size;
    // Every job the dead process left running was recovered at start, and none still runs as that attempt.
    for (const r of snap.running) {
      result.checks.unrecovered_job++;
      if (!recoveredIds.has(r.id)) violate('unrecovered_job', `job ${r.id} was running (attempt ${r.attempt}) when generation ${d.gen} was killed, but the restart did not report recovering it`);
      const a = await api.call('GET', `/api/jobs/${r.id}`);
      const j = asJob(a.body);
      if (j === null) violate('lost_message', `job ${r.id} (running at the kill) is not found after the restart (GET answered ${a.status})`);
      else if (j.state === 'running' && j.attempt <= r.attempt) {
        violate('unrecovered_job', `job ${r.id} is still running attempt ${j.attempt} after the restart, but that attempt died with generation ${d.gen}`);
      }
    }
    // Nothing accepted during the dead lifetime is lost.
    const fromDead = [...jobs.values()].filter((t) => t.acceptedGen === d.gen);
    for (const t of fromDead) {
      result.checks.lost_message++;
      const a = await api.call('GET', `/api/jobs/${t.id}`);
      if (a.status === 404) violate('lost_message', `job ${t.id} was accepted (2xx) before the kill -9 of generation ${d.gen} and is gone after the restart`);
    }
    result.checks.integrity++;
    const integ = await checkDb(dbFile, true, signal);
    if (integ.integrity !== 'ok') violate('integrity', `PRAGMA integrity_check after the restart of generation ${gen}: ${integ.integrity}`);
    // The previous lifetime's agents: the restarted service must not leave them running.
    await sleep(ORPHAN_GRACE_MS, undefined, { signal });
    const orphans = findAgents(runId).filter((a) => a.gen < gen);
    result.checks.orphan_process++;
    for (const o of orphans) {
      violate('orphan_process', `agent pid ${o.pid} (stage ${o.stage || '?'}, job ${o.job || '?'}) spawned by generation ${o.gen} is still running ${Math.round((Date.now() - t0) / 1000)}s after that daemon was killed and ${Math.round((Date.now() - t3) / 1000)}s after the restart`);
    }
    // Reported once; removed so they neither pile up nor are counted again.
    killAll(orphans.map((o) => o.pid));
    const record: RestartRecord = {
      gen,
      at: t0,
      killMs: t1 - t0,
      startMs: t3 - t2,
      restartMs: t1 - t0 + (t3 - t2),
      leftRunning: snap.running.length,
      recovered: recoveredIds.size,
      agentsAtKill,
      orphansAfterRestart: orphans.length,
    };
    result.restarts.push(record);
    log(`restart ${result.restarts.length}: generation ${gen} serving after ${record.restartMs} ms; ${record.leftRunning} left running, ${record.recovered} recovered, ${record.agentsAtKill} agents at the kill, ${record.orphansAfterRestart} orphans after`);
  };

  const loadEnd = result.startedAt + opts.durationMs;
  const loops: Promise<void>[] = [];
  let observer: Promise<void> = Promise.resolve();
  try {
    daemon = await DaemonProcess.start(spec, gen, signal);
    up = true;
    log(`alter0 serve generation 1 at ${daemon.url} (pid ${daemon.pid}); data ${dataDir}; run ${runId}`);

    // Load: Poisson arrivals until the end of the load phase.
    loops.push(
      (async () => {
        while (loadOn && !signal.aborted && Date.now() < loadEnd) {
          await sleep(Math.min(rng.exp(1000 / opts.rate), Math.max(0, loadEnd - Date.now())), undefined, { signal });
          if (!loadOn || Date.now() >= loadEnd) break;
          if (!up || inflight.size >= MAX_INFLIGHT) continue;
          const x = rng.next();
          if (x < 0.42) launch(submit('sync'));
          else if (x < 0.7) launch(submit('async'));
          else if (x < 0.92) launch(tasks.length > 0 ? submit('followup') : submit('sync'));
          else launch(cancelOne());
        }
      })(),
    );
    // Kills: uniform in [0.5, 1.5] × the mean interval, counted from the end of the previous restart's checks.
    if (opts.killEveryMs > 0) {
      loops.push(
        (async () => {
          while (!signal.aborted) {
            const wait = opts.killEveryMs * (0.5 + killRng.next());
            if (Date.now() + wait >= loadEnd) break;
            await sleep(wait, undefined, { signal });
            await restart();
          }
        })(),
      );
    }
    // Poll job states and the agent log; sample resources.
    let lastSample = 0;
    let lastProgress = Date.now();
    observer = (async () => {
      while (!signal.aborted && loadOn) {
        await sleep(POLL_MS, undefined, { signal });
        readAgentLog();
        if (!up) continue;
        try {
          await poll();
          if (Date.now() - lastSample >= opts.sampleEveryMs) {
            lastSample = Date.now();
            await sample();
          }
          if (Date.now() - lastProgress >= PROGRESS_MS) {
            lastProgress = Date.now();
            const rss = result.samples.rssMb.at(-1)?.v;
            log(`progress: ${Math.round((Date.now() - result.startedAt) / 1000)}s, ${result.accepted} accepted, ${nonTerminal.size} in flight, ${result.restarts.length} restarts, ${result.violations.length} violations, RSS ${rss === undefined ? '?' : rss.toFixed(0)} MB`);
          }
        } catch (err) {
          // A kill may land mid-poll; anything else is worth seeing in the report.
          if (up && !signal.aborted) harnessError('poll', err);
        }
      }
    })();

    await Promise.all(loops);
    result.loadEndedAt = Date.now();
    retriesOn = false;
    log(`load ended after ${Math.round((result.loadEndedAt - result.startedAt) / 1000)}s: ${result.accepted} jobs accepted, ${result.restarts.length} restarts; draining`);
    await Promise.allSettled([...inflight]);

    // Drain: everything accepted reaches a terminal state, bounded.
    const drainEnd = Date.now() + opts.drainTimeoutMs;
    while (!signal.aborted && Date.now() < drainEnd) {
      await sleep(POLL_MS, undefined, { signal });
      try {
        await poll();
        if (Date.now() - lastSample >= opts.sampleEveryMs) {
          lastSample = Date.now();
          await sample();
        }
        const s = await api.call('GET', '/api/status');
        const byState = field(field(field(field(s.body, 'components'), 'queue'), 'details'), 'jobs_by_state');
        const open = (num(field(byState, 'queued')) ?? 0) + (num(field(byState, 'running')) ?? 0);
        if (nonTerminal.size === 0 && open === 0) {
          result.drained = true;
          break;
        }
      } catch (err) {
        harnessError('drain poll', err);
      }
    }
    loadOn = false;
    await observer;
    await Promise.allSettled([...inflight]);
    result.drainedAt = Date.now();
    readAgentLog();

    // Final: every accepted job is found and terminal.
    for (const t of jobs.values()) {
      result.checks.lost_message++;
      result.checks.not_terminal++;
      const a = await api.call('GET', `/api/jobs/${t.id}`);
      const j = asJob(a.body);
      if (a.status === 404 || j === null) {
        violate('lost_message', `job ${t.id} was accepted (2xx) and is not found at the end (GET answered ${a.status})`);
        continue;
      }
      if (!TERMINAL.has(j.state)) violate('not_terminal', `job ${t.id} is still ${j.state} (attempt ${j.attempt}) ${Math.round(opts.drainTimeoutMs / 1000)}s after the load stopped`);
      else if (!TERMINAL.has(t.state)) observe(j);
    }
  } catch (err) {
    if (!signal.aborted) harnessError('soak', err);
  } finally {
    result.interrupted = signal.aborted;
    loadOn = false;
    await Promise.allSettled([...loops, observer, ...inflight]);
    const d = daemon as DaemonProcess | null;
    if (d !== null) {
      up = false;
      const stopped = await d.stop(40_000, signal.aborted);
      result.daemonErrorLines += d.errorLines;
      result.daemonLastErrors.push(...d.lastErrors);
      if (stopped.forced) harnessError('stop', new Error('alter0 serve did not stop within 40s of SIGTERM and was killed'));
    }
    // Graceful stop kills its own agents; whatever remains is an orphan.
    const left = findAgents(runId);
    result.checks.orphan_process++;
    for (const o of left) violate('orphan_process', `agent pid ${o.pid} (stage ${o.stage || '?'}, job ${o.job || '?'}, generation ${o.gen}) is still running after alter0 serve stopped`);
    killAll(left.map((o) => o.pid));
    if (fs.existsSync(dbFile)) {
      try {
        result.checks.integrity++;
        const fin = await checkDb(dbFile, true, AbortSignal.timeout(300_000));
        result.finalDb = { integrity: fin.integrity, by_state: fin.by_state };
        if (fin.integrity !== 'ok') violate('integrity', `PRAGMA integrity_check at the end: ${fin.integrity}`);
        const open = (fin.by_state.queued ?? 0) + (fin.by_state.running ?? 0);
        if (open > 0 && !result.interrupted) violate('not_terminal', `the database holds ${open} job(s) queued or running at the end (${JSON.stringify(fin.by_state)})`);
      } catch (err) {
        harnessError('final database check', err);
      }
    }
    result.dbBytesEnd = fileSize(dbFile) + fileSize(`${dbFile}-wal`);
    process.off('exit', stopAll);
    result.endedAt = Date.now();
    // The work dir holds the agent's state and log, and the data dir unless --data named one.
    if (!(opts.keepData && opts.data === null)) fs.rmSync(work, { recursive: true, force: true });
  }
  return result;
}

/** One unlabelled sample from a Prometheus text exposition; null when absent. */
export function metricValue(a: { status: number; body: unknown }, name: string): number | null {
  if (a.status !== 200 || typeof a.body !== 'string') return null;
  const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(a.body);
  return m?.[1] === undefined ? null : Number(m[1]);
}
