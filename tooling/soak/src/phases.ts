import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkDb } from './db-check.js';
import { NoAnswerError, TERMINAL, describe, viewOf } from './http.js';
import { observe, poll, readAgentLog, sampleWhenDue } from './observe.js';
import { fileSize, findAgents, killAll } from './procs.js';
import { cancelOne, launch, submit } from './requests.js';
import { requestRestart } from './restart.js';
import { POLL_MS, harnessError, violate } from './run-state.js';
import type { SoakRun } from './run-state.js';

const MAX_INFLIGHT = 64;
/** The longest drain, in drain timeouts, while the queue goes on shrinking. */
const DRAIN_CAP = 8;
/** A line on stderr this often, so a long run shows it is alive. */
const PROGRESS_MS = 300_000;

/** Load: Poisson arrivals until the end of the load phase. */
export async function loadLoop(run: SoakRun, loadEnd: number): Promise<void> {
  const { rng, signal } = run;
  while (run.loadOn && !signal.aborted && Date.now() < loadEnd) {
    await sleep(Math.min(rng.exp(1000 / run.opts.rate), Math.max(0, loadEnd - Date.now())), undefined, { signal });
    if (!run.loadOn || Date.now() >= loadEnd) break;
    if (!run.up || run.inflight.size >= MAX_INFLIGHT) continue;
    const x = rng.next();
    if (x < 0.42) launch(run, submit(run, 'sync'));
    else if (x < 0.7) launch(run, submit(run, 'async'));
    else if (x < 0.92) launch(run, run.tasks.length > 0 ? submit(run, 'followup') : submit(run, 'sync'));
    else launch(run, cancelOne(run));
  }
}

/** Kills: uniform in [0.5, 1.5] × the mean interval, counted from the end of the previous restart's checks. */
export async function killLoop(run: SoakRun, loadEnd: number): Promise<void> {
  while (!run.signal.aborted) {
    const wait = run.opts.killEveryMs * (0.5 + run.killRng.next());
    if (Date.now() + wait >= loadEnd) break;
    await sleep(wait, undefined, { signal: run.signal });
    await requestRestart(run, 'kill');
  }
}

/** Polls job states and the agent log and samples resources until the load is off. */
export async function observeLoop(run: SoakRun): Promise<void> {
  const { signal, result } = run;
  let lastProgress = Date.now();
  while (!signal.aborted && run.loadOn) {
    await sleep(POLL_MS, undefined, { signal });
    readAgentLog(run);
    if (!run.up) continue;
    const gen = run.gen;
    try {
      await poll(run);
      await sampleWhenDue(run);
      for (const f of run.features) if (f.poll && run.up) await f.poll(run);
      if (Date.now() - lastProgress >= PROGRESS_MS) {
        lastProgress = Date.now();
        const rss = result.samples.rssMb.at(-1)?.v;
        run.log(
          `progress: ${Math.round((Date.now() - result.startedAt) / 1000)}s, ${result.accepted} accepted, ${run.nonTerminal.size} in flight, ${result.restarts.length} restarts, ${result.violations.length} violations, RSS ${rss === undefined ? '?' : rss.toFixed(0)} MB`,
        );
      }
    } catch (err) {
      // A kill (or the watchdog's) may land mid-poll, and the next lifetime may be up by the time the request
      // fails; a daemon that does not answer (SIGSTOP, a held lock) is for the checks to judge, not a harness
      // error. Anything else is worth seeing in the report.
      if (err instanceof NoAnswerError) run.result.pollsUnanswered++;
      else if (run.up && run.gen === gen && !signal.aborted) harnessError(run, 'poll', err);
    }
  }
}

/**
 * Drain: everything accepted reaches a terminal state. The drain timeout bounds the wait without progress (a job
 * left queued or running forever); a backlog that goes on shrinking is waited for, up to DRAIN_CAP drain timeouts
 * in all — how fast it shrank is the hours' queue-wait percentiles, not a violation.
 */
export async function drain(run: SoakRun): Promise<void> {
  const { signal } = run;
  const started = Date.now();
  const capEnd = started + DRAIN_CAP * run.opts.drainTimeoutMs;
  let stallEnd = started + run.opts.drainTimeoutMs;
  let fewest = Number.POSITIVE_INFINITY;
  while (!signal.aborted && Date.now() < Math.min(stallEnd, capEnd)) {
    await sleep(POLL_MS, undefined, { signal });
    try {
      await poll(run);
      await sampleWhenDue(run);
      for (const f of run.features) if (f.poll && run.up) await f.poll(run);
      const s = await run.api.call((c, o) => c.status(o));
      const byState = s.kind === 'ok' ? s.value.components.queue.details.jobs_by_state : { queued: 0, running: 0 };
      const open = byState.queued + byState.running;
      if (run.nonTerminal.size === 0 && open === 0) {
        run.result.drained = true;
        break;
      }
      const left = Math.max(open, run.nonTerminal.size);
      if (left < fewest) {
        fewest = left;
        stallEnd = Date.now() + run.opts.drainTimeoutMs;
      }
    } catch (err) {
      harnessError(run, 'drain poll', err);
    }
  }
}

/** Final: every accepted job is found and terminal. */
export async function verifyAll(run: SoakRun): Promise<void> {
  for (const t of run.jobs.values()) {
    run.result.checks.lost_message++;
    run.result.checks.not_terminal++;
    const a = await run.api.call((c, o) => c.getJob(t.id, o));
    // A drifted answer is a violation of its own (contract_drift); it says nothing about the job being lost.
    if (a.kind === 'drift') continue;
    if (a.kind === 'refused') {
      violate(
        run,
        'lost_message',
        `job ${t.id} was accepted (2xx) and is not found at the end (GET answered ${describe(a)})`,
      );
      continue;
    }
    const j = viewOf(a.value);
    if (!TERMINAL.has(j.state))
      violate(
        run,
        'not_terminal',
        `job ${t.id} is still ${j.state} (attempt ${j.attempt}) ${Math.round((Date.now() - run.result.loadEndedAt) / 1000)}s after the load stopped (the queue made no progress for ${Math.round(run.opts.drainTimeoutMs / 1000)}s, or drained for ${DRAIN_CAP} times that)`,
      );
    else if (!TERMINAL.has(t.state)) observe(run, j);
  }
}

/** Stops the daemon gracefully (SIGKILL after 40 s, or at once when interrupted) and counts its error lines. */
export async function stopDaemon(run: SoakRun): Promise<void> {
  const d = run.daemon;
  if (d === null) return;
  run.up = false;
  const stopped = await d.stop(40_000, run.signal.aborted);
  run.result.daemonErrorLines += d.errorLines;
  run.result.daemonLastErrors.push(...d.lastErrors);
  if (stopped.forced)
    harnessError(run, 'stop', new Error('alter0 serve did not stop within 40s of SIGTERM and was killed'));
}

/** After the stop: no agent is left, the database is intact and holds no unfinished job. */
export async function finalChecks(run: SoakRun): Promise<void> {
  const { result, dbFile } = run;
  // Graceful stop kills its own agents; whatever remains is an orphan.
  const left = findAgents(run.runId);
  result.checks.orphan_process++;
  for (const o of left)
    violate(
      run,
      'orphan_process',
      `agent pid ${o.pid} (stage ${o.stage || '?'}, job ${o.job || '?'}, generation ${o.gen}) is still running after alter0 serve stopped`,
    );
  killAll(left.map((o) => o.pid));
  if (fs.existsSync(dbFile)) {
    try {
      result.checks.integrity++;
      result.checks.verify++;
      const fin = await checkDb(dbFile, { verify: true, final: true }, AbortSignal.timeout(300_000));
      result.finalDb = { integrity: fin.integrity, by_state: fin.by_state };
      result.jobTimings = fin.timings ?? [];
      if (fin.integrity !== 'ok') violate(run, 'integrity', `PRAGMA integrity_check at the end: ${fin.integrity}`);
      for (const v of fin.verify ?? []) violate(run, 'verify', `alter0 db verify at the end: ${v}`);
      result.checks.canceled_and_answered += fin.by_state.canceled ?? 0;
      for (const id of fin.canceled_and_answered ?? [])
        violate(run, 'canceled_and_answered', `job ${id} is canceled and has a stored reply`);
      const open = (fin.by_state.queued ?? 0) + (fin.by_state.running ?? 0);
      if (open > 0 && !result.interrupted)
        violate(
          run,
          'not_terminal',
          `the database holds ${open} job(s) queued or running at the end (${JSON.stringify(fin.by_state)})`,
        );
    } catch (err) {
      harnessError(run, 'final database check', err);
    }
  }
  result.dbBytesEnd = fileSize(dbFile) + fileSize(`${dbFile}-wal`);
}
