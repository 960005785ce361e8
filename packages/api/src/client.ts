import * as v from 'valibot';
import type { CloseRequest, DecisionsFilter, JobRequest, JobsFilter, MessageRequest, TasksFilter } from './inputs.js';
import { DecisionLog, Job, Task, TaskDetail } from './objects.js';
import {
  Healthz,
  JobAccepted,
  JobList,
  MessageDone,
  MessagePending,
  Readyz,
  RetryAnswer,
  TaskList,
} from './answers.js';
import { StatusDocument } from './status.js';
import { readEvents } from './events.js';
import { Approval, ApprovalList, ApprovalRaised } from './approvals.js';
import { MemoryDeleted, MemoryEntry, MemoryList } from './memory.js';
import type { MemoryEditRequest, MemoryFilter, MemoryRequest } from './memory.js';
import type { AllowRequest, ApprovalRequest, ApprovalsFilter, DenyRequest } from './approvals.js';
import type { ApiEvent } from './events.js';
import { Schedule, ScheduleDeleted, ScheduleDetail, ScheduleList, ScheduleRunNow } from './schedules.js';
import type { ScheduleRequest } from './schedules.js';
import { StatsReport, UsageReport } from './stats.js';
import type { StatsRange, UsageFilter } from './stats.js';
import { createTransport, errorOf } from './transport.js';
import type { ApiClientOptions, Call } from './transport.js';

/**
 * A typed client of the daemon's HTTP API (docs/api.md), over the schemas of this package.
 *
 * Why not hono's `hc<AppType>`: it would make the console and the CLI import the daemon app's types (and so
 * depend on the daemon), and it checks nothing at run time. Here every answer is validated against the same
 * schema the daemon's views are typed with, so a drift shows up as an ApiContractError naming the endpoint and
 * the field, not as an `undefined` three screens later.
 */

export type { ApiClientOptions } from './transport.js';

/** One option bag for every call: abort the request (and, for `events`, the stream) with `signal`. */
export interface CallOptions {
  signal?: AbortSignal;
}

export type MessageAnswer = { status: 200; body: MessageDone } | { status: 202; body: MessagePending };
export type ReadyAnswer = { status: 200 | 503; body: Readyz };
export type ApiClient = ReturnType<typeof createApiClient>;

/** The transport, plus `body` (the validated answer's body) that most calls want; shared by the builders below. */
type Kit = ReturnType<typeof createTransport> & {
  body: <S extends v.GenericSchema>(c: Call<S>) => Promise<v.InferOutput<S>>;
};

const seg = encodeURIComponent;

/** POST /api/message has two answers with different schemas, so it validates by status itself. */
function messageCalls({ call, check }: Kit) {
  return {
    /** POST /api/message: 200 with the reply when the job finished within `wait_ms`, else 202 with the job to follow. */
    async sendMessage(req: MessageRequest, o: CallOptions = {}): Promise<MessageAnswer> {
      const r = await call({
        method: 'POST',
        endpoint: '/api/message',
        path: '/api/message',
        schema: v.unknown(),
        body: req,
        ok: [200, 202],
        signal: o.signal,
      });
      return r.status === 200
        ? { status: 200, body: check(MessageDone, r.body, 'POST /api/message', 200) }
        : { status: 202, body: check(MessagePending, r.body, 'POST /api/message', 202) };
    },
  };
}

function jobCalls({ body }: Kit) {
  return {
    /** POST /api/jobs: queued, answered at once. */
    submitJob: (req: JobRequest, o: CallOptions = {}): Promise<JobAccepted> =>
      body({
        method: 'POST',
        endpoint: '/api/jobs',
        path: '/api/jobs',
        schema: JobAccepted,
        body: req,
        signal: o.signal,
      }),
    listJobs: async (f: JobsFilter = {}, o: CallOptions = {}): Promise<Job[]> =>
      (
        await body({
          method: 'GET',
          endpoint: '/api/jobs',
          path: '/api/jobs',
          schema: JobList,
          query: f,
          signal: o.signal,
        })
      ).jobs,
    getJob: (id: string, o: CallOptions = {}): Promise<Job> =>
      body({ method: 'GET', endpoint: '/api/jobs/{id}', path: `/api/jobs/${seg(id)}`, schema: Job, signal: o.signal }),
    cancelJob: (id: string, o: CallOptions = {}): Promise<Job> =>
      body({
        method: 'POST',
        endpoint: '/api/jobs/{id}/cancel',
        path: `/api/jobs/${seg(id)}/cancel`,
        schema: Job,
        signal: o.signal,
      }),
    /** `created` false: the job had been retried already and this is that retry (the answer was 200, not 202). */
    retryJob: (id: string, o: CallOptions = {}): Promise<RetryAnswer> =>
      body({
        method: 'POST',
        endpoint: '/api/jobs/{id}/retry',
        path: `/api/jobs/${seg(id)}/retry`,
        schema: RetryAnswer,
        ok: [200, 202],
        signal: o.signal,
      }),
  };
}

function taskCalls({ body }: Kit) {
  return {
    listTasks: async (f: TasksFilter = {}, o: CallOptions = {}): Promise<Task[]> =>
      (
        await body({
          method: 'GET',
          endpoint: '/api/tasks',
          path: '/api/tasks',
          schema: TaskList,
          query: f,
          signal: o.signal,
        })
      ).tasks,
    getTask: (id: string, o: CallOptions = {}): Promise<TaskDetail> =>
      body({
        method: 'GET',
        endpoint: '/api/tasks/{id}',
        path: `/api/tasks/${seg(id)}`,
        schema: TaskDetail,
        signal: o.signal,
      }),
    closeTask: (id: string, req: CloseRequest = {}, o: CallOptions = {}): Promise<Task> =>
      body({
        method: 'POST',
        endpoint: '/api/tasks/{id}/close',
        path: `/api/tasks/${seg(id)}/close`,
        schema: Task,
        body: req,
        signal: o.signal,
      }),
    reopenTask: (id: string, o: CallOptions = {}): Promise<Task> =>
      body({
        method: 'POST',
        endpoint: '/api/tasks/{id}/reopen',
        path: `/api/tasks/${seg(id)}/reopen`,
        schema: Task,
        signal: o.signal,
      }),
  };
}

/** The daemon's own state: status, the decision log, health and readiness probes. */
function serviceCalls({ call, body }: Kit) {
  return {
    status: (o: CallOptions = {}): Promise<StatusDocument> =>
      body({ method: 'GET', endpoint: '/api/status', path: '/api/status', schema: StatusDocument, signal: o.signal }),
    decisions: (f: DecisionsFilter = {}, o: CallOptions = {}): Promise<DecisionLog> =>
      body({
        method: 'GET',
        endpoint: '/api/decisions',
        path: '/api/decisions',
        schema: DecisionLog,
        query: f,
        signal: o.signal,
      }),
    healthz: (o: CallOptions = {}): Promise<Healthz> =>
      body({ method: 'GET', endpoint: '/healthz', path: '/healthz', schema: Healthz, signal: o.signal }),
    /** 503 is an answer here (not ready: shutting down), not an error. */
    readyz: async (o: CallOptions = {}): Promise<ReadyAnswer> => {
      const r = await call({
        method: 'GET',
        endpoint: '/readyz',
        path: '/readyz',
        schema: Readyz,
        ok: [200, 503],
        signal: o.signal,
      });
      return { status: r.status === 200 ? 200 : 503, body: r.body };
    },
  };
}

/** The event stream is read raw (`send`), not through `call`: it is not one JSON answer. */
function eventCalls({ send }: Kit) {
  return {
    /**
     * GET /api/events as validated events, until `signal` aborts or the daemon ends the stream. (A browser can use
     * `EventSource` with `parseEvent` instead; this is for fetch-based clients such as the CLI and tests.)
     */
    async *events(o: CallOptions = {}): AsyncGenerator<ApiEvent> {
      const res = await send({ method: 'GET', path: '/api/events', signal: o.signal }, 'text/event-stream');
      if (!res.ok || !res.body) throw errorOf('GET /api/events', res.status, await res.text());
      yield* readEvents(res.body, o.signal);
    },
  };
}

export function createApiClient(opts: ApiClientOptions) {
  const transport = createTransport(opts);
  const body = async <S extends v.GenericSchema>(c: Call<S>): Promise<v.InferOutput<S>> =>
    (await transport.call(c)).body;
  const kit: Kit = { ...transport, body };
  // One builder per resource, spread in the order the methods always had; all share the one transport.
  return {
    ...messageCalls(kit),
    ...jobCalls(kit),
    ...taskCalls(kit),
    ...serviceCalls(kit),
    ...eventCalls(kit),
    ...approvalCalls(kit),
    ...memoryCalls(kit),
    ...scheduleCalls(kit),
    ...statsCalls(kit),
  };
}

/** Usage and cost (by day or task) and the hourly history behind the charts. */
function statsCalls({ body }: Kit) {
  return {
    /** GET /api/usage: the jobs that ended since `since` (default 7d), by UTC day (default) or by task. */
    usage: (f: UsageFilter = {}, o: CallOptions = {}): Promise<UsageReport> =>
      body({
        method: 'GET',
        endpoint: '/api/usage',
        path: '/api/usage',
        schema: UsageReport,
        query: f,
        signal: o.signal,
      }),
    /** GET /api/stats: the charts' series over 24h (hourly), 7d (six-hourly) or 30d (daily). */
    stats: (range: StatsRange = '24h', o: CallOptions = {}): Promise<StatsReport> =>
      body({
        method: 'GET',
        endpoint: '/api/stats',
        path: '/api/stats',
        schema: StatsReport,
        query: { range },
        signal: o.signal,
      }),
  };
}

/** The owner's schedules: list, show (with its latest firings), add, pause, resume, run now, remove. */
function scheduleCalls({ body }: Kit) {
  const act = (id: string, action: 'pause' | 'resume', o: CallOptions): Promise<Schedule> =>
    body({
      method: 'POST',
      endpoint: `/api/schedules/{id}/${action}`,
      path: `/api/schedules/${seg(id)}/${action}`,
      schema: Schedule,
      body: {},
      signal: o.signal,
    });
  return {
    listSchedules: async (o: CallOptions = {}): Promise<Schedule[]> =>
      (
        await body({
          method: 'GET',
          endpoint: '/api/schedules',
          path: '/api/schedules',
          schema: ScheduleList,
          signal: o.signal,
        })
      ).schedules,
    getSchedule: (id: string, o: CallOptions = {}): Promise<ScheduleDetail> =>
      body({
        method: 'GET',
        endpoint: '/api/schedules/{id}',
        path: `/api/schedules/${seg(id)}`,
        schema: ScheduleDetail,
        signal: o.signal,
      }),
    addSchedule: (req: ScheduleRequest, o: CallOptions = {}): Promise<Schedule> =>
      body({
        method: 'POST',
        endpoint: '/api/schedules',
        path: '/api/schedules',
        schema: Schedule,
        body: req,
        signal: o.signal,
      }),
    pauseSchedule: (id: string, o: CallOptions = {}): Promise<Schedule> => act(id, 'pause', o),
    resumeSchedule: (id: string, o: CallOptions = {}): Promise<Schedule> => act(id, 'resume', o),
    runSchedule: (id: string, o: CallOptions = {}): Promise<ScheduleRunNow> =>
      body({
        method: 'POST',
        endpoint: '/api/schedules/{id}/run',
        path: `/api/schedules/${seg(id)}/run`,
        schema: ScheduleRunNow,
        body: {},
        signal: o.signal,
      }),
    removeSchedule: (id: string, o: CallOptions = {}): Promise<ScheduleDeleted> =>
      body({
        method: 'DELETE',
        endpoint: '/api/schedules/{id}',
        path: `/api/schedules/${seg(id)}`,
        schema: ScheduleDeleted,
        signal: o.signal,
      }),
  };
}

/** The owner's memory: list or search (`q`), add, edit, pin, remove. */
function memoryCalls({ body }: Kit) {
  const patch = (id: string, req: MemoryEditRequest, o: CallOptions): Promise<MemoryEntry> =>
    body({
      method: 'PATCH',
      endpoint: '/api/memory/{id}',
      path: `/api/memory/${seg(id)}`,
      schema: MemoryEntry,
      body: req,
      signal: o.signal,
    });
  return {
    /** All entries oldest first; with `q`, those matching every word, best first (at most 50). */
    listMemory: async (f: MemoryFilter = {}, o: CallOptions = {}): Promise<MemoryEntry[]> =>
      (
        await body({
          method: 'GET',
          endpoint: '/api/memory',
          path: '/api/memory',
          schema: MemoryList,
          query: f,
          signal: o.signal,
        })
      ).memory,
    addMemory: (req: MemoryRequest, o: CallOptions = {}): Promise<MemoryEntry> =>
      body({
        method: 'POST',
        endpoint: '/api/memory',
        path: '/api/memory',
        schema: MemoryEntry,
        body: req,
        signal: o.signal,
      }),
    editMemory: (id: string, content: string, o: CallOptions = {}): Promise<MemoryEntry> => patch(id, { content }, o),
    /** Pinned: kept by retention (a summary with its task's row, a note past retention.memory). */
    pinMemory: (id: string, pinned: boolean, o: CallOptions = {}): Promise<MemoryEntry> => patch(id, { pinned }, o),
    removeMemory: (id: string, o: CallOptions = {}): Promise<MemoryDeleted> =>
      body({
        method: 'DELETE',
        endpoint: '/api/memory/{id}',
        path: `/api/memory/${seg(id)}`,
        schema: MemoryDeleted,
        signal: o.signal,
      }),
  };
}

/**
 * Approvals: the owner's list and answers; a run raises one and waits for it with its own run token as the
 * client's token (`createApiClient({url, token: ALTER0_APPROVAL_TOKEN})`).
 */
function approvalCalls({ body }: Kit) {
  return {
    listApprovals: async (f: ApprovalsFilter = {}, o: CallOptions = {}): Promise<Approval[]> =>
      (
        await body({
          method: 'GET',
          endpoint: '/api/approvals',
          path: '/api/approvals',
          schema: ApprovalList,
          query: f,
          signal: o.signal,
        })
      ).approvals,
    getApproval: (id: string, opts: { waitS?: number } = {}, o: CallOptions = {}): Promise<Approval> =>
      body({
        method: 'GET',
        endpoint: '/api/approvals/{id}',
        path: `/api/approvals/${seg(id)}`,
        schema: Approval,
        query: opts.waitS === undefined ? {} : { wait_s: String(opts.waitS) },
        signal: o.signal,
      }),
    raiseApproval: (req: ApprovalRequest, o: CallOptions = {}): Promise<ApprovalRaised> =>
      body({
        method: 'POST',
        endpoint: '/api/approvals',
        path: '/api/approvals',
        schema: ApprovalRaised,
        body: req,
        signal: o.signal,
      }),
    allowApproval: (id: string, req: AllowRequest = {}, o: CallOptions = {}): Promise<Approval> =>
      body({
        method: 'POST',
        endpoint: '/api/approvals/{id}/allow',
        path: `/api/approvals/${seg(id)}/allow`,
        schema: Approval,
        body: req,
        signal: o.signal,
      }),
    denyApproval: (id: string, req: DenyRequest = {}, o: CallOptions = {}): Promise<Approval> =>
      body({
        method: 'POST',
        endpoint: '/api/approvals/{id}/deny',
        path: `/api/approvals/${seg(id)}/deny`,
        schema: Approval,
        body: req,
        signal: o.signal,
      }),
  };
}
