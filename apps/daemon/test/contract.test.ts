/**
 * The contract test: for every endpoint of docs/api.md's table, drive the API in-process (real SQLite store,
 * real pool and pipeline, scripted models: live-harness.ts) and check the live answers — a success and at least
 * one error each — against the schemas of @alter0/api, field for field. It fails when the doc lists an endpoint
 * no case covers, or the server serves one the doc does not list.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, Job } from '@alter0/api';
import {
  MemoryDeleted,
  MemoryEntry,
  MemoryList,
  Approval as ApprovalSchema,
  ApprovalList,
  ApprovalRaised,
  DecisionLog,
  Healthz,
  Job as JobSchema,
  JobAccepted,
  JobList,
  MessageDone,
  MessagePending,
  Readyz,
  RetryAnswer,
  StatusDocument,
  Task,
  TaskDetail,
  TaskList,
  readEvents,
  Schedule,
  ScheduleDeleted,
  ScheduleDetail,
  ScheduleList,
  ScheduleRunNow,
  StatsReport,
  UsageReport,
} from '@alter0/api';
import { rollupStats } from '@alter0/store';
import { apiUnderTest } from './api-harness.js';
import { documentedEndpoints, expectAnswer, expectError, servedEndpoints } from './contract-check.js';
import type { LiveApi } from './live-harness.js';
import { liveApiUnderTest } from './live-harness.js';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/api.md');
const NO_JOB = 'j_00000000000000000000000000';
const NO_TASK = 't_00000000000000000000000000';
const NO_SCHEDULE = 's_00000000000000000000000000';

let api: LiveApi;
beforeAll(() => {
  api = liveApiUnderTest({
    defaults: { waitMs: 0, maxWaitMs: 10_000, bodyLimitBytes: 1_048_576, timeoutS: 60, maxAttempts: 1 },
  });
});
afterAll(async () => {
  await api.close();
});

async function until<T>(what: string, fn: () => T | undefined | false, ms = 5_000, state?: () => unknown): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const r = fn();
    if (r) return r;
    if (Date.now() > end)
      throw new Error(`${what}: not within ${ms}ms${state ? ` (now: ${JSON.stringify(state())})` : ''}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Sends a message and waits for its reply (or failure). */
async function answered(content: string, extra: Record<string, unknown> = {}): Promise<MessageDone> {
  return expectAnswer(
    await api.post('/api/message', { content, wait_ms: 5_000, ...extra }),
    200,
    MessageDone,
    `message "${content}"`,
  );
}

/** A job whose agent runs until canceled; resolves once it is running. */
async function holding(extra: Record<string, unknown> = {}): Promise<string> {
  const { job_id } = await expectAnswer(
    await api.post('/api/jobs', { content: 'hold on', ...extra }),
    202,
    JobAccepted,
    'hold job',
  );
  await until(`job ${job_id} running`, () => api.store.jobs.get(job_id)?.stage === 'execute');
  return job_id;
}

/** A pending approval of a running job (raised through the service as a run would). */
async function pendingApproval(): Promise<string> {
  const jobId = await holding();
  const a = api.approvals.raise({ jobId, attempt: 1, taskId: null, agent: 'command' }, 'Bash', { command: 'ls' });
  await canceled(jobId);
  return a.id;
}

async function canceled(id: string): Promise<void> {
  expect((await api.post(`/api/jobs/${id}/cancel`, {})).status).toBe(200);
  await until(
    `job ${id} canceled`,
    () => api.store.jobs.get(id)?.state === 'canceled',
    5_000,
    () => api.store.jobs.get(id),
  );
}

const cases: Record<string, () => Promise<void>> = {
  'POST /api/message': async () => {
    const done = await answered('hello there');
    expect(done.reply).toBe('reply to: hello there');
    // Answered at the reply: the close stage may still be running.
    expect(['running', 'succeeded']).toContain(done.state);
    const pending = await expectAnswer(
      await api.post('/api/message', { content: 'hold it', wait_ms: 0 }),
      202,
      MessagePending,
      '202',
    );
    await until('running', () => api.store.jobs.get(pending.job_id)?.stage === 'execute');
    await canceled(pending.job_id);
    expect(
      await expectError(await api.post('/api/message', { content: '  ' }), 400, 'invalid_request', 'empty'),
    ).toContain('content must not be empty');
  },

  'POST /api/jobs': async () => {
    const a = await expectAnswer(
      await api.post('/api/jobs', { content: 'later', lane: 'background', timeout_s: 30, max_attempts: 2 }),
      202,
      JobAccepted,
      '202',
    );
    await until('done', () => api.store.jobs.get(a.job_id)?.state === 'succeeded');
    expect(
      await expectError(await api.post('/api/jobs', { content: 'x', lane: 'fast' }), 400, 'invalid_request', 'lane'),
    ).toContain('lane must be interactive or background');
    await expectError(await api.post('/api/jobs', { content: 'x', extra: 1 }), 400, 'invalid_request', 'unknown field');
  },

  'GET /api/jobs': async () => {
    const done = await answered('list me');
    const list = await expectAnswer(await api.request('/api/jobs?state=succeeded&limit=50'), 200, JobList, 'list');
    expect(list.jobs.map((j) => j.id)).toContain(done.job_id);
    expect(list.jobs.every((j) => j.state === 'succeeded')).toBe(true);
    expect(await expectError(await api.request('/api/jobs?state=done'), 400, 'invalid_request', 'state')).toContain(
      'state must be one of',
    );
    await expectError(await api.request('/api/jobs?limit=many'), 400, 'invalid_request', 'limit');
  },

  'GET /api/jobs/{id}': async () => {
    const ok = await answered('show me');
    const job = await expectAnswer(await api.request(`/api/jobs/${ok.job_id}`), 200, JobSchema, 'succeeded job');
    expect(job).toMatchObject({
      state: 'succeeded',
      reply: 'reply to: show me',
      usage: { inputTokens: 3, outputTokens: 5 },
    });
    expect(job.route?.decision).toBe('new');
    const bad = await answered('fail please');
    const failed = await expectAnswer(await api.request(`/api/jobs/${bad.job_id}`), 200, JobSchema, 'failed job');
    expect(failed.error).toMatchObject({ class: 'exit', stderr_tail: 'stderr of the scripted agent' });
    await expectError(await api.request(`/api/jobs/${NO_JOB}`), 404, 'not_found', 'unknown job');
  },

  'POST /api/jobs/{id}/cancel': async () => {
    const id = await holding();
    const job: Job = await expectAnswer(await api.post(`/api/jobs/${id}/cancel`, {}), 200, JobSchema, 'cancel running');
    expect(job.id).toBe(id);
    await until('canceled', () => api.store.jobs.get(id)?.state === 'canceled');
    expect(
      await expectError(await api.post(`/api/jobs/${id}/cancel`, {}), 409, 'conflict', 'cancel terminal'),
    ).toContain(id);
    await expectError(await api.post(`/api/jobs/${NO_JOB}/cancel`, {}), 404, 'not_found', 'unknown job');
  },

  'POST /api/jobs/{id}/retry': async () => {
    const bad = await answered('fail again');
    const first = await expectAnswer(
      await api.post(`/api/jobs/${bad.job_id}/retry`, {}),
      202,
      RetryAnswer,
      'first retry',
    );
    expect(first).toMatchObject({ retry_of: bad.job_id, created: true, state: 'queued' });
    const again = await expectAnswer(
      await api.post(`/api/jobs/${bad.job_id}/retry`, {}),
      200,
      RetryAnswer,
      'second retry',
    );
    expect(again).toMatchObject({ job_id: first.job_id, created: false });
    const ok = await answered('fine');
    expect(
      await expectError(await api.post(`/api/jobs/${ok.job_id}/retry`, {}), 409, 'conflict', 'answered job'),
    ).toContain('already answered');
  },

  'GET /api/tasks': async () => {
    const done = await answered('a task of its own');
    const all = await expectAnswer(await api.request('/api/tasks?state=all&limit=100'), 200, TaskList, 'all');
    expect(all.tasks.map((t) => t.id)).toContain(done.task_id);
    await expectAnswer(await api.request('/api/tasks?q=nothing-matches-this'), 200, TaskList, 'search');
    expect(await expectError(await api.request('/api/tasks?state=gone'), 400, 'invalid_request', 'state')).toContain(
      'state must be open, closed or all',
    );
  },

  'GET /api/tasks/{id}': async () => {
    const first = await answered('start a task');
    await answered('continue it', { task_id: first.task_id });
    const t = await expectAnswer(await api.request(`/api/tasks/${first.task_id}`), 200, TaskDetail, 'detail');
    expect(t.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(t.jobs).toHaveLength(2);
    expect(t.decisions.route.length).toBeGreaterThanOrEqual(2);
    expect(t.decisions.close.map((d) => d.action)).toEqual(['keep_open', 'keep_open']);
    // The scripted agent reports 3 tokens in and 5 out per run, and no cost.
    expect(t.usage).toEqual({ jobs: 2, input_tokens: 6, output_tokens: 10, cost_usd: null, jobs_with_cost: 0 });
    await expectError(await api.request(`/api/tasks/${NO_TASK}`), 404, 'not_found', 'unknown task');
  },

  'POST /api/tasks/{id}/close': async () => {
    const done = await answered('a task to close');
    const taskId = done.task_id!;
    const busy = await holding({ task_id: taskId });
    expect(
      await expectError(await api.post(`/api/tasks/${taskId}/close`, {}), 409, 'conflict', 'under work'),
    ).toContain(busy);
    await canceled(busy);
    const closed = await expectAnswer(
      await api.post(`/api/tasks/${taskId}/close`, { reason: 'finished' }),
      200,
      Task,
      'close',
    );
    expect(closed).toMatchObject({ state: 'closed', closed_by: 'manual', close_reason: 'finished' });
    await expectError(await api.post(`/api/tasks/${taskId}/close`, {}), 409, 'conflict', 'already closed');
    await expectError(await api.post(`/api/tasks/${NO_TASK}/close`, {}), 404, 'not_found', 'unknown task');
  },

  'POST /api/tasks/{id}/reopen': async () => {
    const done = await answered('all done here');
    const taskId = done.task_id!;
    await until('closed by the closer', () => api.store.tasks.get(taskId)?.state === 'closed');
    const open = await expectAnswer(await api.post(`/api/tasks/${taskId}/reopen`, {}), 200, Task, 'reopen');
    expect(open.state).toBe('open');
    expect(
      await expectError(await api.post(`/api/tasks/${taskId}/reopen`, {}), 409, 'conflict', 'already open'),
    ).toContain('already open');
    // One close rule (invariant 5): the closer's close, the owner's reopen and close are the same kind of record.
    await expectAnswer(
      await api.post(`/api/tasks/${taskId}/close`, { reason: 'finished by hand' }),
      200,
      Task,
      'close again',
    );
    const t = await expectAnswer(await api.request(`/api/tasks/${taskId}`), 200, TaskDetail, 'decisions');
    expect(t.decisions.close.map((d) => `${d.source}:${d.action}`).sort()).toEqual([
      'auto:close',
      'manual:close',
      'manual:reopen',
    ]);
    expect(t.decisions.close.find((d) => d.source === 'manual' && d.action === 'close')).toMatchObject({
      reason: 'finished by hand',
      confidence: 1,
    });
  },

  'GET /api/status': async () => {
    const s = await expectAnswer(await api.request('/api/status'), 200, StatusDocument, 'status');
    expect(s.components.scheduler.details.jobs[0]?.name).toBe('backup');
    await expectError(
      await api.request('/api/status', { headers: { host: 'evil.example' } }),
      403,
      'host_not_allowed',
      'foreign host',
    );
  },

  'GET /api/events': async () => {
    const ctl = new AbortController();
    const res = await api.request('/api/events', { signal: ctl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const seen: ApiEvent[] = [];
    const reading = (async () => {
      for await (const e of readEvents(res.body!, ctl.signal)) {
        seen.push(e);
        if (e.event === 'hello') void answered('tell the stream');
        if (e.event === 'task') ctl.abort();
      }
    })();
    await until('a job and a task event', () => seen.some((e) => e.event === 'task'));
    await reading.catch(() => undefined);
    expect(seen[0]?.event).toBe('hello');
    expect(seen.some((e) => e.event === 'job' && e.data.content === 'tell the stream')).toBe(true);
    await expectError(
      await api.request('/api/events', { headers: { 'sec-fetch-site': 'cross-site' } }),
      403,
      'cross_origin',
      'cross-site',
    );
  },

  'GET /api/decisions': async () => {
    await answered('decide something');
    const both = await expectAnswer(await api.request('/api/decisions'), 200, DecisionLog, 'both');
    expect(both.route.length).toBeGreaterThan(0);
    expect(both.close.length).toBeGreaterThan(0);
    expect(both.route.some((d) => d.candidates.length > 0)).toBe(true);
    const route = await expectAnswer(
      await api.request('/api/decisions?kind=route&limit=2'),
      200,
      DecisionLog,
      'route only',
    );
    expect(route.close).toEqual([]);
    expect(await expectError(await api.request('/api/decisions?kind=all'), 400, 'invalid_request', 'kind')).toContain(
      'kind must be route or close',
    );
  },

  'GET /healthz': async () => {
    await expectAnswer(await api.request('/healthz'), 200, Healthz, 'healthz');
    await expectError(
      await api.request('/healthz', { headers: { host: 'evil.example' } }),
      403,
      'host_not_allowed',
      'foreign host',
    );
  },

  'GET /readyz': async () => {
    await expectAnswer(await api.request('/readyz'), 200, Readyz, 'ready');
    api.setAccepting(false);
    try {
      const r = await expectAnswer(await api.request('/readyz'), 503, Readyz, 'not ready');
      expect(r).toMatchObject({ ready: false, error: { code: 'unavailable' } });
    } finally {
      api.setAccepting(true);
    }
  },

  'POST /api/approvals': async () => {
    const jobId = await holding();
    const gate = api.approvals.open({ jobId, attempt: 1, taskId: null, agent: 'command' });
    const bearer = { authorization: `Bearer ${gate?.token ?? ''}` };
    const raised = await expectAnswer(
      await api.post('/api/approvals', { job_id: jobId, tool: 'Bash', input: { command: 'make' } }, bearer),
      201,
      ApprovalRaised,
      'raise',
    );
    expect(raised.state).toBe('pending');
    await expectError(
      await api.post('/api/approvals', { job_id: jobId, tool: 'Bash' }),
      401,
      'unauthorized',
      'no run token',
    );
    await expectError(
      await api.post('/api/approvals', { job_id: NO_JOB, tool: 'Bash' }, bearer),
      403,
      'forbidden',
      'another job',
    );
    api.approvals.close(gate?.token ?? '', 'the test ended the run', 'run_ended');
    await canceled(jobId);
  },

  'GET /api/approvals': async () => {
    await pendingApproval();
    const list = await expectAnswer(await api.request('/api/approvals?state=all'), 200, ApprovalList, 'approvals');
    expect(list.approvals.length).toBeGreaterThan(0);
    await expectError(await api.request('/api/approvals?state=some'), 400, 'invalid_request', 'bad state');
  },

  'GET /api/approvals/{id}': async () => {
    const [a] = api.store.approvals.list({});
    const got = await expectAnswer(
      await api.request(`/api/approvals/${a?.id ?? ''}?wait_s=0`),
      200,
      ApprovalSchema,
      'get',
    );
    expect(got.id).toBe(a?.id);
    await expectError(await api.request('/api/approvals/a_00000000000000000000000000'), 404, 'not_found', 'unknown');
    await expectError(
      await api.request(`/api/approvals/${a?.id ?? ''}?wait_s=600`),
      400,
      'invalid_request',
      'long wait',
    );
  },

  'POST /api/approvals/{id}/allow': async () => {
    const id = await pendingApproval();
    const a = await expectAnswer(
      await api.post(`/api/approvals/${id}/allow`, { always: true }),
      200,
      ApprovalSchema,
      'allow',
    );
    expect(a).toMatchObject({ state: 'allowed', decided_by: 'api' });
    await expectError(await api.post(`/api/approvals/${id}/allow`, {}), 409, 'conflict', 'twice');
  },

  'POST /api/approvals/{id}/deny': async () => {
    const id = await pendingApproval();
    const a = await expectAnswer(
      await api.post(`/api/approvals/${id}/deny`, { reason: 'no' }, { 'x-alter0-channel': 'console' }),
      200,
      ApprovalSchema,
      'deny',
    );
    expect(a).toMatchObject({ state: 'denied', reason: 'no', decided_by: 'console' });
    await expectError(
      await api.post('/api/approvals/a_00000000000000000000000000/deny', {}),
      404,
      'not_found',
      'unknown',
    );
  },

  'GET /api/memory': async () => {
    await api.post('/api/memory', { content: 'use pnpm, never npm' });
    const list = await expectAnswer(await api.request('/api/memory'), 200, MemoryList, 'memory');
    expect(list.memory.some((m) => m.content === 'use pnpm, never npm' && m.task_id === null)).toBe(true);
    // A search: every word, any case; narrowed by kind.
    const found = await expectAnswer(await api.request('/api/memory?q=PNPM%20never'), 200, MemoryList, 'search');
    expect(found.memory.map((m) => m.content)).toContain('use pnpm, never npm');
    const summaries = await expectAnswer(
      await api.request('/api/memory?q=pnpm&kind=task_summary'),
      200,
      MemoryList,
      'search summaries',
    );
    expect(summaries.memory).toEqual([]);
    await expectError(await api.request('/api/memory?kind=summary'), 400, 'invalid_request', 'bad kind');
    await expectError(await api.request('/api/memory?q=%20%20'), 400, 'invalid_request', 'empty q');
    await expectError(await api.request('/api/memory', { method: 'PUT' }), 404, 'not_found', 'no PUT');
  },

  'POST /api/memory': async () => {
    const m = await expectAnswer(
      await api.post('/api/memory', { content: 'deploys go through make release' }),
      201,
      MemoryEntry,
      'add',
    );
    expect(m).toMatchObject({ kind: 'note', task_id: null });
    await expectError(await api.post('/api/memory', { content: '  ' }), 400, 'invalid_request', 'empty');
    await expectError(await api.post('/api/memory', { content: 'x', task_id: NO_TASK }), 404, 'not_found', 'no task');
  },

  'PATCH /api/memory/{id}': async () => {
    const m = await expectAnswer(await api.post('/api/memory', { content: 'old' }), 201, MemoryEntry, 'add');
    const patch = (id: string, body: unknown) =>
      api.request(`/api/memory/${id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const edited = await expectAnswer(await patch(m.id, { content: 'new' }), 200, MemoryEntry, 'edit');
    expect(edited.content).toBe('new');
    const pinned = await expectAnswer(await patch(m.id, { pinned: true }), 200, MemoryEntry, 'pin');
    expect(pinned).toMatchObject({ content: 'new', pinned: true, updated_at: edited.updated_at });
    await expectError(await patch(m.id, {}), 400, 'invalid_request', 'nothing to change');
    await expectError(await patch(m.id, { pinned: 'yes' }), 400, 'invalid_request', 'pinned not a boolean');
    await expectError(await patch('r_00000000000000000000000000', { content: 'x' }), 404, 'not_found', 'unknown');
  },

  'DELETE /api/memory/{id}': async () => {
    const m = await expectAnswer(await api.post('/api/memory', { content: 'gone soon' }), 201, MemoryEntry, 'add');
    await expectAnswer(await api.request(`/api/memory/${m.id}`, { method: 'DELETE' }), 200, MemoryDeleted, 'delete');
    await expectError(await api.request(`/api/memory/${m.id}`, { method: 'DELETE' }), 404, 'not_found', 'twice');
  },

  'GET /api/schedules': async () => {
    const made = await api.post('/api/schedules', { text: 'daily digest', every: '24h' });
    expect(made.status, await made.clone().text()).toBe(201);
    const list = await expectAnswer(await api.request('/api/schedules'), 200, ScheduleList, 'schedules');
    expect(list.schedules.map((x) => [x.text, x.description])).toContainEqual(['daily digest', 'every 1d']);
    await expectError(await api.request('/api/schedules', { method: 'PUT' }), 404, 'not_found', 'no PUT');
  },

  'POST /api/schedules': async () => {
    const made = await expectAnswer(
      await api.post('/api/schedules', { text: 'weekday standup', cron: '0 9 * * 1-5', tz: 'Europe/Berlin' }),
      201,
      Schedule,
      'add',
    );
    expect(made).toMatchObject({ kind: 'cron', cron: '0 9 * * 1-5', state: 'active', lane: 'background' });
    await expectError(
      await api.post('/api/schedules', { text: 'x', cron: '61 * * * *' }),
      400,
      'invalid_request',
      'bad cron',
    );
    await expectError(await api.post('/api/schedules', { text: 'x' }), 400, 'invalid_request', 'no timing');
    await expectError(
      await api.post('/api/schedules', { text: 'x', every: '1h', task_id: NO_TASK }),
      404,
      'not_found',
      'no task',
    );
  },

  'GET /api/schedules/{id}': async () => {
    const made = await expectAnswer(
      await api.post('/api/schedules', { text: 'once', at: '+1h' }),
      201,
      Schedule,
      'add',
    );
    const got = await expectAnswer(await api.request(`/api/schedules/${made.id}`), 200, ScheduleDetail, 'get');
    expect(got).toMatchObject({ id: made.id, kind: 'at', runs: [] });
    await expectError(await api.request(`/api/schedules/${NO_SCHEDULE}`), 404, 'not_found', 'missing');
  },

  'POST /api/schedules/{id}/pause': async () => {
    const made = await expectAnswer(await api.post('/api/schedules', { text: 'p', every: '1h' }), 201, Schedule, 'add');
    const paused = await expectAnswer(await api.post(`/api/schedules/${made.id}/pause`, {}), 200, Schedule, 'pause');
    expect(paused).toMatchObject({ state: 'paused', paused_reason: 'paused by the owner', next_run_at: null });
    await expectError(await api.post(`/api/schedules/${NO_SCHEDULE}/pause`, {}), 404, 'not_found', 'missing');
  },

  'POST /api/schedules/{id}/resume': async () => {
    const made = await expectAnswer(await api.post('/api/schedules', { text: 'r', every: '1h' }), 201, Schedule, 'add');
    await api.post(`/api/schedules/${made.id}/pause`, {});
    const resumed = await expectAnswer(await api.post(`/api/schedules/${made.id}/resume`, {}), 200, Schedule, 'resume');
    expect(resumed).toMatchObject({ state: 'active', paused_reason: null });
    await expectError(await api.post(`/api/schedules/${made.id}/resume`, { x: 1 }), 400, 'invalid_request', 'a body');
  },

  'POST /api/schedules/{id}/run': async () => {
    const made = await expectAnswer(
      await api.post('/api/schedules', { text: 'run me', every: '24h' }),
      201,
      Schedule,
      'add',
    );
    const ran = await expectAnswer(await api.post(`/api/schedules/${made.id}/run`, {}), 202, ScheduleRunNow, 'run');
    expect(ran.schedule.last_job_id).toBe(ran.job_id);
    const detail = await expectAnswer(await api.request(`/api/schedules/${made.id}`), 200, ScheduleDetail, 'runs');
    expect(detail.runs[0]).toMatchObject({ job_id: ran.job_id, kind: 'now' });
    await expectError(await api.post(`/api/schedules/${NO_SCHEDULE}/run`, {}), 404, 'not_found', 'missing');
  },

  'DELETE /api/schedules/{id}': async () => {
    const made = await expectAnswer(await api.post('/api/schedules', { text: 'd', every: '1h' }), 201, Schedule, 'add');
    await expectAnswer(
      await api.request(`/api/schedules/${made.id}`, { method: 'DELETE' }),
      200,
      ScheduleDeleted,
      'delete',
    );
    await expectError(await api.request(`/api/schedules/${made.id}`, { method: 'DELETE' }), 404, 'not_found', 'twice');
  },

  'GET /api/usage': async () => {
    const done = await answered('count my tokens');
    await until('the job ended', () => (api.store.jobs.get(done.job_id)?.finishedAt ?? null) !== null);
    const byDay = await expectAnswer(await api.request('/api/usage'), 200, UsageReport, 'by day');
    const today = new Date().toISOString().slice(0, 10);
    expect(byDay.by).toBe('day');
    expect(byDay.rows.at(-1)).toMatchObject({ key: today, title: null, cost_usd: null });
    expect(byDay.total.input_tokens).toBeGreaterThanOrEqual(3);
    const byTask = await expectAnswer(await api.request('/api/usage?by=task&since=1h'), 200, UsageReport, 'by task');
    expect(byTask.rows.find((r) => r.key === done.task_id)).toMatchObject({
      jobs: 1,
      input_tokens: 3,
      output_tokens: 5,
      cost_usd: null,
    });
    const iso = await expectAnswer(
      await api.request(`/api/usage?since=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`),
      200,
      UsageReport,
      'since an ISO time',
    );
    expect(iso.total.jobs).toBeGreaterThanOrEqual(1);
    expect(await expectError(await api.request('/api/usage?by=week'), 400, 'invalid_request', 'by')).toContain(
      'by must be day or task',
    );
    expect(
      await expectError(await api.request('/api/usage?since=yesterday'), 400, 'invalid_request', 'since'),
    ).toContain('since must be a duration');
  },

  'GET /api/stats': async () => {
    const done = await answered('something to chart');
    await until('the job ended', () => (api.store.jobs.get(done.job_id)?.finishedAt ?? null) !== null);
    const t = Date.now();
    rollupStats(api.store.opened.sqlite, { now: t, samples: [{ at: t, depth: 2 }] });
    const day = await expectAnswer(await api.request('/api/stats'), 200, StatsReport, '24h');
    expect(day).toMatchObject({ range: '24h', bucket: '1h' });
    expect(day.buckets).toHaveLength(24);
    const now = day.buckets.at(-1);
    expect(now?.jobs.succeeded).toBeGreaterThanOrEqual(1);
    expect(now?.queue_depth).toEqual({ max: 2, avg: 2 });
    expect(now?.latency_ms.execute.p50).not.toBeNull();
    expect(day.totals.tokens.input).toBeGreaterThanOrEqual(3);
    expect(day.rolled_up_at).not.toBeNull();
    const week = await expectAnswer(await api.request('/api/stats?range=7d'), 200, StatsReport, '7d');
    expect([week.bucket, week.buckets.length]).toEqual(['6h', 28]);
    const month = await expectAnswer(await api.request('/api/stats?range=30d'), 200, StatsReport, '30d');
    expect([month.bucket, month.buckets.length]).toEqual(['1d', 30]);
    expect(month.totals.jobs.succeeded).toBe(day.totals.jobs.succeeded);
    expect(await expectError(await api.request('/api/stats?range=1y'), 400, 'invalid_request', 'range')).toContain(
      'range must be 24h, 7d or 30d',
    );
  },

  'GET /metrics': async () => {
    const res = await api.request('/metrics');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('# alter0');
    const guarded = apiUnderTest({
      token: 's3cret',
      metricsText: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
    });
    try {
      await expectError(await guarded.request('/metrics'), 401, 'unauthorized', 'no token');
      expect((await guarded.request('/metrics', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  },
};

describe('docs/api.md ↔ the server ↔ @alter0/api', () => {
  const documented = documentedEndpoints(DOC);

  it('the doc lists endpoints (the table was found)', () => {
    expect(documented.length).toBeGreaterThan(10);
  });

  it('the server serves exactly the documented endpoints', () => {
    expect(servedEndpoints(api.app.routes).sort()).toEqual([...documented].sort());
  });

  it('every case is a documented endpoint', () => {
    expect(Object.keys(cases).filter((k) => !documented.includes(k))).toEqual([]);
  });

  for (const endpoint of documented) {
    it(endpoint, async () => {
      const run = cases[endpoint];
      if (!run) throw new Error(`docs/api.md lists ${endpoint} but contract.test.ts has no case for it`);
      await run();
    });
  }
});
