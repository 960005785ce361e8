import { setTimeout as sleep } from 'node:timers/promises';
import { requestRestart } from '../restart.js';
import { harnessError, violate } from '../run-state.js';
import type { SoakRun } from '../run-state.js';
import { summarize } from '../stats.js';
import type { HostileMoment } from './feature.js';

/** A kill lands this long after the previous restart at the soonest: the new lifetime has started some work. */
const MIN_WAIT_MS = 200;
const MAX_WAIT_MS = 8000;

async function until(run: SoakRun, t: number): Promise<void> {
  const ms = t - Date.now();
  if (ms > 0) await sleep(ms, undefined, { signal: run.signal });
}

/**
 * The day's timeline: a calm phase (long daemon lifetimes, for the slopes) in which the hostile moments come one
 * by one at evenly spaced slots, then the storm: kill -9s at random moments until the load ends.
 */
export async function dayTimeline(run: SoakRun, moments: HostileMoment[], loadEnd: number): Promise<void> {
  const start = run.result.startedAt;
  const calmEnd = start + run.opts.calmShare * (loadEnd - start);
  for (const [i, m] of moments.entries()) {
    // Evenly spaced, the first soon after the start: a short day has little calm to spare.
    await until(run, start + ((i + 0.5) * (calmEnd - start)) / (moments.length + 0.5));
    if (!run.loadOn || run.signal.aborted) return;
    run.log(`hostile moment ${i + 1}/${moments.length}: ${m.name} — expected: ${m.expect}`);
    try {
      const rec = await m.run(run);
      run.result.moments.push(rec);
      run.log(
        `hostile moment ${m.name}: ${rec.ok ? 'as expected' : 'NOT as expected'} ${JSON.stringify(rec.observed)}`,
      );
    } catch (err) {
      if (run.signal.aborted) return;
      violate(run, 'hostile_outcome', `hostile moment ${m.name} failed to run: ${errText(err)}`);
    }
  }
  await until(run, calmEnd);
  await storm(run, loadEnd);
}

/**
 * kill -9 at random moments until the load ends, spread so that `opts.kills` land: the mean wait after a restart
 * is what is left of the storm per kill still owed, less the restarts' own median time, drawn uniformly from
 * 0.25–1.75× that mean.
 */
async function storm(run: SoakRun, loadEnd: number): Promise<void> {
  const target = run.opts.kills;
  run.log(`storm: ${target} kill -9s until ${new Date(loadEnd).toISOString()}`);
  let kills = 0;
  while (run.loadOn && !run.signal.aborted && Date.now() < loadEnd) {
    const left = Math.max(1, target - kills);
    const recent = run.result.restarts.slice(-20).map((r) => r.restartMs);
    const restartMs = summarize(recent).median ?? 2000;
    const mean = Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, (loadEnd - Date.now()) / left - restartMs));
    const wait = mean * (0.25 + 1.5 * run.killRng.next());
    if (Date.now() + wait >= loadEnd) break;
    await sleep(wait, undefined, { signal: run.signal });
    try {
      await requestRestart(run, 'kill');
      kills++;
    } catch (err) {
      if (run.signal.aborted) return;
      harnessError(run, 'storm restart', err);
      return;
    }
  }
  run.log(`storm over: ${kills} kill -9s`);
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
