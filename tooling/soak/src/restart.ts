import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess } from './daemon.js';
import { verifyFailures } from './verify-failures.js';
import { findAgents, killAll } from './procs.js';
import type { RestartCause, RestartRecord } from './result.js';
import { harnessError, violate } from './run-state.js';
import type { SoakRun } from './run-state.js';

/** After a restart, how long the previous lifetime's agents get to disappear (the executor's kill grace + slack). */
const ORPHAN_GRACE_MS = 3000 + 2000;

/** At most this many database checks wait behind the running one; more restarts than that share the next check. */
const MAX_QUEUED_CHECKS = 3;

/**
 * One restart at a time, whatever asked for it: the kill loop, the watchdog, or the supervisor after the daemon
 * exited by itself (systemd's Restart=always). A request while one is under way waits for it and, for a kill,
 * then kills the new generation.
 */
export async function requestRestart(run: SoakRun, cause: RestartCause): Promise<void> {
  while (run.restarting !== null) {
    await run.restarting;
    if (cause !== 'kill') return;
  }
  const p = restartNow(run, cause).finally(() => {
    run.restarting = null;
  });
  run.restarting = p;
  return p;
}

/** Watches a lifetime: an exit the harness did not cause is reported and restarted, as systemd would. */
export function supervise(run: SoakRun, d: DaemonProcess): void {
  void d.exited.then((exit) => {
    if (run.daemon !== d || d.expectedExit || run.signal.aborted || !run.loadOn) return;
    violate(
      run,
      'daemon_exit',
      `alter0 serve generation ${d.gen} exited by itself (code ${exit.code ?? '-'}, signal ${exit.signal ?? '-'}); the supervisor restarts it. Last log lines: ${d.logTail().split('\n').slice(-3).join(' | ')}`,
    );
    requestRestart(run, 'exit').catch((err: unknown) => {
      if (!run.signal.aborted) harnessError(run, `restart after the exit of generation ${d.gen}`, err);
    });
  });
}

/** Ends the current lifetime (kill -9 unless it already exited) and starts the next, with the checks that belong to it. */
async function restartNow(run: SoakRun, cause: RestartCause): Promise<void> {
  const d = run.daemon;
  if (d === null) return;
  const t0 = Date.now();
  const agentsAtKill = await kill9(run, d);
  const t1 = Date.now();
  const snap = snapshotAfterKill(run, d);
  run.gen++;
  const t2 = Date.now();
  const next = await startNext(run, d);
  const t3 = Date.now();
  run.daemon = next;
  run.up = true;
  supervise(run, next);
  const recovered = checkRecovered(run, d, next, snap);
  checkNothingLost(run, d);
  const record: RestartRecord = {
    cause,
    gen: run.gen,
    at: t0,
    killMs: t1 - t0,
    startMs: t3 - t2,
    restartMs: t1 - t0 + (t3 - t2),
    leftRunning: snap.length,
    recovered,
    agentsAtKill,
    orphansAfterRestart: 0,
  };
  run.result.restarts.push(record);
  // The slower checks do not hold up the next kill: they run beside the new lifetime and are awaited at the end.
  background(run, checkDatabase(run, run.gen));
  background(
    run,
    checkOrphans(run, run.gen, t0, t3).then((n) => {
      record.orphansAfterRestart = n;
    }),
  );
  for (const f of run.features) if (f.afterRestart) background(run, f.afterRestart(run));
  const every = run.result.restarts.length <= 20 || run.result.restarts.length % 50 === 0;
  if (every)
    run.log(
      `restart ${run.result.restarts.length} (${cause}): generation ${run.gen} serving after ${record.restartMs} ms; ${record.leftRunning} left running, ${record.recovered} recovered, ${record.agentsAtKill} agents at the kill`,
    );
}

/** Keeps a check running beside the load; its failure is a harness error, never an unhandled rejection. */
function background(run: SoakRun, p: Promise<void>): void {
  const q = p.catch((err: unknown) => {
    if (!run.signal.aborted) harnessError(run, 'check after a restart', err);
  });
  run.checks.add(q);
  void q.finally(() => run.checks.delete(q));
}

/**
 * `PRAGMA integrity_check` and alter0's own `db verify` after a restart, on the harness's maintenance thread (its
 * own connection, off the harness's event loop), one at a time.
 * When restarts come faster than checks, queued ones are merged: the next check covers every restart before it.
 */
async function checkDatabase(run: SoakRun, gen: number): Promise<void> {
  if (run.dbChecksQueued >= MAX_QUEUED_CHECKS) {
    run.result.dbChecksMerged++;
    return;
  }
  run.dbChecksQueued++;
  const prev = run.dbCheckChain;
  const mine = prev.then(async () => {
    run.dbChecksQueued--;
    run.result.checks.integrity++;
    run.result.checks.verify++;
    const failures = await verifyFailures(run.dbFile, { pool: run.verifyPool, signal: run.signal });
    for (const v of failures)
      violate(
        run,
        v.startsWith('integrity_check') ? 'integrity' : 'verify',
        `alter0 db verify after the restart of generation ${gen}: ${v}`,
      );
  });
  run.dbCheckChain = mine.catch(() => undefined);
  return mine;
}

/** Kills the daemon and waits for it to be gone; returns how many of its agents were running then. */
async function kill9(run: SoakRun, d: DaemonProcess): Promise<number> {
  run.up = false;
  if (d.alive) d.kill9();
  await d.exited;
  run.result.daemonErrorLines += d.errorLines;
  run.result.daemonLastErrors.push(...d.lastErrors);
  return findAgents(run.runId).filter((a) => a.gen === d.gen).length;
}

/** The jobs the dead daemon left running; their chains are no longer judged by their plans. */
function snapshotAfterKill(run: SoakRun, d: DaemonProcess): { id: string; attempt: number }[] {
  try {
    const running = run.db.running();
    for (const r of running) {
      const t = run.jobs.get(r.id);
      if (t) t.chain.killed = true;
    }
    return running;
  } catch (err) {
    // Without the snapshot, any unfinished chain may have been hit: none of them is judged by its plan.
    harnessError(run, `database snapshot after the kill of generation ${d.gen}`, err);
    for (const id of run.nonTerminal) {
      const t = run.jobs.get(id);
      if (t) t.chain.killed = true;
    }
    return [];
  }
}

/** Like systemd's RestartSec and a start limit: a start that fails is tried again this often, for this long. */
const RESTART_SEC_MS = 2000;
const START_RETRY_FOR_MS = 120_000;

/**
 * Starts the next generation, trying again like systemd's Restart=always (a start may be refused for a reason that
 * passes, such as a disk too full to start on); only a daemon that does not start at all within the bound is a
 * violation.
 */
async function startNext(run: SoakRun, dead: DaemonProcess): Promise<DaemonProcess> {
  const until = Date.now() + START_RETRY_FOR_MS;
  for (;;) {
    try {
      return await DaemonProcess.start(run.spec, run.gen, run.signal);
    } catch (err) {
      if (run.signal.aborted) throw err;
      const why = err instanceof Error ? err.message : String(err);
      run.result.failedStarts++;
      if (Date.now() + RESTART_SEC_MS > until) {
        violate(
          run,
          'restart_failed',
          `after the end of generation ${dead.gen}, alter0 serve did not start again within ${START_RETRY_FOR_MS / 1000}s (${run.result.failedStarts} failed starts in the run): ${why}`,
        );
        throw err;
      }
      run.log(
        `start of generation ${run.gen} failed; trying again in ${RESTART_SEC_MS / 1000}s: ${why.split('\n')[0] ?? ''}`,
      );
      await sleep(RESTART_SEC_MS, undefined, { signal: run.signal });
    }
  }
}

/**
 * Every job the dead process left running was recovered at start, and none still runs as that attempt (read
 * from the database once the restarted daemon is ready: recovery happens before it answers /readyz). Returns
 * how many jobs the restart reported recovering.
 */
function checkRecovered(
  run: SoakRun,
  dead: DaemonProcess,
  next: DaemonProcess,
  snap: { id: string; attempt: number }[],
): number {
  const rec = next.recovered ?? { requeued: [], failed: [], completed: [] };
  const recoveredIds = new Set([...rec.requeued, ...rec.failed, ...rec.completed]);
  run.result.outcomes.recovered += recoveredIds.size;
  const now = run.db.states(snap.map((r) => r.id));
  for (const r of snap) {
    run.result.checks.unrecovered_job++;
    if (!recoveredIds.has(r.id))
      violate(
        run,
        'unrecovered_job',
        `job ${r.id} was running (attempt ${r.attempt}) when generation ${dead.gen} was killed, but the restart did not report recovering it`,
      );
    const j = now.get(r.id);
    if (j === undefined)
      violate(run, 'lost_message', `job ${r.id} (running at the kill) is not in the database after the restart`);
    else if (j.state === 'running' && j.attempt <= r.attempt)
      violate(
        run,
        'unrecovered_job',
        `job ${r.id} is still running attempt ${j.attempt} after the restart, but that attempt died with generation ${dead.gen}`,
      );
  }
  return recoveredIds.size;
}

/** Nothing accepted during the dead lifetime is lost: each of its jobs is in the database after the restart. */
function checkNothingLost(run: SoakRun, dead: DaemonProcess): void {
  const fromDead = [...run.jobs.values()].filter((t) => t.acceptedGen === dead.gen).map((t) => t.id);
  const found = run.db.states(fromDead);
  for (const id of fromDead) {
    run.result.checks.lost_message++;
    if (!found.has(id))
      violate(
        run,
        'lost_message',
        `job ${id} was accepted (2xx) before the kill -9 of generation ${dead.gen} and is gone after the restart`,
      );
  }
}

/** The previous lifetimes' agents: the restarted service must not leave them running. Returns how many it did. */
async function checkOrphans(run: SoakRun, gen: number, killedAt: number, restartedAt: number): Promise<number> {
  await sleep(ORPHAN_GRACE_MS, undefined, { signal: run.signal });
  const orphans = findAgents(run.runId).filter((a) => a.gen < gen);
  run.result.checks.orphan_process++;
  for (const o of orphans) {
    violate(
      run,
      'orphan_process',
      `agent pid ${o.pid} (stage ${o.stage || '?'}, job ${o.job || '?'}) spawned by generation ${o.gen} is still running ${Math.round((Date.now() - killedAt) / 1000)}s after that daemon was killed and ${Math.round((Date.now() - restartedAt) / 1000)}s after the restart (parent pid ${o.ppid}, ${o.envVars} environment variables, args: ${o.args || 'none'})`,
    );
  }
  // Reported once; removed so they neither pile up nor are counted again.
  killAll(orphans.map((o) => o.pid));
  return orphans.length;
}
