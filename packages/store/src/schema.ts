import { sql } from 'drizzle-orm';
import { sqliteTable, text, integer, real, blob, index, primaryKey, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type {
  ClosedBy,
  CloseSource,
  ErrorClass,
  ExecutorKind,
  JobState,
  Lane,
  MessageRole,
  RouteFallback,
  Stage,
  TaskState,
} from '@alter0/core';

// Times are integer milliseconds since the epoch (UTC): cheap to compare and index.

export const tasks = sqliteTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    summary: text('summary').notNull().default(''),
    state: text('state').$type<TaskState>().notNull(),
    executor: text('executor').$type<ExecutorKind>().notNull(),
    sessionId: text('session_id'),
    workspace: text('workspace').notNull(),
    userId: text('user_id').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    closedAt: integer('closed_at'),
    closedBy: text('closed_by').$type<ClosedBy>(),
    closeReason: text('close_reason'),
    closeConfidence: real('close_confidence'),
  },
  (t) => [index('tasks_state_updated').on(t.state, t.updatedAt)],
);

export const messages = sqliteTable(
  'messages',
  {
    id: text('id').primaryKey(),
    taskId: text('task_id').references(() => tasks.id),
    role: text('role').$type<MessageRole>().notNull(),
    content: text('content').notNull(),
    /** The job this message belongs to (the user message a job runs for, or the reply/system note it produced). */
    jobId: text('job_id'),
    channelId: text('channel_id').notNull(),
    userId: text('user_id').notNull(),
    sessionId: text('session_id'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('messages_task_created').on(t.taskId, t.createdAt)],
);

export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    messageId: text('message_id')
      .notNull()
      .references(() => messages.id),
    taskId: text('task_id').references(() => tasks.id),
    /** The task the client named explicitly (may not exist: the router then reports it). */
    requestedTaskId: text('requested_task_id'),
    lane: text('lane').$type<Lane>().notNull(),
    state: text('state').$type<JobState>().notNull(),
    /** Current pipeline stage while running. */
    stage: text('stage').$type<Stage>(),
    attempt: integer('attempt').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    timeoutS: integer('timeout_s').notNull(),
    nextRunAt: integer('next_run_at').notNull(),
    cancelRequested: integer('cancel_requested', { mode: 'boolean' }).notNull().default(false),
    errorClass: text('error_class').$type<ErrorClass>(),
    errorMessage: text('error_message'),
    stderrTail: text('stderr_tail'),
    replyMessageId: text('reply_message_id'),
    retryOf: text('retry_of'),
    channelId: text('channel_id').notNull(),
    userId: text('user_id').notNull(),
    sessionId: text('session_id'),
    usageJson: text('usage_json'),
    /** Tool uses the agent was refused in the run that answered (claude's permission_denials), JSON. */
    denialsJson: text('denials_json'),
    /** The owner's memory placed before the message of a new agent session (MemoryUse of @alter0/memory), JSON. */
    memoryJson: text('memory_json'),
    /** 'new': the sender asked for a new task (Telegram's /new); the route stage then asks no model. */
    routeHint: text('route_hint').$type<'new'>(),
    /**
     * Nobody waits for this job's answer (background lane, an async request, a sync wait that ran out, a chat
     * channel): its end is announced through the outbox. `notifiedAt` is set in the transaction that queues the
     * notices, so each job's end is announced once.
     */
    notify: integer('notify', { mode: 'boolean' }).notNull().default(false),
    notifiedAt: integer('notified_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    startedAt: integer('started_at'),
    repliedAt: integer('replied_at'),
    finishedAt: integer('finished_at'),
    queueWaitMs: integer('queue_wait_ms'),
    routeMs: integer('route_ms'),
    executeMs: integer('execute_ms'),
    closeMs: integer('close_ms'),
    totalMs: integer('total_ms'),
  },
  (t) => [
    index('jobs_state_lane_next').on(t.state, t.lane, t.nextRunAt),
    // The claim walks a lane's queued jobs in arrival order and stops at the first it may run: without this
    // index it evaluated its per-task check for every queued job and sorted them, at every claim.
    index('jobs_state_lane_id').on(t.state, t.lane, t.id),
    index('jobs_task_state').on(t.taskId, t.state),
    index('jobs_message').on(t.messageId),
    index('jobs_notify_pending').on(t.notify, t.notifiedAt),
    // The stats rollup and the live part of GET /api/usage read the jobs that ended in a time range.
    index('jobs_finished').on(t.finishedAt),
  ],
);

export const routeDecisions = sqliteTable(
  'route_decisions',
  {
    id: text('id').primaryKey(),
    jobId: text('job_id').notNull(),
    messageId: text('message_id').notNull(),
    taskId: text('task_id'),
    decision: text('decision').notNull(),
    confidence: real('confidence'),
    reason: text('reason').notNull(),
    fallback: text('fallback').$type<RouteFallback>(),
    rejectCode: text('reject_code'),
    candidatesJson: text('candidates_json').notNull().default('[]'),
    inputSummary: text('input_summary').notNull().default(''),
    templateId: text('template_id'),
    templateVersion: text('template_version'),
    templateHash: text('template_hash'),
    promptChars: integer('prompt_chars').notNull().default(0),
    modelCalled: integer('model_called', { mode: 'boolean' }).notNull(),
    latencyMs: integer('latency_ms').notNull(),
    rawOutput: text('raw_output'),
    errorClass: text('error_class').$type<ErrorClass>(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('route_decisions_task').on(t.taskId, t.createdAt),
    index('route_decisions_job').on(t.jobId),
    index('route_decisions_created').on(t.createdAt),
  ],
);

export const closeDecisions = sqliteTable(
  'close_decisions',
  {
    id: text('id').primaryKey(),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id),
    jobId: text('job_id'),
    source: text('source').$type<CloseSource>().notNull(),
    /** What happened to the task: closed, kept open, or reopened. */
    action: text('action').$type<'close' | 'keep_open' | 'reopen'>().notNull(),
    confidence: real('confidence'),
    reason: text('reason').notNull(),
    fallback: text('fallback'),
    rejectCode: text('reject_code'),
    templateId: text('template_id'),
    templateVersion: text('template_version'),
    templateHash: text('template_hash'),
    promptChars: integer('prompt_chars').notNull().default(0),
    modelCalled: integer('model_called', { mode: 'boolean' }).notNull(),
    latencyMs: integer('latency_ms').notNull(),
    rawOutput: text('raw_output'),
    errorClass: text('error_class').$type<ErrorClass>(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('close_decisions_task').on(t.taskId, t.createdAt), index('close_decisions_created').on(t.createdAt)],
);

export const events = sqliteTable(
  'events',
  {
    id: text('id').primaryKey(),
    component: text('component').notNull(),
    level: text('level').notNull(),
    kind: text('kind').notNull(),
    message: text('message').notNull(),
    detailsJson: text('details_json'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('events_created').on(t.createdAt), index('events_component').on(t.component, t.createdAt)],
);

export type MemoryKind = 'note' | 'task_summary';

export const memory = sqliteTable(
  'memory',
  {
    id: text('id').primaryKey(),
    /** null: global (every task's new sessions); else that task's own. */
    taskId: text('task_id').references(() => tasks.id),
    /** 'note': the owner's entry (kept until removed); 'task_summary': what a task did, kept when it closed. */
    kind: text('kind').$type<MemoryKind>().notNull().default('note'),
    content: text('content').notNull(),
    /** Kept by retention even when its task ages out. */
    pinned: integer('pinned', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('memory_task').on(t.taskId)],
);

/** Where a channel's input stands (Telegram: the next update offset), committed with what it accepted. */
export const channelCursors = sqliteTable('channel_cursors', {
  channel: text('channel').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * A chat message a channel knows by its own id (Telegram: chat id + message id), and the job it belongs to: the
 * owner's message that became the job, or the bot's message that carried its reply. Replying to one pins the new
 * message to that job's task; /cancel and /retry act on that job.
 */
export const channelRefs = sqliteTable(
  'channel_refs',
  {
    id: text('id').primaryKey(),
    channel: text('channel').notNull(),
    chatId: text('chat_id').notNull(),
    messageId: integer('message_id').notNull(),
    jobId: text('job_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('channel_refs_message').on(t.channel, t.chatId, t.messageId),
    index('channel_refs_job').on(t.jobId),
    index('channel_refs_created').on(t.createdAt),
  ],
);

export type OutboxState = 'pending' | 'sent' | 'dead';

/**
 * Notices to deliver (a job's end, to its chat and the webhooks): at least once, retried with backoff until sent
 * or given up (`dead`, with an event). `dedupKey` makes queuing the same notice twice a no-op and travels with it,
 * so a receiver can drop a repeat.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    id: text('id').primaryKey(),
    dedupKey: text('dedup_key').notNull().unique(),
    /** Which channel delivers it: 'telegram', 'webhook'. */
    channel: text('channel').notNull(),
    /** The chat id, or the webhook URL. */
    target: text('target').notNull(),
    jobId: text('job_id'),
    event: text('event').notNull(),
    payloadJson: text('payload_json').notNull(),
    state: text('state').$type<OutboxState>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Parts already delivered (a reply split into several chat messages resumes after the last one sent). */
    progress: integer('progress').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    sentAt: integer('sent_at'),
  },
  (t) => [index('outbox_state_next').on(t.state, t.nextAttemptAt), index('outbox_created').on(t.createdAt)],
);

export type ApprovalState = 'pending' | 'allowed' | 'denied' | 'expired';

/**
 * A running job's request to use a tool, and the owner's answer. The input is stored redacted (it is shown, never
 * replayed). `decidedBy` says who answered: the owner through a channel (api, cli, console, telegram), or alter0
 * itself (policy, timeout, cancel, restart).
 */
export const approvals = sqliteTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    jobId: text('job_id').notNull(),
    /** The attempt that asked: a later attempt asks again. */
    attempt: integer('attempt').notNull(),
    taskId: text('task_id'),
    /** The executor of the run that asked (claude, codex, command). */
    agent: text('agent').notNull(),
    tool: text('tool').notNull(),
    inputJson: text('input_json').notNull(),
    state: text('state').$type<ApprovalState>().notNull(),
    reason: text('reason'),
    decidedBy: text('decided_by'),
    /** The owner also allowed this tool use for the rest of the task. */
    always: integer('always', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    decidedAt: integer('decided_at'),
  },
  (t) => [
    index('approvals_state_expires').on(t.state, t.expiresAt),
    index('approvals_job').on(t.jobId),
    index('approvals_task').on(t.taskId, t.createdAt),
  ],
);

/** Tool uses the owner allowed for the rest of a task ("always allow"), as permission rules. */
export const taskAllowRules = sqliteTable(
  'task_allow_rules',
  {
    id: text('id').primaryKey(),
    taskId: text('task_id').notNull(),
    rule: text('rule').notNull(),
    approvalId: text('approval_id'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('task_allow_rules_task_rule').on(t.taskId, t.rule)],
);

export type ScheduleKind = 'cron' | 'every' | 'at';
export type ScheduleRunKind = 'slot' | 'catch_up' | 'now';
/** active: fires when due; paused: by the owner or after repeated failures (pausedReason says which); done: a one-shot that fired. */
export type ScheduleState = 'active' | 'paused' | 'done';

/**
 * Work the owner asked to start by itself: a message sent on channel `schedule` at each firing. `nextRunAt` is
 * the fence of exactly-once firing: a firing moves it on in the transaction that accepts its job.
 */
export const schedules = sqliteTable(
  'schedules',
  {
    id: text('id').primaryKey(),
    kind: text('kind').$type<ScheduleKind>().notNull(),
    /** cron: the pattern; every: the period in ms; at: the time, epoch ms. */
    expr: text('expr').notNull(),
    /** IANA zone of a cron pattern (null: the daemon's). */
    tz: text('tz'),
    text: text('text').notNull(),
    /** The task each firing goes to (null: routed like any message). */
    taskId: text('task_id'),
    lane: text('lane').$type<Lane>().notNull(),
    userId: text('user_id').notNull(),
    state: text('state').$type<ScheduleState>().notNull(),
    pausedReason: text('paused_reason'),
    /** The next slot to fire (null when paused or done). */
    nextRunAt: integer('next_run_at'),
    /** The slot of the last firing. */
    lastFiredAt: integer('last_fired_at'),
    lastJobId: text('last_job_id'),
    /** How the last finished run ended: succeeded, failed, canceled; or missed (skipped after downtime). */
    lastResult: text('last_result'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('schedules_state_next').on(t.state, t.nextRunAt)],
);

/** One firing of a schedule: its slot (unique per schedule, so a slot can never fire twice), its job and how it ended. */
export const scheduleRuns = sqliteTable(
  'schedule_runs',
  {
    id: text('id').primaryKey(),
    scheduleId: text('schedule_id').notNull(),
    slotAt: integer('slot_at').notNull(),
    /** slot: on time; catch_up: the one run after downtime; now: asked for by the owner (its slot is when it was asked). */
    kind: text('kind').$type<ScheduleRunKind>().notNull(),
    firedAt: integer('fired_at').notNull(),
    jobId: text('job_id').notNull(),
    /** null until the job ended: succeeded, failed or canceled. */
    result: text('result'),
    endedAt: integer('ended_at'),
  },
  (t) => [
    // A slot fires once; a run the owner asked for now takes no slot.
    uniqueIndex('schedule_runs_slot')
      .on(t.scheduleId, t.slotAt)
      .where(sql`kind <> 'now'`),
    index('schedule_runs_open').on(t.result, t.scheduleId),
    index('schedule_runs_job').on(t.jobId),
  ],
);

/**
 * The compact history behind the console's charts (GET /api/stats): one row per hour, recomputed by the maintenance
 * job `stats_rollup` from that hour's jobs and decisions (packages/store/src/stats.ts), kept for retention.stats.
 * Latencies are the jobs that ended in the hour, in ms; percentiles by nearest rank, with a log-binned histogram
 * per stage so that longer buckets can be merged.
 */
export const statsHourly = sqliteTable('stats_hourly', {
  /** The hour's start, epoch ms (UTC). */
  hour: integer('hour').primaryKey(),
  succeeded: integer('succeeded').notNull().default(0),
  failed: integer('failed').notNull().default(0),
  canceled: integer('canceled').notNull().default(0),
  queueWaitP50: integer('queue_wait_p50'),
  queueWaitP95: integer('queue_wait_p95'),
  routeP50: integer('route_p50'),
  routeP95: integer('route_p95'),
  executeP50: integer('execute_p50'),
  executeP95: integer('execute_p95'),
  closeP50: integer('close_p50'),
  closeP95: integer('close_p95'),
  /**
   * Per stage, the hour's latencies in log bins (encodeHistograms of stats.ts: per stage present, its index, the
   * number of bins, then bin and count of each), so that longer buckets merge their hours without parsing text.
   */
  latencyHist: blob('latency_hist', { mode: 'buffer' }),
  /** Queue depth samples the daemon took in this hour (one a minute): how many, their sum and maximum. */
  depthSamples: integer('depth_samples').notNull().default(0),
  depthSum: integer('depth_sum').notNull().default(0),
  depthMax: integer('depth_max'),
  /** The newest sample counted: a sample passed again is not counted twice. */
  depthLastAt: integer('depth_last_at'),
  /** Router and closer calls that asked a model (route_decisions, close_decisions with model_called). */
  routeCalls: integer('route_calls').notNull().default(0),
  closeCalls: integer('close_calls').notNull().default(0),
  /** Agent runs: the attempts of the jobs that ended in the hour whose execute stage ran. */
  agentRuns: integer('agent_runs').notNull().default(0),
  inputTokens: integer('input_tokens').notNull().default(0),
  outputTokens: integer('output_tokens').notNull().default(0),
  /** Null when no job of the hour reported a cost. */
  costUsd: real('cost_usd'),
  jobsWithCost: integer('jobs_with_cost').notNull().default(0),
  /** When the rollup last computed this row (epoch ms). */
  rolledAt: integer('rolled_at').notNull(),
});

/**
 * Usage per hour and task (`taskId` '' for jobs never routed to a task): what GET /api/usage sums for the hours
 * the rollup covered, so it never reads a month of jobs on the daemon's connection. Written with stats_hourly.
 */
export const usageHourly = sqliteTable(
  'usage_hourly',
  {
    hour: integer('hour').notNull(),
    taskId: text('task_id').notNull(),
    jobs: integer('jobs').notNull(),
    inputTokens: integer('input_tokens').notNull(),
    outputTokens: integer('output_tokens').notNull(),
    costUsd: real('cost_usd'),
    jobsWithCost: integer('jobs_with_cost').notNull(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.taskId] })],
);

export const maintenanceRuns = sqliteTable('maintenance_runs', {
  job: text('job').primaryKey(),
  lastStartAt: integer('last_start_at'),
  lastSuccessAt: integer('last_success_at'),
  lastError: text('last_error'),
  lastErrorAt: integer('last_error_at'),
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  nextRunAt: integer('next_run_at'),
});

export type TaskRow = typeof tasks.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type RouteDecisionRow = typeof routeDecisions.$inferSelect;
export type CloseDecisionRow = typeof closeDecisions.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type MaintenanceRunRow = typeof maintenanceRuns.$inferSelect;
export type ChannelRefRow = typeof channelRefs.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type ApprovalRow = typeof approvals.$inferSelect;
export type MemoryRow = typeof memory.$inferSelect;
export type ScheduleRow = typeof schedules.$inferSelect;
export type ScheduleRunRow = typeof scheduleRuns.$inferSelect;
export type StatsHourlyRow = typeof statsHourly.$inferSelect;
