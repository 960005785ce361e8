import type { SoakRun } from '../run-state.js';
import type { Pause } from '../stats.js';

/**
 * One part of the day profile that lives beside the core load (a channel, approvals, schedules, hostile moments).
 * The core calls these hooks; a feature never reaches into another feature's state. Every hook takes the run's
 * AbortSignal through `run.signal` and must return promptly once it is aborted.
 */
export interface SoakFeature {
  readonly name: string;
  /**
   * Before the first daemon start: the `--set key=value` overrides and environment variables this feature needs
   * (added to every generation's start), and a place to start its own servers.
   */
  prepare(run: SoakRun): Promise<{ sets: string[]; env: Record<string, string> }>;
  /** Its own traffic and outages until `loadEnd` (or `run.loadOn` turns false); resolves when it stops. */
  load?(run: SoakRun, loadEnd: number): Promise<void>;
  /** Each time a new daemon generation is ready (after a kill, a watchdog restart, or any exit). */
  afterRestart?(run: SoakRun): Promise<void>;
  /** About once a second while the daemon is up: continuous invariant checks. */
  poll?(run: SoakRun): Promise<void>;
  /** After the drain, with the daemon still up: the feature's final invariant checks. */
  final?(run: SoakRun): Promise<void>;
  /** Always called at the very end (servers closed, mounts removed, helpers killed). */
  close(): Promise<void>;
}

/**
 * A hostile moment of the day (disk full, a held database, a clock jump, SIGSTOP): run once at its slot of the
 * timeline, while no kill -9 is scheduled, it does the harm, checks the expected outcome (violations of kind
 * `hostile_outcome` say which expectation failed) and undoes the harm before it resolves.
 */
export interface HostileMoment {
  readonly name: string;
  /** What the owner should see, in one line, for the report. */
  readonly expect: string;
  run(run: SoakRun): Promise<MomentRecord>;
}

/** What one hostile moment did and saw, for the report. */
export interface MomentRecord {
  name: string;
  startedAt: number;
  endedAt: number;
  /** Whether every expected outcome held (a violation was recorded for each one that did not). */
  ok: boolean;
  /** What was observed, e.g. `{ refused_507: 41, answered_500: 0, recovered_after_ms: 2300 }`. */
  observed: Record<string, number | string | boolean>;
  /**
   * Only a peer of the daemon went down (the fake Bot API, the webhook receivers): the daemon itself ran on, so its
   * scheduler is not excused meanwhile.
   */
  peerOnly?: boolean;
  /**
   * The daemon was stopped (SIGSTOP) and continued at these times (ms): its memory slopes are fitted apart before and
   * after, leaving out the burst that follows SIGCONT (report.ts).
   */
  pause?: Pause;
}
