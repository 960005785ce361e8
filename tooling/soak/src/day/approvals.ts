// The day profile's approvals: jobs whose agent asks for a tool use (plan `appr=`), the harness as the owner who
// allows at once, late, denies or never answers, and the invariants: nothing pending past approvals.timeout, each
// final attempt got what its plan says, a restart denies what its dead runs asked and the next attempt asks again.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Approval } from '@alter0/api';
import { TERMINAL } from '../http.js';
import { encodePlan } from '../plan.js';
import type { AgentLogLine, ApprovalPlan, MessagePlan } from '../plan.js';
import { createRng } from '../rng.js';
import type { Rng } from '../rng.js';
import { harnessError, violate, writeOutageMs } from '../run-state.js';
import type { SoakRun } from '../run-state.js';
import { keyOfApprovalInput } from './approval-ask.js';
import { denyReason, judgeAgentViews, judgeApprovals, overdue } from './approvals-judge.js';
import type { ApprovalJob, Finding, SeenApproval } from './approvals-judge.js';
import type { SoakFeature } from './feature.js';

export interface ApprovalsOptions {
  /** approvals.timeout the daemon runs with (prepare sets it). Default 20 s. */
  timeoutS?: number;
  /** The timeout the overdue check holds the daemon to; default `timeoutS` (a test sets it apart to see it fail). */
  checkTimeoutS?: number;
  /** Slack on top of the timeout before a pending approval is overdue (the expiry timer, polls). Default 10 s. */
  marginMs?: number;
  /** Mean time between approval jobs. Default 10 s. */
  everyMs?: number;
  /** How long a `late` answer waits after the approval is first seen. Default half the timeout. */
  lateMs?: number;
  /** Relative weights of the plans. Default allow 0.35, late 0.25, deny 0.2, none 0.2. */
  weights?: Partial<Record<ApprovalPlan, number>>;
  /** Plans taken in this order (cycled) instead of drawn by weight (tests). */
  sequence?: ApprovalPlan[];
  /** No new approval job this long before loadEnd, so they end before the drain. Default the timeout + 15 s. */
  tailMs?: number;
  /** At most this many approval jobs in the run. Default unbounded (the rate bounds them). */
  maxJobs?: number;
  /** max_attempts of the jobs (kills while waiting use attempts up). Default 5. */
  maxAttempts?: number;
  seed?: number;
}

/** Gaps between polls longer than this are not counted as time pending (the daemon was down or stopped). */
const RESPONSIVE_GAP_MS = 5_000;

interface Job extends ApprovalJob {
  answered: Map<string, 'allowed' | 'denied'>;
}

type Counters = Record<string, number>;

function counters(): Counters {
  return {
    jobs_sent: 0,
    jobs_accepted: 0,
    send_errors: 0,
    owner_allowed: 0,
    owner_late: 0,
    owner_denied: 0,
    owner_refused: 0,
    owner_errors: 0,
    approvals: 0,
    allowed: 0,
    denied_by_owner: 0,
    expired: 0,
    denied_by_restart: 0,
    denied_other: 0,
    reasked_jobs: 0,
    unanswered_in_time: 0,
    jobs_succeeded: 0,
    jobs_failed: 0,
    jobs_unfinished: 0,
  };
}

function drawPlan(rng: Rng, weights: Record<ApprovalPlan, number>): ApprovalPlan {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  let x = rng.next() * total;
  for (const [plan, w] of Object.entries(weights) as [ApprovalPlan, number][]) {
    if (x < w) return plan;
    x -= w;
  }
  return 'allow';
}

function seen(a: Approval): SeenApproval {
  return {
    id: a.id,
    job_id: a.job_id,
    attempt: a.attempt,
    state: a.state,
    decided_by: a.decided_by,
    reason: a.reason,
    created_at: Date.parse(a.created_at),
  };
}

/** The approvals feature (see the file's head). */
export function approvalsFeature(opts: ApprovalsOptions = {}): SoakFeature {
  return new ApprovalsFeature(opts);
}

class ApprovalsFeature implements SoakFeature {
  readonly name = 'approvals';
  private readonly timeoutMs: number;
  private readonly limitMs: number;
  private readonly everyMs: number;
  private readonly lateMs: number;
  private readonly maxAttempts: number;
  private readonly weights: Record<ApprovalPlan, number>;
  private readonly sequence: readonly ApprovalPlan[];
  private readonly tailMs: number;
  private readonly maxJobs: number;
  private rng: Rng;
  private seq = 0;
  private readonly c = counters();
  private readonly jobs = new Map<string, Job>();
  private readonly byKey = new Map<string, Job>();
  /** Per pending approval: how long it was seen pending while the daemon answered, and when last seen. */
  private readonly pendingFor = new Map<string, { ms: number; last: number }>();
  private readonly overdueReported = new Set<string>();
  private readonly restarts: number[] = [];
  private ownerBusy = false;

  constructor(opts: ApprovalsOptions) {
    this.timeoutMs = (opts.timeoutS ?? 20) * 1000;
    this.limitMs = (opts.checkTimeoutS ?? opts.timeoutS ?? 20) * 1000 + (opts.marginMs ?? 10_000);
    this.everyMs = opts.everyMs ?? 10_000;
    this.lateMs = opts.lateMs ?? this.timeoutMs / 2;
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.weights = { allow: 0.35, late: 0.25, deny: 0.2, none: 0.2, ...opts.weights };
    this.sequence = opts.sequence ?? [];
    this.tailMs = opts.tailMs ?? this.timeoutMs + 15_000;
    this.maxJobs = opts.maxJobs ?? Number.POSITIVE_INFINITY;
    this.rng = createRng(opts.seed ?? 0x61707072);
  }

  prepare(run: SoakRun): Promise<{ sets: string[]; env: Record<string, string> }> {
    run.result.features[this.name] = this.c;
    this.rng = createRng(run.opts.seed ^ 0x61707072);
    return Promise.resolve({
      sets: ['approvals.mode=ask', `approvals.timeout=${Math.round(this.timeoutMs / 1000)}s`],
      // The agent's own bound on its wait: past the daemon's expiry, so an approval never expired shows as pending.
      env: { SOAK_APPROVAL_MAX_MS: String(this.timeoutMs + 30_000) },
    });
  }

  /** Sends approval jobs until the tail before loadEnd, so they end before the drain. */
  async load(run: SoakRun, loadEnd: number): Promise<void> {
    const stopAt = loadEnd - this.tailMs;
    while (!run.signal.aborted && run.loadOn && Date.now() < stopAt && this.seq < this.maxJobs) {
      const wait = Math.min(this.everyMs * (0.5 + this.rng.next()), Math.max(0, stopAt - Date.now()));
      try {
        await sleep(wait, undefined, { signal: run.signal });
      } catch {
        return;
      }
      if (run.up && Date.now() < stopAt) await this.submit(run);
    }
  }

  afterRestart(): Promise<void> {
    this.restarts.push(Date.now());
    return Promise.resolve();
  }

  async poll(run: SoakRun): Promise<void> {
    await this.ownerStep(run);
  }

  async final(run: SoakRun): Promise<void> {
    await this.awaitJobs(run);
    // Job by job: the list answers the 100 newest only, and a two-hour day raises several hundred.
    const all: SeenApproval[] = [];
    for (const id of this.jobs.keys()) {
      const r = await run.api.call((c, o) => c.listApprovals({ state: 'all', job_id: id }, o));
      if (r.kind !== 'ok') {
        harnessError(run, `approvals: GET /api/approvals?state=all&job_id=${id}`, new Error(r.kind));
        return;
      }
      all.push(...r.value.map(seen));
    }
    this.judge(run, all);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private inc(name: string): void {
    this.c[name] = (this.c[name] ?? 0) + 1;
  }

  private async submit(run: SoakRun): Promise<void> {
    const key = `ap${this.seq.toString(36)}-${run.opts.seed}`;
    const appr = this.sequence[this.seq % Math.max(1, this.sequence.length)] ?? drawPlan(this.rng, this.weights);
    const plan: MessagePlan = { key, exec: 'ok', n: 0, route: 'ok', close: 'yes', appr };
    this.seq++;
    this.inc('jobs_sent');
    const job = {
      content: `${encodePlan(plan)} approval please`,
      channel_id: 'soak',
      lane: 'background' as const,
      // The longest wait (an unanswered question expiring) plus the agent's start-ups.
      timeout_s: Math.round(this.timeoutMs / 1000) + 60,
      max_attempts: this.maxAttempts,
    };
    try {
      const a = await run.api.call((c, o) => c.submitJob(job, o));
      if (a.kind !== 'ok') return;
      const j: Job = {
        ...{ id: a.value.job_id, key, plan: appr, state: 'queued', attempt: 0 },
        ...{ sentAt: Date.now(), answered: new Map() },
      };
      this.jobs.set(j.id, j);
      this.byKey.set(key, j);
      this.inc('jobs_accepted');
    } catch {
      // The daemon is down or was killed mid-request: nothing was promised.
      this.inc('send_errors');
    }
  }

  /** The owner: reads what waits, checks that nothing waits too long, answers by plan. */
  private async ownerStep(run: SoakRun): Promise<void> {
    if (this.ownerBusy) return;
    this.ownerBusy = true;
    try {
      const a = await run.api.call((c, o) => c.listApprovals({ state: 'pending' }, o));
      if (a.kind !== 'ok') return;
      const pending = a.value.map(seen);
      this.track(run, pending);
      run.result.checks.approval_overdue += pending.length;
      const fresh = pending.filter((p) => !this.overdueReported.has(p.id));
      const ages = new Map([...this.pendingFor].map(([id, e]) => [id, e.ms]));
      for (const f of overdue(fresh, ages, this.limitMs)) violate(run, f.kind, f.detail);
      for (const p of fresh) if ((ages.get(p.id) ?? 0) > this.limitMs) this.overdueReported.add(p.id);
      for (const p of a.value) await this.answer(run, p);
    } catch {
      // No answer: the daemon is down or was killed mid-request.
      this.inc('owner_errors');
    } finally {
      this.ownerBusy = false;
    }
  }

  /** Adds the time since the last poll to each approval still pending (unless the gap says the daemon was away). */
  private track(run: SoakRun, pending: readonly SeenApproval[]): void {
    const now = Date.now();
    const ids = new Set(pending.map((p) => p.id));
    for (const id of this.pendingFor.keys()) if (!ids.has(id)) this.pendingFor.delete(id);
    for (const p of pending) {
      const e = this.pendingFor.get(p.id);
      if (e === undefined) this.pendingFor.set(p.id, { ms: 0, last: now });
      else {
        // A full disk or a held write lock keeps the expiry from being written: that time does not count either.
        if (now - e.last <= RESPONSIVE_GAP_MS) e.ms += now - e.last - writeOutageMs(run, e.last, now);
        e.last = now;
      }
    }
  }

  private async answer(run: SoakRun, p: Approval): Promise<void> {
    const key = keyOfApprovalInput(p.input);
    const job = key === null ? undefined : this.byKey.get(key);
    if (job === undefined || job.answered.has(p.id) || job.plan === 'none') return;
    if (job.plan === 'late' && (this.pendingFor.get(p.id)?.ms ?? 0) < this.lateMs) return;
    const allow = job.plan !== 'deny';
    const a = allow
      ? await run.api.call((c, o) => c.allowApproval(p.id, {}, o))
      : await run.api.call((c, o) => c.denyApproval(p.id, { reason: denyReason(job.key) }, o));
    if (a.kind !== 'ok') {
      // Decided meanwhile (expired, or denied by the end of its run): 409.
      this.inc('owner_refused');
      return;
    }
    job.answered.set(p.id, allow ? 'allowed' : 'denied');
    const n = allow ? (job.plan === 'late' ? 'owner_late' : 'owner_allowed') : 'owner_denied';
    this.inc(n);
  }

  /** Until every approval job has ended (bounded: the longest wait and a run), answering as the owner. */
  private async awaitJobs(run: SoakRun): Promise<void> {
    const end = Date.now() + this.timeoutMs + 90_000;
    while (!run.signal.aborted && Date.now() < end) {
      const open = [...this.jobs.values()].filter((j) => !TERMINAL.has(j.state));
      for (const j of open) await this.refresh(run, j);
      if (open.every((j) => TERMINAL.has(j.state))) return;
      await this.ownerStep(run);
      await sleep(1000, undefined, { signal: run.signal }).catch(() => undefined);
    }
  }

  private async refresh(run: SoakRun, j: Job): Promise<void> {
    try {
      const a = await run.api.call((c, o) => c.getJob(j.id, o));
      if (a.kind === 'ok') {
        j.state = a.value.state;
        j.attempt = a.value.attempt;
      } else if (a.kind === 'refused' && a.status === 404) {
        run.result.checks.lost_message++;
        violate(run, 'lost_message', `approval job ${j.id} (${j.key}) was accepted (2xx) and GET answers 404`);
        j.state = 'failed';
      }
    } catch {
      // No answer now; the next round asks again.
    }
  }

  private judge(run: SoakRun, approvals: SeenApproval[]): void {
    const jobs = [...this.jobs.values()];
    const mine = approvals.filter((a) => this.jobs.has(a.job_id));
    this.count(jobs, mine);
    const ended = jobs.filter((j) => TERMINAL.has(j.state));
    run.result.checks.unexpected_outcome += ended.filter((j) => j.state === 'succeeded').length;
    run.result.checks.approval_overdue += mine.length;
    const { findings, unanswered } = judgeApprovals(ended, mine, {
      restarts: this.restarts,
      timeoutMs: this.timeoutMs,
      writeOutages: run.writeOutages,
    });
    this.c.unanswered_in_time = unanswered;
    const views = agentViews(run.agentLog).filter((v) => this.jobs.has(v.job));
    run.result.checks.unexpected_outcome += views.length;
    const all: Finding[] = [...findings, ...judgeAgentViews(views, new Map(mine.map((a) => [a.id, a])))];
    for (const f of all) violate(run, f.kind, f.detail);
  }

  private count(jobs: readonly Job[], mine: readonly SeenApproval[]): void {
    const c = this.c;
    c.approvals = mine.length;
    c.allowed = mine.filter((a) => a.state === 'allowed').length;
    c.denied_by_owner = mine.filter((a) => a.state === 'denied' && a.decided_by === 'api').length;
    c.expired = mine.filter((a) => a.state === 'expired').length;
    c.denied_by_restart = mine.filter((a) => a.decided_by === 'restart').length;
    c.denied_other = mine.filter(
      (a) => a.state === 'denied' && !['api', 'restart'].includes(a.decided_by ?? ''),
    ).length;
    c.reasked_jobs = jobs.filter((j) => mine.filter((a) => a.job_id === j.id).length > 1).length;
    c.jobs_succeeded = jobs.filter((j) => j.state === 'succeeded').length;
    c.jobs_failed = jobs.filter((j) => j.state === 'failed' || j.state === 'canceled').length;
    c.jobs_unfinished = jobs.filter((j) => !TERMINAL.has(j.state)).length;
  }
}

/** The approvals the agents logged (id and the decision each run got). */
function agentViews(file: string): { job: string; id: string; state: string }[] {
  let text: string;
  try {
    // A day's agent log is a few tens of MB at most; read once, at the end.
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: { job: string; id: string; state: string }[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"approval"')) continue;
    try {
      const l = JSON.parse(line) as AgentLogLine;
      if (l.approval?.id) out.push({ job: l.job, id: l.approval.id, state: l.approval.state });
    } catch {
      // A torn line from an agent killed mid-write.
    }
  }
  return out;
}
