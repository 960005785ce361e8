import { randomBytes } from 'node:crypto';
import { clampTimerMs, errorMessage } from '@alter0/core';
import type { Redact } from '@alter0/config';
import type { ApprovalRow, Store } from '@alter0/store';
import type { Logger } from '@alter0/obs';
import type { Bus } from '../bus.js';
import { allowingRule, ruleFor } from './policy.js';
import { redactInput } from './redact-input.js';

type ApprovalMode = 'ask' | 'allow_all' | 'deny_all';

/** The run an approval token belongs to. */
export interface RunRef {
  jobId: string;
  attempt: number;
  taskId: string | null;
  agent: string;
}

/** What a run is given to ask with (ExecRequest.approval). */
export interface RunApproval {
  url: string;
  token: string;
  mcpCommand?: readonly string[];
}

/** What the pipeline needs: a token for each attempt, given up when the attempt ends. */
export interface RunApprovals {
  /** Opens the attempt's approval channel: where to ask, and a token only this attempt holds. */
  open(run: RunRef): RunApproval | null;
  /** The attempt ended: its token stops working and what it still waits for is denied, saying why (and by whom). */
  close(token: string, why: string, by: string): void;
}

export interface ApprovalsOptions {
  store: Store;
  bus: Bus;
  logger: Logger;
  redact: Redact;
  now: () => number;
  /** The clock approvals.timeout runs on (default `performance.now()`): a wall-clock step neither stretches nor cuts it. */
  monotonic?: () => number;
  mode: ApprovalMode;
  allow: readonly string[];
  timeoutMs: number;
  /** The daemon's URL, once it listens. */
  url: () => string | null;
  /** argv of alter0's MCP approval server (`alter0 mcp-approvals`), for claude runs. */
  mcpCommand?: readonly string[];
  /** A new pending approval, after its commit (Telegram asks in the chat). */
  onPending?: (a: ApprovalRow) => void;
  /** An approval decided (Telegram edits its question). */
  onDecided?: (a: ApprovalRow) => void;
}

/**
 * The one approval primitive: a running job asks for a decision about one tool use; policy answers at once, or it
 * waits (stored, announced on the bus) for the owner, a timeout, the job's cancel or the end of its run. Every
 * decision is one durable commit recording who answered and when.
 */
export class Approvals implements RunApprovals {
  private readonly tokens = new Map<string, RunRef>();
  private readonly owed = new Map<string, { why: string; by: string }>();
  private owedTimer: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  /**
   * When each pending approval times out, on the monotonic clock. Complete: a start denies every approval left
   * pending by the previous process, so every pending one was raised by this one. The stored `expiresAt` (wall
   * clock) is what the API shows; after a clock step it is off by the step, and expiry does not read it.
   */
  private readonly deadlines = new Map<string, number>();
  private readonly monotonic: () => number;

  constructor(private readonly o: ApprovalsOptions) {
    this.monotonic = o.monotonic ?? (() => performance.now());
  }

  /** At start: approvals of runs that died with the previous process are denied (a new attempt asks again). */
  start(): void {
    const stale = this.o.store.approvals.pendingOf(null);
    for (const a of stale) this.settle(a.id, 'denied', 'alter0 restarted; the run that asked ended with it', 'restart');
    this.arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.owedTimer) clearTimeout(this.owedTimer);
  }

  open(run: RunRef): RunApproval | null {
    const url = this.o.url();
    if (url === null) return null;
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, run);
    // Under deny_all claude's own print mode refuses the same uses: it needs no server (which costs each run its start).
    const mcp = this.o.mcpCommand && this.o.mode !== 'deny_all' ? { mcpCommand: this.o.mcpCommand } : {};
    return { url, token, ...mcp };
  }

  close(token: string, why: string, by: string): void {
    const run = this.tokens.get(token);
    this.tokens.delete(token);
    if (!run) return;
    let waiting: ApprovalRow[];
    try {
      waiting = this.o.store.approvals.pendingOf([run.jobId]).filter((a) => a.attempt === run.attempt);
    } catch (err) {
      this.o.logger.warn('could not read the approvals of a run that ended', { err: errorMessage(err) });
      return;
    }
    for (const a of waiting) this.owed.set(a.id, { why, by });
    this.payOwed();
  }

  /**
   * Questions of ended runs not denied yet: a database another process holds refused the write; they are denied
   * as soon as it takes writes again (tried every second). Read by the model-based test's invariant.
   */
  owedDenials(): ReadonlySet<string> {
    return new Set(this.owed.keys());
  }

  private payOwed(): void {
    for (const [id, d] of this.owed) {
      try {
        if (this.o.store.approvals.get(id)?.state === 'pending') this.settle(id, 'denied', d.why, d.by);
        this.owed.delete(id);
      } catch (err) {
        this.o.logger.warn('could not deny the approval of a run that ended; trying again in 1 s', {
          approval_id: id,
          err: errorMessage(err),
        });
        if (!this.owedTimer) {
          this.owedTimer = setTimeout(() => {
            this.owedTimer = null;
            this.payOwed();
          }, 1_000);
          this.owedTimer.unref();
        }
        return;
      }
    }
  }

  /** The run a bearer token belongs to, or null (not a run token, or its run ended). */
  runOf(token: string): RunRef | null {
    return this.tokens.get(token) ?? null;
  }

  /** A run asks: decided at once by the mode and the rules, or pending until someone answers. */
  raise(run: RunRef, tool: string, input: unknown): ApprovalRow {
    const now = this.o.now();
    const decided = this.policy(run, tool, input);
    const row = this.o.store.approvals.create({
      ...{ jobId: run.jobId, attempt: run.attempt, taskId: run.taskId, agent: run.agent, tool, now },
      inputJson: JSON.stringify(redactInput(input, this.o.redact) ?? null),
      expiresAt: now + this.o.timeoutMs,
      ...(decided ? { decided } : {}),
    });
    const log = this.o.logger.child({ job_id: run.jobId, task_id: run.taskId });
    if (decided)
      log.info('tool use decided by policy', {
        approval_id: row.id,
        tool,
        state: decided.state,
        reason: decided.reason,
      });
    else log.info('tool use waits for the owner', { approval_id: row.id, tool });
    this.o.bus.approval(row.id);
    if (!decided) {
      this.deadlines.set(row.id, this.monotonic() + this.o.timeoutMs);
      this.safely(() => this.o.onPending?.(row));
      this.arm();
    }
    return row;
  }

  private policy(
    run: RunRef,
    tool: string,
    input: unknown,
  ): { state: 'allowed' | 'denied'; reason: string; by: string } | null {
    if (this.o.mode === 'allow_all') return { state: 'allowed', reason: 'approvals.mode is allow_all', by: 'policy' };
    if (this.o.mode === 'deny_all') return { state: 'denied', reason: 'approvals.mode is deny_all', by: 'policy' };
    const global = allowingRule(this.o.allow, tool, input);
    if (global) return { state: 'allowed', reason: `approvals.allow has ${global}`, by: 'policy' };
    const own = run.taskId ? allowingRule(this.o.store.approvals.taskRules(run.taskId), tool, input) : null;
    if (own) return { state: 'allowed', reason: `always allowed for this task: ${own}`, by: 'policy' };
    return null;
  }

  /** The owner's answer. `always`: allow this tool use (the same tool and argument) for the rest of the task. */
  decide(id: string, d: { allow: boolean; by: string; reason?: string | null; always?: boolean }): ApprovalRow {
    const a = this.o.store.approvals.mustGet(id);
    const alwaysRule = d.allow && d.always ? ruleFor(a.tool, parseInput(a.inputJson)) : null;
    const reason = d.allow
      ? alwaysRule
        ? `allowed, and always for this task: ${alwaysRule}`
        : 'allowed'
      : d.reason?.trim() || 'denied by the owner';
    return this.settle(id, d.allow ? 'allowed' : 'denied', reason, d.by, alwaysRule);
  }

  /** Resolves with the approval once it is decided, or as it is after `ms` (or when `signal` aborts). */
  wait(id: string, ms: number, signal: AbortSignal): Promise<ApprovalRow> {
    const read = (): ApprovalRow => this.o.store.approvals.mustGet(id);
    const first = read();
    if (first.state !== 'pending' || ms <= 0) return Promise.resolve(first);
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(t);
        off();
        signal.removeEventListener('abort', finish);
        resolve(read());
      };
      const t = setTimeout(finish, clampTimerMs(ms));
      const off = this.o.bus.subscribe((e) => {
        if (e.type === 'approval' && e.id === id) finish();
      });
      signal.addEventListener('abort', finish, { once: true });
    });
  }

  private settle(
    id: string,
    state: 'allowed' | 'denied' | 'expired',
    reason: string,
    by: string,
    alwaysRule?: string | null,
  ): ApprovalRow {
    const row = this.o.store.approvals.decide(id, {
      state,
      reason,
      by,
      now: this.o.now(),
      alwaysRule: alwaysRule ?? null,
    });
    this.deadlines.delete(id);
    this.o.logger.child({ job_id: row.jobId, task_id: row.taskId }).info('tool use decided', {
      ...{ approval_id: id, tool: row.tool, state, by, reason },
      waited_ms: Math.max(0, (row.decidedAt ?? row.createdAt) - row.createdAt),
    });
    this.o.bus.approval(id);
    this.safely(() => this.o.onDecided?.(row));
    return row;
  }

  /** Denies what waited past approvals.timeout, then waits for the next one due. */
  private arm(delayMs?: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.deadlines.size === 0) return;
    const next = Math.min(...this.deadlines.values());
    const ms = delayMs ?? Math.max(next - this.monotonic(), 10);
    this.timer = setTimeout(() => this.expire(), clampTimerMs(ms));
    this.timer.unref();
  }

  private expire(): void {
    const minutes = Math.round(this.o.timeoutMs / 60_000);
    const reason = `nobody answered within approvals.timeout (${minutes >= 1 ? `${minutes} min` : `${this.o.timeoutMs} ms`})`;
    const now = this.monotonic();
    const due = [...this.deadlines].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    try {
      for (const [id] of due) {
        if (this.o.store.approvals.get(id)?.state === 'pending') this.settle(id, 'expired', reason, 'timeout');
        else this.deadlines.delete(id);
      }
    } catch (err) {
      // A full disk or another program's write lock: the approval stays pending (and due) until a write lands.
      this.o.logger.warn('could not expire the approvals due; trying again in 1 s', { err: errorMessage(err) });
      return this.arm(1_000);
    }
    this.arm();
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.logger.warn('an approval hook failed', { err: errorMessage(err) });
    }
  }
}

function parseInput(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
}
