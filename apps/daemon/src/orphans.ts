import fs from 'node:fs';
import path from 'node:path';
import { ProcessGroups } from '@alter0/executor';

/**
 * Agent process groups, recorded on disk while they run (`<data>/run/groups/<pgid>`, holding the leader's
 * start time). A `kill -9` of the daemon cannot kill its detached children, so the next start reaps every
 * recorded group still alive (invariant 8: no agent process outlives its job). Under systemd (KillMode=mixed)
 * or Docker (tini) the supervisor does this too; this covers a plain `alter0 serve`.
 */
export class RecordedProcessGroups extends ProcessGroups {
  constructor(private readonly dir: string) {
    super();
    fs.mkdirSync(dir, { recursive: true });
  }

  override add(pgid: number): void {
    super.add(pgid);
    try {
      fs.writeFileSync(path.join(this.dir, String(pgid)), String(startTime(pgid) ?? ''));
    } catch {
      // Recording is a backstop; a full disk must not fail the run itself.
    }
  }

  override delete(pgid: number): void {
    super.delete(pgid);
    fs.rmSync(path.join(this.dir, String(pgid)), { force: true });
  }
}

/** Kills the recorded groups of a previous process that are still alive; returns how many were killed. */
export function reapOrphanGroups(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let killed = 0;
  for (const name of fs.readdirSync(dir)) {
    const pgid = Number(name);
    const file = path.join(dir, name);
    if (!Number.isInteger(pgid) || pgid <= 1) {
      fs.rmSync(file, { force: true });
      continue;
    }
    const recorded = fs.readFileSync(file, 'utf8').trim();
    const leaderStart = startTime(pgid);
    // A live leader with another start time is a new process that reused the pid: not ours. With the leader
    // gone, the group id cannot have been reused while members of our group still hold it.
    const ours = leaderStart === null || recorded === '' || String(leaderStart) === recorded;
    if (ours) {
      try {
        process.kill(-pgid, 'SIGKILL');
        killed++;
      } catch {
        // ESRCH: the group is already gone.
      }
    }
    fs.rmSync(file, { force: true });
  }
  return killed;
}

/** Field 22 of /proc/<pid>/stat: the process start time in clock ticks since boot (null if not running). */
function startTime(pid: number): number | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}
