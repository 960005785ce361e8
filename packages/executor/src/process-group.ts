import { readdirSync, readFileSync } from 'node:fs';

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
  const members = groupMembers(pgid);
  // Without /proc we cannot tell zombies apart: trust kill(0).
  if (members === null) return true;
  return members.some((m) => m.state !== 'Z' && m.state !== 'X');
}

interface ProcStat {
  pid: number;
  state: string;
  pgrp: number;
}

function groupMembers(pgid: number): ProcStat[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const out: ProcStat[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st !== null && st.pgrp === pgid) out.push(st);
  }
  return out;
}

/** Parse /proc/<pid>/stat; the command name is in parentheses and may itself contain spaces or ')'. */
export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  if (state === undefined || !Number.isInteger(pgrp)) return null;
  return { pid, state, pgrp };
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === code;
}

/**
 * The process groups of runs in flight, so the daemon can kill them all at shutdown even when
 * a run's own AbortSignal is not reachable (e.g. from a synchronous 'exit' handler).
 */
export class ProcessGroups {
  readonly #live = new Set<number>();

  add(pgid: number): void {
    this.#live.add(pgid);
  }

  delete(pgid: number): void {
    this.#live.delete(pgid);
  }

  get size(): number {
    return this.#live.size;
  }

  /** The process group ids of the runs in flight (each is its leader's pid). */
  list(): number[] {
    return [...this.#live];
  }

  /** SIGKILL every tracked group at once; synchronous so it can run in a process 'exit' handler. */
  killAll(): number {
    let killed = 0;
    for (const pgid of this.#live) {
      if (signalGroup(pgid, 'SIGKILL')) killed += 1;
    }
    this.#live.clear();
    return killed;
  }
}
