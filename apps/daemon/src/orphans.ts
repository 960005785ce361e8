import fs from 'node:fs';
import path from 'node:path';
import { currentUid, trustProblem } from '@alter0/config';
import { ProcessGroups, RunGroups, killJobProcesses, startTime } from '@alter0/executor';

/**
 * Agent process groups, recorded on disk while they run (`<data>/run/groups/<pgid>`: the leader's start time,
 * then on a second line the run's job id). A `kill -9` of the daemon cannot kill its detached children, so the
 * next start reaps every recorded run still alive (invariant 8: no agent process outlives its job). Under systemd
 * (KillMode=mixed) or Docker (tini) the supervisor does this too; this covers a plain `alter0 serve`.
 */
export class RecordedProcessGroups extends ProcessGroups {
  constructor(private readonly dir: string) {
    super();
    // The owner's only: the reaper kills what these files name.
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
  }

  override add(pgid: number, jobId: string | null = null): void {
    super.add(pgid, jobId);
    try {
      fs.writeFileSync(path.join(this.dir, String(pgid)), `${startTime(pgid) ?? ''}\n${jobId ?? ''}\n`, {
        mode: 0o600,
      });
    } catch {
      // Recording is a backstop; a full disk must not fail the run itself.
    }
  }

  override delete(pgid: number): void {
    super.delete(pgid);
    fs.rmSync(path.join(this.dir, String(pgid)), { force: true });
  }
}

/**
 * Kills what is left of the recorded runs of a previous process; returns how many runs had something to kill.
 *
 * A run's processes are found two ways, because agent CLIs start tools in sessions of their own (claude's Bash
 * tool does) and those survive a SIGKILL of the CLI:
 * - the process tree: the recorded group, and the group of every descendant of its members (`RunGroups`). It
 *   reaches the tools only while the CLI is alive; once it died, they were reparented to PID 1 (or a subreaper).
 *   The pid-reuse guard below applies: a live leader with another start time is a new process that reused the pid.
 * - the job id: every run's environment carries ALTER0_JOB_ID, which its tools inherit, so processes whose
 *   environment holds the recorded job id are that job's wherever they were reparented. A job id is a ULID, unique
 *   across restarts and data directories, so this cannot match a process that is not alter0's run of that job;
 *   the scan spares this process and its ancestors. A process that cleared its environment escapes it (the tree
 *   walk still finds it while the CLI lives).
 * The session id would not do: a tool in a session of its own has left the CLI's session.
 *
 * Only records this user wrote are acted on: a record is a kill order, so one in a folder another user can write,
 * or a file another user owns (or a symlink), is skipped and reported through `onUntrusted` (the start-up preflight
 * refuses such a data directory anyway; this holds on its own).
 */
export function reapOrphanGroups(
  dir: string,
  opts: { uid?: number | null; onUntrusted?: (problem: string) => void } = {},
): number {
  if (!fs.existsSync(dir)) return 0;
  const uid = opts.uid === undefined ? currentUid() : opts.uid;
  const untrusted = (problem: string): void => opts.onUntrusted?.(problem);
  const dirProblem = trustProblem(dir, fs.statSync(dir), 'process-group folder', uid);
  if (dirProblem !== null) {
    untrusted(`${dirProblem}; no recorded agent process was killed`);
    return 0;
  }
  let reaped = 0;
  for (const name of fs.readdirSync(dir)) {
    const pgid = Number(name);
    const file = path.join(dir, name);
    if (!Number.isInteger(pgid) || pgid <= 1) {
      fs.rmSync(file, { force: true });
      continue;
    }
    const st = fs.lstatSync(file);
    const fileProblem = st.isSymbolicLink()
      ? `process-group record ${file} is a symlink`
      : trustProblem(file, st, 'process-group record', uid);
    if (fileProblem !== null) {
      untrusted(`${fileProblem}; it was ignored`);
      continue;
    }
    const [recorded = '', jobId = ''] = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim());
    const leaderStart = startTime(pgid);
    // With the leader gone, the group id cannot have been reused while members of our group still hold it.
    const ours = leaderStart === null || recorded === '' || String(leaderStart) === recorded;
    let killed = 0;
    // A single snapshot of the tree, then SIGKILL each of its groups (never the daemon's own).
    if (ours) killed += new RunGroups(pgid).signal('SIGKILL');
    if (jobId !== '') killed += killJobProcesses(jobId);
    if (killed > 0) reaped++;
    fs.rmSync(file, { force: true });
  }
  return reaped;
}
