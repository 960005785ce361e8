import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { until } from './until.js';

/*
 * Process scans from /proc (Linux). Zombies never count as alive: orphans are reaped by PID 1, which in some
 * containers and microVMs reaps late, so `kill(pid, 0)` alone can succeed after a process is dead.
 */

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
}

/** Every live (non-zombie) process. */
export function liveProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      out.push({ pid: Number(name), ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}

/** Running and not a zombie. */
export function liveProcess(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** `kill(pid, 0)`: exists (a zombie included). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Live members of a process group. */
export function liveGroupMembers(pgid: number): number[] {
  return liveInGroups([pgid]);
}

/** Live members of these process groups. */
export function liveInGroups(pgids: readonly number[]): number[] {
  const groups = new Set(pgids);
  return liveProcesses()
    .filter((p) => groups.has(p.pgid))
    .map((p) => p.pid);
}

/**
 * Waits until no process of the group runs, and returns those still running after `ms` (none: []). A killed
 * group's members die a moment after the signal (later on a loaded machine).
 */
export async function groupGone(pgid: number, ms = 15_000): Promise<number[]> {
  try {
    await until(() => liveGroupMembers(pgid).length === 0, { timeoutMs: ms, what: `process group ${pgid} to be gone` });
    return [];
  } catch {
    return liveGroupMembers(pgid);
  }
}

/** Backstop for a failed test: SIGKILL what is left of these groups so nothing outlives the test. */
export function killGroups(pgids: readonly number[]): void {
  for (const g of pgids) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Pids of live processes whose working directory is exactly `dir`. */
export function liveProcessesIn(dir: string): number[] {
  return liveProcesses()
    .filter((p) => cwdOf(p.pid) === dir)
    .map((p) => p.pid);
}

export interface ProcessUnder extends ProcInfo {
  cwd: string;
  cmdline: string;
}

/** Live processes whose working directory is `dir` or below it (e.g. every agent a daemon started in its data dir). */
export function processesUnder(dir: string): ProcessUnder[] {
  const root = realpathSync(dir);
  const out: ProcessUnder[] = [];
  for (const p of liveProcesses()) {
    try {
      const cwd = readlinkSync(`/proc/${p.pid}/cwd`);
      if (cwd !== root && !cwd.startsWith(root + sep)) continue;
      const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      out.push({ ...p, cwd, cmdline });
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}

function cwdOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}
