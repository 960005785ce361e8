import fs from 'node:fs';

/**
 * Resident set size of a process in bytes, from /proc/<pid>/status; null when it is gone, or exiting (the kernel
 * drops the Vm lines once the process has released its memory).
 */
export function rssBytes(pid: number, procRoot = '/proc'): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`${procRoot}/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

/** Number of open file descriptors of a process; null when it is gone. */
export function openFds(pid: number): number | null {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

export interface AgentProcess {
  pid: number;
  /** The daemon lifetime that spawned it (SOAK_GEN in its environment); 0 when unreadable. */
  gen: number;
  /** The job it works for (ALTER0_JOB_ID), '' when unreadable. */
  job: string;
  stage: string;
  /** Its parent's pid (1 or a subreaper once orphaned), and how many variables its environment had. */
  ppid: number;
  envVars: number;
  /** Its arguments after the marker (the agent's own flags), for a report that must say which process it was. */
  args: string;
}

/**
 * Every live (non-zombie, not exiting) process whose argv carries `--soak-run <runId>`: the fake agents of this
 * run, found without relying on the daemon (which may have been killed) or on process groups (which it owns).
 * `procRoot` is for tests.
 */
export function findAgents(runId: string, procRoot = '/proc'): AgentProcess[] {
  const marker = `\0--soak-run\0${runId}\0`;
  const out: AgentProcess[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const cmdline = `\0${fs.readFileSync(`${procRoot}/${pid}/cmdline`, 'latin1')}`;
      const at = cmdline.indexOf(marker);
      if (at < 0) continue;
      const stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = fields[0];
      if (state === 'Z' || state === 'X') continue;
      const env = readEnviron(`${procRoot}/${pid}/environ`);
      // An agent that exits while we look has released its memory before it becomes a zombie: its environment
      // then reads empty, which would make it a "generation 0" agent — an orphan of no daemon (the fifth day's
      // one orphan). Once the memory is gone the Vm lines of its status are gone too; it is not an agent that remains.
      if (rssBytes(pid, procRoot) === null) continue;
      out.push({
        pid,
        gen: Number(env.get('SOAK_GEN') ?? 0),
        job: env.get('ALTER0_JOB_ID') ?? '',
        stage: env.get('ALTER0_STAGE') ?? '',
        ppid: Number(fields[1] ?? 0),
        envVars: env.size,
        args: cmdline
          .slice(at + marker.length)
          .split('\0')
          .join(' ')
          .trim()
          .slice(0, 200),
      });
    } catch {
      // It exited while we looked: not an agent that remains.
    }
  }
  return out;
}

function readEnviron(file: string): Map<string, string> {
  const env = new Map<string, string>();
  try {
    for (const kv of fs.readFileSync(file, 'latin1').split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) env.set(kv.slice(0, i), kv.slice(i + 1));
    }
  } catch {
    // Unreadable environment: the caller sees gen 0.
  }
  return env;
}

/** SIGKILL each process; returns how many were signalled. */
export function killAll(pids: readonly number[]): number {
  let n = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // Already gone.
    }
  }
  return n;
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
