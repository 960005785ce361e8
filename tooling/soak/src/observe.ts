import fs from 'node:fs';
import { TERMINAL, describe, viewOf } from './http.js';
import type { JobView } from './http.js';
import type { AgentLogLine } from './plan.js';
import { fileSize, findAgents, openFds, rssBytes } from './procs.js';
import { launch, retryOf, send } from './requests.js';
import { POLL_MS, violate, writeOutageMs } from './run-state.js';
import type { SoakRun, Tracked } from './run-state.js';
import { expectationOf } from './workload.js';

const OPEN_TASKS_TARGET = 30;
/** Slack on top of a job's timeout before it counts as stuck: the kill grace, two polls, scheduling. */
const STUCK_MARGIN_MS = 3000 + 2 * POLL_MS + 5000;

/** Takes in a job's state as the daemon reports it: stuck attempts, known tasks, and jobs that just finished. */
export function observe(run: SoakRun, j: JobView): void {
  const t = run.jobs.get(j.id);
  if (t === undefined) return;
  t.attempt = j.attempt;
  t.errorClass = j.error_class;
  if (j.task_id !== null && !run.tasks.includes(j.task_id)) {
    run.tasks.push(j.task_id);
    if (run.tasks.length > 200) run.tasks.shift();
  }
  if (j.state === 'running') {
    if (t.runningSeen === null || t.runningSeen.attempt !== j.attempt || t.runningSeen.gen !== run.gen) {
      t.runningSeen = { attempt: j.attempt, gen: run.gen, at: Date.now() };
    } else if (
      !t.stuckReported &&
      Date.now() - t.runningSeen.at - writeOutageMs(run, t.runningSeen.at, Date.now()) >
        t.timeoutS * 1000 + STUCK_MARGIN_MS
    ) {
      t.stuckReported = true;
      violate(
        run,
        'stuck_running',
        `job ${j.id} has been running attempt ${j.attempt} for more than ${Math.round((Date.now() - t.runningSeen.at) / 1000)}s (timeout ${t.timeoutS}s + ${STUCK_MARGIN_MS / 1000}s margin)`,
      );
    }
  }
  const was = t.state;
  t.state = j.state;
  if (TERMINAL.has(j.state) && !TERMINAL.has(was)) finished(run, t);
}

function finished(run: SoakRun, t: Tracked): void {
  const { outcomes } = run.result;
  run.nonTerminal.delete(t.id);
  if (t.state === 'succeeded') {
    if (t.attempt > 1 || t.isRetry) outcomes.succeeded_after_retry++;
    else outcomes.succeeded++;
  } else if (t.state === 'canceled') outcomes.canceled++;
  else {
    outcomes.failed++;
    const cls = t.errorClass ?? 'unknown';
    outcomes.failed_by_class[cls] = (outcomes.failed_by_class[cls] ?? 0) + 1;
    // The owner's move after a failure: retry it (chains are kept short so a run converges).
    const depth = t.chain.jobs.indexOf(t.id);
    if (run.retriesOn && run.loadOn && depth < 2 && !t.retried && run.reactRng.chance(0.8))
      launch(run, retryOf(run, t));
  }
  checkExpectation(run, t);
}

/** A job whose chain was neither killed nor canceled must end the way its plan says. */
function checkExpectation(run: SoakRun, t: Tracked): void {
  const { opts } = run;
  if (t.chain.killed || t.chain.canceled) return;
  run.result.checks.unexpected_outcome++;
  const exp = expectationOf(t.chain.plan, opts.maxAttempts);
  const want = t.isRetry ? { state: exp.retry, errorClass: null } : exp.first;
  const cls = t.state === 'failed' ? t.errorClass : null;
  if (t.state !== want.state || cls !== want.errorClass) {
    violate(
      run,
      'unexpected_outcome',
      `job ${t.id}${t.isRetry ? ' (a retry)' : ''} with plan exec=${t.chain.plan.exec}:${t.chain.plan.n} and max_attempts ${opts.maxAttempts} ended ${t.state}${cls ? `/${cls}` : ''} at attempt ${t.attempt}; expected ${want.state}${want.errorClass ? `/${want.errorClass}` : ''}`,
    );
  }
}

/** Reads the queued and running jobs, then each tracked job no longer among them. */
export async function poll(run: SoakRun): Promise<void> {
  const { api } = run;
  const seen = new Set<string>();
  for (const state of ['queued', 'running'] as const) {
    const a = await api.call((c, o) => c.listJobs({ state, limit: 1000 }, o));
    // A drift is reported already; the next poll tries again.
    if (a.kind === 'drift') return;
    if (a.kind === 'refused') throw new Error(`GET /api/jobs?state=${state} answered ${describe(a)}`);
    for (const j of a.value) {
      seen.add(j.id);
      observe(run, viewOf(j));
    }
  }
  // Tracked jobs no longer queued or running have finished (or, the lists being capped, are beyond them).
  const gone = [...run.nonTerminal].filter((id) => !seen.has(id)).slice(0, 100);
  for (const id of gone) {
    const a = await api.call((c, o) => c.getJob(id, o));
    if (a.kind === 'refused' && a.status === 404) {
      violate(run, 'lost_message', `job ${id} was accepted (2xx) but GET /api/jobs/${id} answers 404`);
      run.nonTerminal.delete(id);
      continue;
    }
    if (a.kind === 'ok') observe(run, viewOf(a.value));
  }
}

/** Counts the agent runs and injected faults logged since the last read. */
export function readAgentLog(run: SoakRun): void {
  const { result } = run;
  let fd: number;
  try {
    fd = fs.openSync(run.agentLog, 'r');
  } catch {
    return;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size - run.agentLogOffset, 4 * 1024 * 1024);
    if (len <= 0) return;
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, run.agentLogOffset);
    const text = buf.toString('utf8');
    const end = text.lastIndexOf('\n');
    if (end < 0) return;
    run.agentLogOffset += Buffer.byteLength(text.slice(0, end + 1));
    for (const line of text.slice(0, end).split('\n')) {
      try {
        const l = JSON.parse(line) as AgentLogLine;
        result.agentRuns[l.stage] = (result.agentRuns[l.stage] ?? 0) + 1;
        if (l.fault !== null) result.faultsInjected[l.fault]++;
        if (l.stage === 'execute') {
          result.checks.reexecuted++;
          if (l.reply_stored !== undefined)
            violate(
              run,
              'reexecuted',
              `job ${l.job} was executed again (agent pid ${l.pid}, daemon generation ${l.gen}) after its reply ${l.reply_stored} was stored`,
            );
        }
      } catch {
        // A torn line from an agent killed mid-write: not a run we can count.
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** One sample of the daemon's resources, the database and the queue; keeps the open tasks bounded. */
async function sample(run: SoakRun): Promise<void> {
  const { api, result, dbFile } = run;
  const d = run.daemon;
  if (d === null || !run.up) return;
  const t = Date.now();
  const rss = rssBytes(d.pid);
  const fds = openFds(d.pid);
  if (rss !== null) result.samples.rssMb.push({ t, v: rss / 2 ** 20, gen: d.gen });
  if (fds !== null) result.samples.fds.push({ t, v: fds, gen: d.gen });
  result.samples.dbMb.push({ t, v: fileSize(dbFile) / 2 ** 20, gen: d.gen });
  result.samples.walMb.push({ t, v: fileSize(`${dbFile}-wal`) / 2 ** 20, gen: d.gen });
  result.samples.agents.push({ t, v: findAgents(run.runId).length, gen: d.gen });
  const metrics = await api.metrics(d.url);
  const heap = metricValue(metrics, 'nodejs_heap_size_used_bytes');
  if (heap !== null) result.samples.heapMb.push({ t, v: heap / 2 ** 20, gen: d.gen });
  const worker = metricValue(metrics, 'alter0_worker_heap_bytes\\{worker="candidates",kind="used"\\}');
  if (worker !== null) result.samples.workerHeapMb.push({ t, v: worker / 2 ** 20, gen: d.gen });
  const committed = metricValue(metrics, 'nodejs_heap_size_total_bytes');
  if (rss !== null && committed !== null) {
    // The worker's isolate exists only while the router's pool needs it: no sample, nothing committed.
    const workerCommitted = metricValue(metrics, 'alter0_worker_heap_bytes\\{worker="candidates",kind="total"\\}') ?? 0;
    const v8 = (committed + workerCommitted) / 2 ** 20;
    result.samples.heapCommittedMb.push({ t, v: v8, gen: d.gen });
    result.samples.nativeMb.push({ t, v: rss / 2 ** 20 - v8, gen: d.gen });
  }
  const s = await api.call((c, o) => c.status(o));
  const depth = s.kind === 'ok' ? s.value.components.queue.details.depth : { interactive: 0, background: 0 };
  result.samples.queueDepth.push({ t, v: depth.interactive + depth.background, gen: d.gen });
  const open = await api.call((c, o) => c.listTasks({ state: 'open', limit: 1000 }, o));
  if (open.kind === 'ok') {
    const list = open.value;
    result.samples.openTasks.push({ t, v: list.length, gen: d.gen });
    // Keep the open set bounded the way an owner would: close the oldest (the list is newest first).
    if (run.loadOn && list.length > OPEN_TASKS_TARGET) {
      for (const task of list.slice(OPEN_TASKS_TARGET).slice(-5)) {
        launch(
          run,
          send(
            run,
            'close_task',
            (c, o) => c.closeTask(task.id, { reason: 'soak: too many open tasks' }, o),
            () => undefined,
          ),
        );
      }
    }
  }
}

/** Samples when the sampling interval has passed since the last sample. */
export async function sampleWhenDue(run: SoakRun): Promise<void> {
  if (Date.now() - run.lastSample >= run.opts.sampleEveryMs) {
    run.lastSample = Date.now();
    await sample(run);
  }
}

/** One unlabelled sample from a Prometheus text exposition; null when absent. */
function metricValue(text: string | null, name: string): number | null {
  if (text === null) return null;
  const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text);
  return m?.[1] === undefined ? null : Number(m[1]);
}
