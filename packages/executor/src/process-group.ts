import { killJobProcesses } from './job-sweep.js';
import { procSnapshot, readStat, running, startTime, treeGroups } from './proc.js';

export { readStat, startTime, treeGroups } from './proc.js';
export { jobProcesses, killJobProcesses } from './job-sweep.js';

/** Send `sig` to every process in group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch (err) {
    if (isErrno(err, 'ESRCH')) return false;
    throw err;
  }
}

/**
 * True while some process of the group is still running. Zombies do not count: an orphaned
 * grandchild is reaped by PID 1 (or a subreaper), and some inits (containers, microVMs) reap
 * late, so `kill(-pgid, 0)` can keep succeeding for seconds after everything is dead.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  const procs = procSnapshot();
  // Without /proc we cannot tell zombies apart: trust kill(0).
  if (procs === null) return true;
  return procs.some((p) => p.pgrp === pgid && running(p));
}

/**
 * The process groups of one run's tree, gathered over several snapshots: a process that outlives
 * its parent's death (e.g. a tool that ignores SIGTERM after the CLI died of it) is no longer
 * reachable by ppid links, so groups seen once stay in. Each group's leader start time is kept:
 * a group id can be reused once all its members are gone, and a group whose leader pid now names
 * a different process is no longer this run's and is never signalled.
 */
export class RunGroups {
  /** pgid → its leader's start time when first seen (null: the leader had already exited). */
  readonly #groups = new Map<number, number | null>();
  readonly #ownGroup = readStat(process.pid)?.pgrp ?? null;

  constructor(readonly root: number) {
    this.snapshot();
  }

  /** Adds the groups of the tree as it is now. */
  snapshot(): void {
    for (const g of treeGroups(this.root)) {
      if (!this.#groups.has(g)) this.#groups.set(g, startTime(g));
    }
  }

  /** The groups that are still this run's (see the class comment). */
  ours(): number[] {
    const out: number[] = [];
    for (const [g, leaderStart] of this.#groups) {
      // Never our own group or init's: a tree walk cannot reach them, but a bug must not kill the daemon.
      if (g <= 1 || g === this.#ownGroup) continue;
      const now = startTime(g);
      if (now === null || now === leaderStart) out.push(g);
    }
    return out;
  }

  /** Signals every group; returns how many existed. */
  signal(sig: NodeJS.Signals): number {
    let n = 0;
    for (const g of this.ours()) if (signalGroup(g, sig)) n += 1;
    return n;
  }

  /** True while any group has a running (non-zombie) member. */
  alive(): boolean {
    const groups = this.ours().filter((g) => signalGroup(g, 0));
    if (groups.length === 0) return false;
    const procs = procSnapshot();
    if (procs === null) return true;
    const set = new Set(groups);
    return procs.some((p) => set.has(p.pgrp) && running(p));
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}

/**
 * The process groups of runs in flight, so the daemon can kill them all at shutdown even when
 * a run's own AbortSignal is not reachable (e.g. from a synchronous 'exit' handler).
 */
export class ProcessGroups {
  /** pgid → the run's job id (null when it has none). */
  readonly #live = new Map<number, string | null>();

  /** Tracks the run whose CLI leads group `pgid`; `jobId` is the ALTER0_JOB_ID its processes carry. */
  add(pgid: number, jobId: string | null = null): void {
    this.#live.set(pgid, jobId);
  }

  delete(pgid: number): void {
    this.#live.delete(pgid);
  }

  get size(): number {
    return this.#live.size;
  }

  /** The process group ids of the runs in flight (each is its leader's pid). */
  list(): number[] {
    return [...this.#live.keys()];
  }

  /**
   * SIGKILL every tracked run at once: the groups of its process tree, and the processes that carry
   * its job id (tools whose CLI already died). Synchronous so it can run in a process 'exit'
   * handler. Returns how many runs had something to kill.
   */
  killAll(): number {
    let killed = 0;
    for (const [pgid, jobId] of this.#live) {
      const groups = new RunGroups(pgid).signal('SIGKILL');
      const marked = jobId === null ? 0 : killJobProcesses(jobId);
      if (groups + marked > 0) killed += 1;
    }
    this.#live.clear();
    return killed;
  }
}
