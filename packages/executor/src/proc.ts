// The process table as /proc shows it, with nothing but node:fs: the spawner's helper process uses it too, and its
// module graph stays small so it starts fast.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  /** Clock ticks since boot when the process started: with the pid, it names one process (pids are reused). */
  start: number;
}

/** Every process in /proc, or null without /proc. */
export function procSnapshot(): ProcStat[] | null {
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
    if (st !== null) out.push(st);
  }
  return out;
}

export function running(p: ProcStat): boolean {
  return p.state !== 'Z' && p.state !== 'X';
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
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  const start = Number(fields[19]);
  if (state === undefined || !Number.isInteger(ppid) || !Number.isInteger(pgrp) || !Number.isInteger(start))
    return null;
  return { pid, state, ppid, pgrp, start };
}

/** The start time of process `pid` (see ProcStat.start), or null when no such process exists. */
export function startTime(pid: number): number | null {
  return readStat(pid)?.start ?? null;
}

/**
 * The process groups of the tree rooted at group `pgid`: `pgid` itself, then the group of every
 * descendant of its members (ppid links over one /proc snapshot). Agent CLIs start tools in
 * sessions of their own (claude's Bash tool does): signalling only `pgid` misses those, and a
 * SIGKILLed CLI cannot clean them up. Only the live tree is found: a process whose parent already
 * died was reparented to PID 1 (or a subreaper), so take the snapshot while the CLI still runs.
 */
export function treeGroups(pgid: number): number[] {
  const procs = procSnapshot();
  const groups = new Set([pgid]);
  if (procs === null) return [...groups];
  const children = new Map<number, ProcStat[]>();
  for (const p of procs) {
    const siblings = children.get(p.ppid);
    if (siblings === undefined) children.set(p.ppid, [p]);
    else siblings.push(p);
  }
  const seen = new Set<number>();
  const stack = procs.filter((p) => p.pgrp === pgid);
  for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    groups.add(p.pgrp);
    stack.push(...(children.get(p.pid) ?? []));
  }
  return [...groups];
}
