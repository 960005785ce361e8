import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess } from './daemon.js';
import { checkDb } from './db-check.js';
import type { DbCheck } from './db-check.js';
import { describe, viewOf } from './http.js';
import { findAgents, killAll } from './procs.js';
import type { RestartRecord } from './result.js';
import { harnessError, violate } from './run-state.js';
import type { SoakRun } from './run-state.js';

/** After a restart, how long the previous lifetime's agents get to disappear (the executor's kill grace + slack). */
const ORPHAN_GRACE_MS = 3000 + 2000;

/** kill -9 of the current daemon and a restart, with the checks that belong to it. */
export async function restart(run: SoakRun): Promise<void> {
  const d = run.daemon;
  if (d === null) return;
  const t0 = Date.now();
  const agentsAtKill = await kill9(run, d);
  const t1 = Date.now();
  const snap = await snapshotAfterKill(run, d);
  run.gen++;
  const t2 = Date.now();
  const next = await startNext(run, d);
  const t3 = Date.now();
  run.daemon = next;
  run.up = true;
  const recovered = await checkRecovered(run, d, next, snap);
  await checkNothingLost(run, d);
  run.result.checks.integrity++;
  const integ = await checkDb(run.dbFile, true, run.signal);
  if (integ.integrity !== 'ok')
    violate(run, 'integrity', `PRAGMA integrity_check after the restart of generation ${run.gen}: ${integ.integrity}`);
  const orphans = await checkOrphans(run, t0, t3);
  const record: RestartRecord = {
    gen: run.gen,
    at: t0,
    killMs: t1 - t0,
    startMs: t3 - t2,
    restartMs: t1 - t0 + (t3 - t2),
    leftRunning: snap.running.length,
    recovered,
    agentsAtKill,
    orphansAfterRestart: orphans,
  };
  run.result.restarts.push(record);
  run.log(
    `restart ${run.result.restarts.length}: generation ${run.gen} serving after ${record.restartMs} ms; ${record.leftRunning} left running, ${record.recovered} recovered, ${record.agentsAtKill} agents at the kill, ${record.orphansAfterRestart} orphans after`,
  );
}

/** Kills the daemon and waits for it to be gone; returns how many of its agents were running then. */
async function kill9(run: SoakRun, d: DaemonProcess): Promise<number> {
  run.up = false;
  d.kill9();
  await d.exited;
  run.result.daemonErrorLines += d.errorLines;
  run.result.daemonLastErrors.push(...d.lastErrors);
  return findAgents(run.runId).filter((a) => a.gen === d.gen).length;
}

/** The jobs the dead daemon left running; their chains are no longer judged by their plans. */
async function snapshotAfterKill(run: SoakRun, d: DaemonProcess): Promise<DbCheck> {
  let snap: DbCheck = { integrity: null, running: [], by_state: {} };
  try {
    snap = await checkDb(run.dbFile, false, run.signal);
    for (const r of snap.running) {
      const t = run.jobs.get(r.id);
      if (t) t.chain.killed = true;
    }
  } catch (err) {
    if (run.signal.aborted) throw err;
    // Without the snapshot, any unfinished chain may have been hit: none of them is judged by its plan.
    harnessError(run, `database snapshot after the kill of generation ${d.gen}`, err);
    for (const id of run.nonTerminal) {
      const t = run.jobs.get(id);
      if (t) t.chain.killed = true;
    }
  }
  return snap;
}

async function startNext(run: SoakRun, dead: DaemonProcess): Promise<DaemonProcess> {
  try {
    return await DaemonProcess.start(run.spec, run.gen, run.signal);
  } catch (err) {
    if (run.signal.aborted) throw err;
    violate(
      run,
      'restart_failed',
      `after kill -9 of generation ${dead.gen}, alter0 serve did not start again: ${err instanceof Error ? err.message : String(err)}`,
    );
    throw err;
  }
}

/**
 * Every job the dead process left running was recovered at start, and none still runs as that attempt.
 * Returns how many jobs the restart reported recovering.
 */
async function checkRecovered(run: SoakRun, dead: DaemonProcess, next: DaemonProcess, snap: DbCheck): Promise<number> {
  const rec = next.recovered ?? { requeued: [], failed: [], completed: [] };
  const recoveredIds = new Set([...rec.requeued, ...rec.failed, ...rec.completed]);
  run.result.outcomes.recovered += recoveredIds.size;
  for (const r of snap.running) {
    run.result.checks.unrecovered_job++;
    if (!recoveredIds.has(r.id))
      violate(
        run,
        'unrecovered_job',
        `job ${r.id} was running (attempt ${r.attempt}) when generation ${dead.gen} was killed, but the restart did not report recovering it`,
      );
    const a = await run.api.call((c, o) => c.getJob(r.id, o));
    if (a.kind === 'drift') continue;
    const j = a.kind === 'ok' ? viewOf(a.value) : null;
    if (a.kind === 'refused')
      violate(
        run,
        'lost_message',
        `job ${r.id} (running at the kill) is not found after the restart (GET answered ${describe(a)})`,
      );
    else if (j !== null && j.state === 'running' && j.attempt <= r.attempt) {
      violate(
        run,
        'unrecovered_job',
        `job ${r.id} is still running attempt ${j.attempt} after the restart, but that attempt died with generation ${dead.gen}`,
      );
    }
  }
  return recoveredIds.size;
}

/** Nothing accepted during the dead lifetime is lost. */
async function checkNothingLost(run: SoakRun, dead: DaemonProcess): Promise<void> {
  const fromDead = [...run.jobs.values()].filter((t) => t.acceptedGen === dead.gen);
  for (const t of fromDead) {
    run.result.checks.lost_message++;
    const a = await run.api.call((c, o) => c.getJob(t.id, o));
    if (a.kind === 'refused' && a.status === 404)
      violate(
        run,
        'lost_message',
        `job ${t.id} was accepted (2xx) before the kill -9 of generation ${dead.gen} and is gone after the restart`,
      );
  }
}

/** The previous lifetime's agents: the restarted service must not leave them running. Returns how many it did. */
async function checkOrphans(run: SoakRun, killedAt: number, restartedAt: number): Promise<number> {
  await sleep(ORPHAN_GRACE_MS, undefined, { signal: run.signal });
  const orphans = findAgents(run.runId).filter((a) => a.gen < run.gen);
  run.result.checks.orphan_process++;
  for (const o of orphans) {
    violate(
      run,
      'orphan_process',
      `agent pid ${o.pid} (stage ${o.stage || '?'}, job ${o.job || '?'}) spawned by generation ${o.gen} is still running ${Math.round((Date.now() - killedAt) / 1000)}s after that daemon was killed and ${Math.round((Date.now() - restartedAt) / 1000)}s after the restart`,
    );
  }
  // Reported once; removed so they neither pile up nor are counted again.
  killAll(orphans.map((o) => o.pid));
  return orphans.length;
}
