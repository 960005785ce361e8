import type { RouteDecisionKind } from '@alter0/core';
import type {
  Approval,
  MemoryEntry,
  Schedule,
  ScheduleDetail,
  ScheduleRun,
  CloseDecision,
  Job,
  RouteCandidate,
  RouteDecision,
  StatsFigures as StatsFiguresView,
  StatsRange,
  StatsReport,
  Task,
  TaskMessage,
  UsageReport as UsageReportView,
  UsageTotals as UsageTotalsView,
} from '@alter0/api';
import type {
  ApprovalRow,
  MemoryRow,
  CloseDecisionRow,
  JobRow,
  MessageRow,
  RouteDecisionRow,
  ScheduleRow,
  ScheduleRunRow,
  StatsFigures,
  StatsSeries,
  Store,
  TaskRow,
  UsageReport,
  UsageTotals,
} from '@alter0/store';
import { formatPeriod } from '@alter0/schedules';
import { describeRow } from './schedules/service.js';

/**
 * Row → API JSON (docs/api.md). The API speaks snake_case and RFC 3339 times. Each view `satisfies` its schema's
 * type in @alter0/api: a field added, dropped or retyped on one side only is a compile error here.
 */

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function taskView(t: TaskRow): Task {
  return {
    id: t.id,
    title: t.title,
    summary: t.summary,
    state: t.state,
    executor: t.executor,
    session_id: t.sessionId,
    workspace: t.workspace,
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
    closed_at: isoOrNull(t.closedAt),
    closed_by: t.closedBy,
    close_reason: t.closeReason,
    close_confidence: t.closeConfidence,
  } satisfies Task;
}

export function messageView(m: MessageRow): TaskMessage {
  return {
    id: m.id,
    role: m.role,
    content: m.content,
    job_id: m.jobId,
    created_at: iso(m.createdAt),
  } satisfies TaskMessage;
}

export function routeDecisionView(d: RouteDecisionRow): RouteDecision {
  return {
    id: d.id,
    job_id: d.jobId,
    message_id: d.messageId,
    task_id: d.taskId,
    decision: routeDecisionKind(d.decision),
    confidence: d.confidence,
    reason: d.reason,
    fallback: d.fallback,
    reject_code: d.rejectCode,
    candidates: JSON.parse(d.candidatesJson) as RouteCandidate[],
    input_summary: d.inputSummary,
    template_id: d.templateId,
    template_version: d.templateVersion,
    template_hash: d.templateHash,
    prompt_chars: d.promptChars,
    model_called: d.modelCalled,
    latency_ms: d.latencyMs,
    raw_output: d.rawOutput,
    error_class: d.errorClass,
    created_at: iso(d.createdAt),
  } satisfies RouteDecision;
}

export function closeDecisionView(d: CloseDecisionRow): CloseDecision {
  return {
    id: d.id,
    task_id: d.taskId,
    job_id: d.jobId,
    source: d.source,
    action: d.action,
    confidence: d.confidence,
    reason: d.reason,
    fallback: d.fallback,
    reject_code: d.rejectCode,
    template_id: d.templateId,
    template_version: d.templateVersion,
    template_hash: d.templateHash,
    prompt_chars: d.promptChars,
    model_called: d.modelCalled,
    latency_ms: d.latencyMs,
    raw_output: d.rawOutput,
    error_class: d.errorClass,
    created_at: iso(d.createdAt),
  } satisfies CloseDecision;
}

export function jobView(store: Store, j: JobRow): Job {
  const content = store.jobs.message(j.messageId)?.content ?? null;
  const reply = j.replyMessageId ? (store.jobs.message(j.replyMessageId)?.content ?? null) : null;
  const route = store.decisions.routeForJob(j.id);
  return {
    id: j.id,
    message_id: j.messageId,
    task_id: j.taskId,
    lane: j.lane,
    state: j.state,
    stage: j.stage,
    attempt: j.attempt,
    max_attempts: j.maxAttempts,
    timeout_s: j.timeoutS,
    content,
    reply,
    error: j.errorClass
      ? { class: j.errorClass, message: j.errorMessage ?? '', stderr_tail: j.stderrTail ?? '' }
      : null,
    route: route
      ? {
          decision: route.fallback === 'explicit' ? 'explicit' : routeDecisionKind(route.decision),
          task_id: route.taskId,
          confidence: route.confidence,
          reason: route.reason,
          fallback: route.fallback,
        }
      : null,
    timings: {
      queue_wait_ms: j.queueWaitMs,
      route_ms: j.routeMs,
      execute_ms: j.executeMs,
      close_ms: j.closeMs,
      total_ms: j.totalMs,
    },
    usage: j.usageJson ? (JSON.parse(j.usageJson) as Job['usage']) : null,
    permission_denials: j.denialsJson ? (JSON.parse(j.denialsJson) as Job['permission_denials']) : [],
    memory: j.memoryJson ? (JSON.parse(j.memoryJson) as Job['memory']) : null,
    retry_of: j.retryOf,
    cancel_requested: j.cancelRequested,
    channel_id: j.channelId,
    user_id: j.userId,
    session_id: j.sessionId,
    created_at: iso(j.createdAt),
    updated_at: iso(j.updatedAt),
    started_at: isoOrNull(j.startedAt),
    replied_at: isoOrNull(j.repliedAt),
    finished_at: isoOrNull(j.finishedAt),
    next_run_at: j.state === 'queued' ? iso(j.nextRunAt) : null,
  } satisfies Job;
}

/** The column is plain text; the router only ever writes its RouteOutcome's decision (existing | new). */
function routeDecisionKind(s: string): RouteDecisionKind {
  return s as RouteDecisionKind;
}

/** An approval as the API shows it (`Approval` in @alter0/api): its input as stored (redacted). */
export function approvalView(a: ApprovalRow): Approval {
  return {
    id: a.id,
    job_id: a.jobId,
    attempt: a.attempt,
    task_id: a.taskId,
    agent: a.agent as Approval['agent'],
    tool: a.tool,
    input: JSON.parse(a.inputJson) as unknown,
    state: a.state,
    reason: a.reason,
    decided_by: a.decidedBy,
    always: a.always,
    created_at: iso(a.createdAt),
    expires_at: iso(a.expiresAt),
    decided_at: a.decidedAt === null ? null : iso(a.decidedAt),
    // Wall-clock stamps: a clock stepped back between the two made this negative, and every answer that carried it
    // broke the contract (found by the day soak's clock jumps). The wait is not known then; 0 is the floor.
    waited_ms: a.decidedAt === null ? null : Math.max(0, a.decidedAt - a.createdAt),
  };
}

/** A memory entry as the API shows it (`MemoryEntry` in @alter0/api). */
export function memoryView(m: MemoryRow): MemoryEntry {
  return {
    id: m.id,
    task_id: m.taskId,
    kind: m.kind,
    content: m.content,
    pinned: m.pinned,
    created_at: iso(m.createdAt),
    updated_at: iso(m.updatedAt),
  };
}

/** A schedule as the API shows it (`Schedule` in @alter0/api). */
export function scheduleView(s: ScheduleRow): Schedule {
  return {
    id: s.id,
    kind: s.kind,
    description: describeRow(s),
    cron: s.kind === 'cron' ? s.expr : null,
    every: s.kind === 'every' ? formatPeriod(Number(s.expr)) : null,
    at: s.kind === 'at' ? iso(Number(s.expr)) : null,
    tz: s.tz,
    text: s.text,
    task_id: s.taskId,
    lane: s.lane,
    state: s.state,
    paused_reason: s.pausedReason,
    next_run_at: isoOrNull(s.nextRunAt),
    last_fired_at: isoOrNull(s.lastFiredAt),
    last_job_id: s.lastJobId,
    last_result: s.lastResult as Schedule['last_result'],
    consecutive_failures: s.consecutiveFailures,
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
  };
}

/** A schedule with its latest firings (`ScheduleDetail`). */
export function scheduleDetailView(s: ScheduleRow, runs: ScheduleRunRow[]): ScheduleDetail {
  return {
    ...scheduleView(s),
    runs: runs.map((r) => ({
      id: r.id,
      slot_at: iso(r.slotAt),
      kind: r.kind,
      fired_at: iso(r.firedAt),
      job_id: r.jobId,
      result: r.result as ScheduleRun['result'],
      ended_at: r.endedAt === null ? null : iso(r.endedAt),
    })),
  };
}

export function usageTotalsView(t: UsageTotals): UsageTotalsView {
  return {
    jobs: t.jobs,
    input_tokens: t.inputTokens,
    output_tokens: t.outputTokens,
    cost_usd: t.costUsd,
    jobs_with_cost: t.jobsWithCost,
  };
}

export function usageReportView(r: UsageReport, by: UsageReportView['by']): UsageReportView {
  return {
    since: iso(r.since),
    by,
    rows: r.rows.map((row) => ({ key: row.key, title: row.title, ...usageTotalsView(row) })),
    total: usageTotalsView(r.total),
  };
}

function statsFiguresView(f: StatsFigures): StatsFiguresView {
  return {
    jobs: f.jobs,
    latency_ms: f.latency,
    queue_depth: f.depth,
    model_calls: f.modelCalls,
    tokens: f.tokens,
    cost_usd: f.costUsd,
  };
}

export function statsReportView(range: StatsRange, bucket: StatsReport['bucket'], s: StatsSeries): StatsReport {
  return {
    range,
    bucket,
    from: iso(s.from),
    to: iso(s.to),
    rolled_up_at: isoOrNull(s.rolledUpAt),
    buckets: s.buckets.map((b) => ({ start: iso(b.start), ...statsFiguresView(b) })),
    totals: statsFiguresView(s.totals),
  };
}
