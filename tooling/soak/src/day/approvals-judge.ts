// The approvals feature's invariants as pure functions over what the harness observed, so a test can feed them a
// broken observation and see each one fail.
import type { ApprovalPlan } from '../plan.js';
import type { ViolationKind } from '../result.js';

/** One finding: a violation to record (the caller passes it to violate()). */
export interface Finding {
  kind: ViolationKind;
  detail: string;
}

/** What the harness knows of an approval (from GET /api/approvals). */
export interface SeenApproval {
  id: string;
  job_id: string;
  attempt: number;
  state: 'pending' | 'allowed' | 'denied' | 'expired';
  decided_by: string | null;
  reason: string | null;
  /** When it was asked (epoch ms, the daemon's clock). */
  created_at: number;
}

/**
 * What the final check needs to know of the run: alter0's restarts (harness times), approvals.timeout, and the
 * windows in which no write could land (a full disk, another program's write lock).
 */
export interface ApprovalRunFacts {
  restarts: readonly number[];
  timeoutMs: number;
  writeOutages: readonly { from: number; to: number | null }[];
}

/** One approval job of the feature, as it ended (GET /api/jobs/{id}), with what the owner did. */
export interface ApprovalJob {
  id: string;
  key: string;
  plan: ApprovalPlan;
  state: string;
  attempt: number;
  /** When the harness sent it (its own clock). */
  sentAt: number;
  /** Approval ids the owner answered with a 2xx, and how. */
  answered: ReadonlyMap<string, 'allowed' | 'denied'>;
}

/** The reason the owner gives when a plan says deny. */
export function denyReason(key: string): string {
  return `soak: the plan of ${key} says deny`;
}

/**
 * Approvals pending longer than approvals.timeout + margin. `pendingMs` is how long each was seen pending while the
 * daemon answered (the harness's clock, gaps between polls longer than a few seconds left out: a stopped or dead
 * daemon cannot expire anything, and its restart closes what its dead runs asked).
 */
export function overdue(
  pending: readonly SeenApproval[],
  pendingMs: ReadonlyMap<string, number>,
  limitMs: number,
): Finding[] {
  const out: Finding[] = [];
  for (const a of pending) {
    const ms = pendingMs.get(a.id) ?? 0;
    if (ms <= limitMs) continue;
    out.push({
      kind: 'approval_overdue',
      detail: `approval ${a.id} (job ${a.job_id}, attempt ${a.attempt}) has been pending for ${Math.round(ms / 1000)}s, more than approvals.timeout + margin (${Math.round(limitMs / 1000)}s)`,
    });
  }
  return out;
}

/** What the final attempt's approval must have come to under its plan. */
function expected(job: ApprovalJob): { state: SeenApproval['state']; by: string; reason?: string } {
  switch (job.plan) {
    case 'allow':
    case 'late':
      return { state: 'allowed', by: 'api' };
    case 'deny':
      return { state: 'denied', by: 'api', reason: denyReason(job.key) };
    case 'none':
      return { state: 'expired', by: 'timeout' };
  }
}

/**
 * The final attempt of a job that succeeded asked exactly once and got what its plan says. An approval the owner
 * never managed to answer (the daemon was down, its clock jumped) may have expired instead: that is counted, not a
 * violation — unless the owner's answer was accepted (2xx) and the approval still ended otherwise.
 */
function judgeFinal(
  job: ApprovalJob,
  mine: readonly SeenApproval[],
  facts: ApprovalRunFacts,
  out: Finding[],
): 'ok' | 'unanswered' {
  const last = mine.filter((a) => a.attempt === job.attempt);
  const head = `job ${job.id} (plan appr=${job.plan}, ${job.key}) succeeded at attempt ${job.attempt}`;
  if (last.length !== 1) {
    out.push({ kind: 'unexpected_outcome', detail: `${head} but that attempt raised ${last.length} approvals, not 1` });
    return 'ok';
  }
  const a = last[0] as SeenApproval;
  const want = expected(job);
  const owner = job.answered.get(a.id);
  if (job.plan !== 'none' && owner === undefined && a.state === 'expired' && a.decided_by === 'timeout')
    return 'unanswered';
  // Its deadline passed while no write could land: the expiry waited for the disk or the lock (retried each second),
  // and the agent, which waits the timeout + 30 s, may have given up first — its run's end then denies it.
  const deadline = a.created_at + facts.timeoutMs;
  if (
    job.plan === 'none' &&
    a.state === 'denied' &&
    a.decided_by === 'run_ended' &&
    facts.writeOutages.some((w) => w.from <= deadline && (w.to === null || deadline <= w.to))
  )
    return 'unanswered';
  const reasonOk = want.reason === undefined || a.reason === want.reason;
  if (a.state !== want.state || a.decided_by !== want.by || !reasonOk || (owner !== undefined && owner !== a.state))
    out.push({
      kind: 'unexpected_outcome',
      detail: `${head}; its approval ${a.id} ended ${a.state} by ${a.decided_by ?? '?'} (${a.reason ?? 'no reason'}); expected ${want.state} by ${want.by}${want.reason ? ` (${want.reason})` : ''}${owner ? `, the owner's ${owner} having been accepted` : ''}`,
    });
  return 'ok';
}

/**
 * Every approval of an ended job is decided; one denied by `restart` had a restart after its job was sent; the
 * final attempt of a job that succeeded got what its plan says. Returns the findings and how many approvals the
 * owner could not answer in time.
 */
export function judgeApprovals(
  jobs: readonly ApprovalJob[],
  approvals: readonly SeenApproval[],
  facts: ApprovalRunFacts,
): { findings: Finding[]; unanswered: number } {
  const out: Finding[] = [];
  let unanswered = 0;
  for (const job of jobs) {
    const mine = approvals.filter((a) => a.job_id === job.id);
    for (const a of mine) {
      if (a.state === 'pending')
        out.push({
          kind: 'approval_overdue',
          detail: `approval ${a.id} of job ${job.id} is still pending after its job ended ${job.state}`,
        });
      else if (a.decided_by === 'restart' && !facts.restarts.some((t) => t >= job.sentAt))
        out.push({
          kind: 'unexpected_outcome',
          detail: `approval ${a.id} of job ${job.id} was denied by restart, but alter0 did not restart after the job was sent`,
        });
    }
    if (job.state === 'succeeded' && judgeFinal(job, mine, facts, out) === 'unanswered') unanswered++;
  }
  return { findings: out, unanswered };
}

/** The agent saw the same decision the API holds (an agent log line's approval against GET /api/approvals). */
export function judgeAgentViews(
  views: readonly { job: string; id: string; state: string }[],
  approvals: ReadonlyMap<string, SeenApproval>,
): Finding[] {
  const out: Finding[] = [];
  for (const v of views) {
    if (!['allowed', 'denied', 'expired'].includes(v.state)) continue;
    const a = approvals.get(v.id);
    if (a?.state === v.state) continue;
    out.push({
      kind: 'unexpected_outcome',
      detail: `the agent of job ${v.job} was told its approval ${v.id} was ${v.state}, but the API ${a ? `says ${a.state}` : 'does not list it'}`,
    });
  }
  return out;
}
