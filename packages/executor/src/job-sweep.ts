// The job-id sweep of invariant 8: the processes whose environment carries a job's id, and their SIGKILL. Nothing
// but node:fs and modules as small: the spawner's helper process runs it too (Spawner.sweepJob), and its module
// graph stays small so it starts fast.
import { readFileSync } from 'node:fs';
import { JOB_ID_ENV } from './child-env.js';
import { procSnapshot, running } from './proc.js';
import type { ProcStat } from './proc.js';

/**
 * A job id: `j_` + a lower-case ULID. The same test as `looksLikeId(id, 'j')` of @alter0/core, written out here so
 * that the helper does not load @alter0/core (a test holds the two to the same answers).
 */
const JOB_ID_RE = /^j_[0-9a-hjkmnp-tv-z]{26}$/;

export function isJobId(jobId: string): boolean {
  return JOB_ID_RE.test(jobId);
}

/**
 * The running processes whose environment carries `ALTER0_JOB_ID=<jobId>` (every agent run gets
 * it, and its tools inherit it), other than this process and its ancestors. This finds a job's
 * tools after the CLI that started them died and they were reparented away from its tree. Only a
 * real job id (`j_` + ULID, unique across data directories and restarts) is looked for, so no
 * process that is not this job's can match; processes of other users are unreadable and skipped.
 * `self` and its ancestors are spared: a daemon started from inside an agent run carries that job id.
 * So are each of `spare` and its ancestors (the spawner's helper, which sweeps for the daemon, spares itself).
 */
export function jobProcesses(jobId: string, self: number = process.pid, spare: readonly number[] = []): number[] {
  if (!isJobId(jobId)) return [];
  const procs = procSnapshot();
  if (procs === null) return [];
  const entry = `${JOB_ID_ENV}=${jobId}`;
  const spared = ancestry([self, ...spare], procs);
  const out: number[] = [];
  for (const p of procs) {
    if (!running(p) || spared.has(p.pid)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${p.pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (environ.split('\0').includes(entry)) out.push(p.pid);
  }
  return out;
}

/** SIGKILLs every process of `jobProcesses(jobId, self, spare)`; returns how many. */
export function killJobProcesses(jobId: string, self: number = process.pid, spare: readonly number[] = []): number {
  const killed = new Set<number>();
  // A process may fork between the scan and the kill: look again until a scan finds nothing new.
  for (let round = 0; round < 5; round += 1) {
    const fresh = jobProcesses(jobId, self, spare).filter((pid) => !killed.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch {
        // exited meanwhile
      }
    }
  }
  return killed.size;
}

/** Each of `pids` and its ancestors. */
function ancestry(pids: readonly number[], procs: readonly ProcStat[]): Set<number> {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const out = new Set<number>();
  for (const pid0 of pids) {
    for (let pid: number | undefined = pid0; pid !== undefined && pid > 0 && !out.has(pid); pid = byPid.get(pid)?.ppid)
      out.add(pid);
  }
  return out;
}
