import fs from 'node:fs';
import { DaemonProcess } from './daemon.js';
import type { SoakOptions } from './options.js';
import { readAgentLog } from './observe.js';
import { drain, finalChecks, killLoop, loadLoop, observeLoop, stopDaemon, verifyAll } from './phases.js';
import { findAgents, killAll } from './procs.js';
import type { SoakResult } from './result.js';
import { dayPlan } from './day/plan.js';
import { dayTimeline } from './day/timeline.js';
import { adopt } from './requests.js';
import { requestRestart, supervise } from './restart.js';
import { harnessError, prepareRun } from './run-state.js';
import type { SoakRun } from './run-state.js';

/**
 * Runs one soak: the caller owns the options and the signal (SIGINT → abort), and writes the report. Phases:
 * prepare, start the daemon, load with kills and restarts while observing, drain, verify, stop and check.
 */
export async function runSoak(
  opts: SoakOptions,
  paths: { agent: string },
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<SoakResult> {
  const run = prepareRun(opts, paths, signal, log);
  const { result } = run;
  const plan = dayPlan(opts, {
    adopt: (id, p) => adopt(run, id, p),
    restart: (cause) => requestRestart(run, cause),
    skipped: (what, why) => {
      run.result.skipped.push(`${what}: ${why}`);
      log(`skipped: ${what}: ${why}`);
    },
  });
  run.features = plan.features;
  const stopAll = (): void => {
    run.daemon?.kill9();
    killAll(findAgents(run.runId).map((a) => a.pid));
  };
  process.on('exit', stopAll);
  const loadEnd = result.startedAt + opts.durationMs;
  const loops: Promise<void>[] = [];
  let observer: Promise<void> = Promise.resolve();
  try {
    await prepareFeatures(run);
    run.daemon = await DaemonProcess.start(run.spec, run.gen, signal);
    run.up = true;
    supervise(run, run.daemon);
    log(
      `alter0 serve generation 1 at ${run.daemon.url} (pid ${run.daemon.pid}); data ${run.dataDir}; run ${run.runId}`,
    );
    loops.push(loadLoop(run, loadEnd));
    if (opts.killEveryMs > 0) loops.push(killLoop(run, loadEnd));
    if (opts.profile === 'day') loops.push(dayTimeline(run, plan.moments, loadEnd));
    for (const f of run.features) if (f.load) loops.push(f.load(run, loadEnd));
    observer = observeLoop(run);

    await Promise.all(loops);
    result.loadEndedAt = Date.now();
    run.retriesOn = false;
    log(
      `load ended after ${Math.round((result.loadEndedAt - result.startedAt) / 1000)}s: ${result.accepted} jobs accepted, ${result.restarts.length} restarts; draining`,
    );
    await Promise.allSettled([...run.inflight]);
    await drain(run);
    run.loadOn = false;
    await observer;
    await Promise.allSettled([...run.inflight]);
    result.drainedAt = Date.now();
    readAgentLog(run);
    await verifyAll(run);
    for (const f of run.features) if (f.final) await guarded(run, `${f.name} final checks`, f.final(run));
  } catch (err) {
    if (!signal.aborted) harnessError(run, 'soak', err);
  } finally {
    await shutDown(run, [...loops, observer]);
    for (const f of run.features) await guarded(run, `${f.name} close`, f.close());
    process.off('exit', stopAll);
    run.db.close();
    await run.verifyPool.close();
    result.endedAt = Date.now();
    // The work dir holds the agent's state and log, and the data dir unless --data named one.
    if (!(opts.keepData && opts.data === null)) fs.rmSync(run.work, { recursive: true, force: true });
  }
  return result;
}

/** Ends the run whatever happened: load off, everything in flight settled, the daemon stopped, final checks. */
async function shutDown(run: SoakRun, running: Promise<void>[]): Promise<void> {
  run.result.interrupted = run.signal.aborted;
  run.loadOn = false;
  await Promise.allSettled([...running, ...run.inflight]);
  await Promise.allSettled([...run.checks]);
  await stopDaemon(run);
  await finalChecks(run);
}

/** Each feature's settings and environment go into every generation's start. */
async function prepareFeatures(run: SoakRun): Promise<void> {
  for (const f of run.features) {
    const { sets, env } = await f.prepare(run);
    run.spec.sets.push(...sets);
    Object.assign(run.spec.env, env);
  }
}

/** A feature's failure is the harness's error, reported, and never takes the run down. */
async function guarded(run: SoakRun, what: string, p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!run.signal.aborted) harnessError(run, what, err);
  }
}
