import { afterAll, afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import type { Job } from '@alter0/api';
import { codeSchemaVersion } from '@alter0/store';
import type { Served } from './harness.js';
import {
  AGENT,
  BIN,
  cli,
  liveProcess,
  rawGet,
  rawPost,
  readAgentLog,
  reply,
  serve,
  tempDir,
  until,
  untilText,
} from './harness.js';

const running: Served[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true, maxRetries: 5 });
});

/** A daemon of the test's own (stopped after the test), or with `own` false one that outlives it. */
async function start(
  env: Record<string, string> = {},
  args: string[] = [],
  data = tempDir(),
  own = true,
): Promise<{ s: Served; data: string; log: string }> {
  const log = path.join(data, 'agent.log');
  if (own) dirs.push(data);
  const s = await serve({ data, env: { AGENT_LOG: log, ...env }, args });
  if (own) running.push(s);
  return { s, data, log };
}

/**
 * One daemon for the tests that need no settings or start of their own: each test works on its own tasks and jobs,
 * and the router's and closer's answers are switched through files (AGENT_ROUTE_FILE, AGENT_CLOSE_FILE) instead
 * of a restart. A cold start is seconds on a loaded machine; this saves some twenty of them.
 */
interface Shared {
  s: Served;
  data: string;
  log: string;
  /** Sets the router's (or closer's) next answers; '' restores the default. */
  route(output: string): void;
  close(output: string): void;
}
let sharedDaemon: Promise<Shared> | null = null;
function shared(): Promise<Shared> {
  sharedDaemon ??= (async () => {
    const data = tempDir();
    const routeFile = path.join(data, 'route-output');
    const closeFile = path.join(data, 'close-output');
    const { s, log } = await start(
      { AGENT_STATE: path.join(data, 'fail-once.state'), AGENT_ROUTE_FILE: routeFile, AGENT_CLOSE_FILE: closeFile },
      [],
      data,
      false,
    );
    return { s, data, log, route: (o) => fs.writeFileSync(routeFile, o), close: (o) => fs.writeFileSync(closeFile, o) };
  })();
  return sharedDaemon;
}
afterAll(async () => {
  const sh = await sharedDaemon?.catch(() => null);
  await sh?.s.cleanup();
  if (sh) fs.rmSync(sh.data, { recursive: true, force: true });
});

const job = (s: Served, id: string): Promise<Job> => s.client.getJob(id);
const terminal = (j: Job) => ['succeeded', 'failed', 'canceled'].includes(j.state);

describe('alter0 serve (real daemon, command executor)', () => {
  it('answers a sync message, and a follow-up to the same task resumes its agent session', async () => {
    const { s } = await shared();
    const r1 = await reply(s, { content: 'hello there' });
    expect(r1.reply).toBe('echo(1): hello there');
    expect(r1.route?.fallback).toBe('no_candidates');
    expect(r1.task_id).not.toBeNull();
    const r2 = await reply(s, { content: 'second turn', task_id: r1.task_id });
    expect(r2.task_id).toBe(r1.task_id);
    expect(r2.reply).toBe('echo(2): second turn');
    const t = await s.client.getTask(r1.task_id ?? '');
    expect(t.session_id).toMatch(/:2$/);
    expect(t.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(t.decisions.route.map((d) => d.fallback)).toEqual(['no_candidates', 'explicit']);
  });

  it('answers 202 when the reply takes longer than wait_ms, and the job carries on to success (async submit/poll too)', async () => {
    const { s } = await shared();
    const r = await s.client.sendMessage({ content: 'sleep 1500', wait_ms: 100 });
    expect(r.status).toBe(202);
    const done = await until(async () => {
      const j = await job(s, r.body.job_id);
      return terminal(j) && j;
    });
    expect(done.state).toBe('succeeded');
    expect(done.reply).toBe('echo(1): sleep 1500');
    expect(done.timings.execute_ms).toBeGreaterThanOrEqual(1400);

    // The client takes only a 2xx: the answer is the 202 with the queued job.
    const a = await s.client.submitJob({ content: 'background work', lane: 'background' });
    expect(a).toMatchObject({ state: 'queued' });
    const j = await until(async () => {
      const x = await job(s, a.job_id);
      return terminal(x) && x;
    });
    expect(j).toMatchObject({ state: 'succeeded', reply: 'echo(1): background work' });
    expect(j.timings.queue_wait_ms).not.toBeNull();
  });

  it('cancel of a running job kills its whole process group; cancel again is a 409', async () => {
    const { s, log } = await shared();
    const r = await s.client.submitJob({ content: 'spawn-tree' });
    const entries = await until(() => {
      const e = readAgentLog(log).filter((x) => x.job === r.job_id);
      const exec = e.find((x) => x.stage === 'execute');
      const gc = e.find((x) => typeof x.grandchild === 'number');
      return exec && gc ? { agent: exec.pid as number, grandchild: gc.grandchild as number } : null;
    });
    expect(liveProcess(entries.agent) && liveProcess(entries.grandchild)).toBe(true);
    // 200 with the job (a refusal would throw ApiRequestError).
    const c = await s.client.cancelJob(r.job_id);
    expect(c.id).toBe(r.job_id);
    const j = await until(async () => {
      const x = await job(s, r.job_id);
      return terminal(x) && x;
    });
    expect(j.state).toBe('canceled');
    // Zombie-aware: an orphaned grandchild can wait a while for PID 1 to reap it.
    await until(() => !liveProcess(entries.agent) && !liveProcess(entries.grandchild), {
      timeoutMs: 15_000,
      what: 'the agent and its grandchild to be gone',
    });
    await expect(s.client.cancelJob(r.job_id)).rejects.toMatchObject({
      name: 'ApiRequestError',
      status: 409,
      code: 'conflict',
    });
  });

  it('a failed job leaves the task open with a system note; retry runs it again', async () => {
    const { s } = await shared();
    const r = await reply(s, { content: 'fail-once please' });
    expect(r.state).toBe('failed');
    expect(r.error?.class).toBe('exit');
    const failed = await job(s, r.job_id);
    expect(failed.error?.stderr_tail).toContain('simulated failure');
    const task = await s.client.getTask(failed.task_id ?? '');
    expect(task.state).toBe('open');
    expect(task.messages.at(-1)).toMatchObject({ role: 'system' });
    expect(task.messages.at(-1)?.content).toContain(`alter0 retry ${r.job_id}`);
    const retry = await s.client.retryJob(r.job_id);
    // created: the 202 of a new retry (200 would be an earlier one).
    expect(retry.created).toBe(true);
    expect(retry.retry_of).toBe(r.job_id);
    const j = await until(async () => {
      const x = await job(s, retry.job_id);
      return terminal(x) && x;
    });
    expect(j, JSON.stringify(j)).toMatchObject({
      state: 'succeeded',
      task_id: failed.task_id,
      reply: 'echo(1): fail-once please',
    });
  });

  it('runs the jobs of one task one at a time in arrival order under concurrent submits', async () => {
    const { s, log } = await shared();
    const first = await reply(s, { content: 'start' });
    const taskId = first.task_id ?? '';
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) => s.client.submitJob({ content: `step ${i} sleep 150`, task_id: taskId })),
    );
    const jobIds = ids.map((r) => r.job_id);
    await until(async () => (await Promise.all(jobIds.map((id) => job(s, id)))).every(terminal), { timeoutMs: 30_000 });
    const execs = readAgentLog(log).filter((e) => e.stage === 'execute' && e.task === taskId && e.job !== undefined);
    const order = execs.map((e) => e.job as string).filter((id) => jobIds.includes(id));
    // Arrival order = job id order (ids are time-sortable); the agent saw them in that order, one at a time.
    expect(order).toEqual([...jobIds].sort());
    const t = await s.client.getTask(taskId);
    expect(t.session_id).toMatch(/:7$/);
  });

  it('after kill -9, restarts with every accepted job recovered: none left running, integrity ok', async () => {
    const data = tempDir();
    const { s } = await start({}, [], data);
    const accepted = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        s.client.submitJob({ content: `long ${i} sleep 20000`, lane: i % 2 ? 'background' : 'interactive' }),
      ),
    );
    await until(async () => (await job(s, accepted[0]!.job_id)).state === 'running');
    await s.stop('SIGKILL');
    running.splice(running.indexOf(s), 1);
    const db = new Database(path.join(data, 'alter0.db'), { readonly: true });
    const orphans = (db.prepare(`SELECT count(*) AS n FROM jobs WHERE state = 'running'`).get() as { n: number }).n;
    expect(orphans).toBeGreaterThanOrEqual(1);
    db.close();
    // A short drain: the graceful stop below need not wait for the 20 s jobs.
    const { s: s2 } = await start({}, ['--set', 'shutdown.drain_timeout_s=1'], data);
    // Orphans are re-queued at start (attempt counted), before any worker runs.
    const after = await Promise.all(accepted.map((r) => job(s2, r.job_id)));
    expect(after.map((j) => j.state).every((st) => st === 'queued' || st === 'running')).toBe(true);
    const recovered = after.find((j) => j.id === accepted[0]!.job_id)!;
    expect(recovered.attempt).toBeGreaterThanOrEqual(1);
    await s2.waitForLog('recovered jobs left running by the previous process', 'the recovery log line');
    await s2.stop('SIGTERM');
    running.splice(running.indexOf(s2), 1);
    const db2 = new Database(path.join(data, 'alter0.db'), { readonly: true });
    expect(db2.pragma('integrity_check', { simple: true })).toBe('ok');
    db2.close();
  });

  it('kill -9 the moment the first of 48 concurrent accepts is answered: every answered message survives', async () => {
    const data = tempDir();
    const { s } = await start({}, [], data);
    const answered: string[] = [];
    let killed = false;
    const sends = Array.from({ length: 48 }, (_, i) =>
      s.client.submitJob({ content: `group ${i} sleep 20000`, lane: 'background' }).then((r) => {
        answered.push(r.job_id);
        // The first 202 kills the daemon at once: the others of its group are answered or not, never half-kept.
        if (!killed) {
          killed = true;
          s.proc.kill('SIGKILL');
        }
      }),
    );
    await Promise.allSettled(sends);
    await s.stop('SIGKILL');
    running.splice(running.indexOf(s), 1);
    expect(answered.length).toBeGreaterThanOrEqual(1);
    const db = new Database(path.join(data, 'alter0.db'), { readonly: true });
    try {
      const found = db.prepare(
        `SELECT j.id FROM jobs j JOIN messages m ON m.id = j.message_id WHERE j.id = ? AND m.content LIKE 'group %'`,
      );
      const lost = answered.filter((id) => found.get(id) === undefined);
      expect(lost, `answered with 202 but not in the database after kill -9 (${answered.length} answered)`).toEqual([]);
      // Nothing half-written: every job has its message, and the other way round.
      const pairs = db
        .prepare(
          `SELECT (SELECT count(*) FROM jobs) AS jobs, (SELECT count(*) FROM messages WHERE role = 'user') AS msgs`,
        )
        .get() as { jobs: number; msgs: number };
      expect(pairs.jobs).toBe(pairs.msgs);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });

  it('refuses a second instance on the same data directory, naming the holder pid', async () => {
    const { s, data } = await shared();
    const r = await cli(['serve', '--data', data, '--listen', '127.0.0.1:0', '--command', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`pid ${s.proc.pid}`);
    expect(r.stderr).toContain('in use by another alter0 process');
  });

  it('refuses a database whose schema is newer than the code, with exit status 78', async () => {
    const { s, data } = await start();
    await s.stop();
    running.splice(0);
    const db = new Database(path.join(data, 'alter0.db'));
    db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(
      'from-the-future',
      Date.now() + 1e9,
    );
    db.close();
    const r = await cli(['serve', '--data', data, '--listen', '127.0.0.1:0', '--command', 'true']);
    expect(r.code).toBe(78);
    const v = codeSchemaVersion();
    expect(r.stderr).toContain(`schema is version ${v + 1}, newer than this alter0 knows (version ${v})`);
    expect(r.stderr).toContain('alter0 db restore');
  });

  it('refuses a damaged database at start, before anything is written, and says how to restore it', async () => {
    const { s, data } = await start();
    await s.stop();
    running.splice(0);
    const file = path.join(data, 'alter0.db');
    const db = new Database(file);
    const page = Number(db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'jobs_task_state'").pluck().get());
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    db.close();
    // The whole page, its b-tree header included (the index is empty: damage past the header would go unseen).
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(pageSize, 0x33), 0, pageSize, (page - 1) * pageSize);
    fs.closeSync(fd);
    const r = await cli(['serve', '--data', data, '--listen', '127.0.0.1:0', '--command', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/alter0\.db is damaged \(quick_check: /);
    expect(r.stderr).toContain('alter0 db restore');
    expect(r.stderr).not.toContain('unexpected error');
  });

  it('stops gracefully on SIGTERM with exit 0, re-queueing what it could not finish', async () => {
    const { s, data } = await start({}, ['--set', 'shutdown.drain_timeout_s=1']);
    const r = await s.client.submitJob({ content: 'sleep 60000' });
    await until(async () => (await job(s, r.job_id)).state === 'running', { what: 'the job to run' });
    const t0 = Date.now();
    expect(await s.stop('SIGTERM')).toBe(0);
    // The 1 s drain, the kill grace and the exit: well under the 30 s default drain and the 60 s job, with room
    // for a loaded machine.
    expect(Date.now() - t0).toBeLessThan(20_000);
    running.splice(0);
    const db = new Database(path.join(data, 'alter0.db'), { readonly: true });
    expect(db.prepare('SELECT state, attempt FROM jobs WHERE id = ?').get(r.job_id)).toEqual({
      state: 'queued',
      attempt: 0,
    });
    db.close();
  });
});

describe('a signal during start-up', () => {
  // Review: a SIGTERM before the handlers were installed killed the process with the default action, skipping the
  // graceful stop (and the reaping of any agent the just-started workers had spawned).
  it('a SIGTERM that arrives while the service starts stops it gracefully once it is up (exit 0)', async () => {
    const data = tempDir();
    dirs.push(data);
    const proc = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--data',
        data,
        '--listen',
        '127.0.0.1:0',
        '--command',
        JSON.stringify(process.execPath) + ' ' + JSON.stringify(AGENT),
      ],
      {
        env: { ...process.env, ALTER0_CONFIG: '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    // "starting" is logged before the database is opened and the workers start: the signal lands mid-start.
    await untilText(() => err, '"message":"starting"', { what: 'the starting line' });
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toMatch(/"message":"signal received: stopping gracefully[^"]*"[^\n]*"signal":"SIGTERM"/);
    expect(err).toContain('"message":"stopped"');
  });
});

describe('forced stop', () => {
  it('a second signal stops at once and kills every agent process tree before exiting', async () => {
    // A drain far longer than any bound below: only the second signal can end the run in time.
    const { s, log } = await start({}, ['--set', 'shutdown.drain_timeout_s=120']);
    await s.client.submitJob({ content: 'spawn-tree' });
    const pids = await until(
      () => {
        const e = readAgentLog(log);
        const exec = e.find((x) => x.stage === 'execute');
        const gc = e.find((x) => typeof x.grandchild === 'number');
        return exec && gc ? [exec.pid as number, gc.grandchild as number] : null;
      },
      { what: 'the agent and its grandchild to start' },
    );
    s.proc.kill('SIGTERM');
    // Two signals sent back to back can merge into one: send the second once the first was handled.
    await s.waitForLog('signal received: stopping gracefully', 'the first signal to be handled');
    s.proc.kill('SIGTERM');
    const t0 = Date.now();
    expect(await s.exited).toBe(0);
    // serve exits within about a second of the second signal (a 1 s backstop timer); the bound leaves room for a
    // loaded machine and is still far below the 120 s drain the first signal started.
    expect(Date.now() - t0).toBeLessThan(15_000);
    running.splice(running.indexOf(s), 1);
    await until(() => pids.every((p) => !liveProcess(p)), {
      timeoutMs: 15_000,
      what: 'the agent and its grandchild to be gone',
    });
  });
});

describe('router and closer degrade safely', () => {
  const cases: [string, string, string][] = [
    ['not JSON at all', 'I think it belongs to the first one', 'invalid_output'],
    ['an unknown decision', '{"decision":"maybe","task_id":null,"confidence":0.9,"reason":"x"}', 'invalid_output'],
    [
      'a task that is not a candidate',
      '{"decision":"existing","task_id":"t_00000000000000000000000000","confidence":0.9,"reason":"x"}',
      'invalid_output',
    ],
    [
      'confidence out of range',
      '{"decision":"existing","task_id":"TASK","confidence":7,"reason":"x"}',
      'invalid_output',
    ],
    ['low confidence', '{"decision":"existing","task_id":"TASK","confidence":0.2,"reason":"unsure"}', 'low_confidence'],
    ['an empty reason', '{"decision":"existing","task_id":"TASK","confidence":0.9,"reason":""}', 'invalid_output'],
    ['a failing router', 'FAIL', 'executor_error'],
  ];

  it.each(cases)('a router answering %s sends the message to a new task', async (_name, output, fallback) => {
    const sh = await shared();
    const first = await reply(sh.s, { content: 'first task' });
    // The next message is routed with the router output under test.
    sh.route(output.replace('TASK', first.task_id ?? ''));
    const r = await reply(sh.s, { content: 'something else' }).finally(() => sh.route(''));
    expect(r.reply).toBe('echo(1): something else');
    expect(r.task_id).not.toBe(first.task_id);
    expect(r.route).toMatchObject({ decision: 'new', fallback });
  });

  it('a router that hangs past its timeout also falls back to a new task', async () => {
    const { s } = await start({ AGENT_ROUTE_OUTPUT: 'HANG' }, ['--set', 'router.timeout_s=1']);
    await s.client.sendMessage({ content: 'first' });
    const r = await s.client.sendMessage({ content: 'second' });
    expect(r.status === 200 ? r.body.route?.fallback : `answered ${r.status}`).toBe('timeout');
  });

  it.each([
    ['malformed output', 'nope'],
    ['low confidence', '{"close":true,"confidence":0.3,"reason":"maybe"}'],
    ['close:false', '{"close":false,"confidence":0.9,"reason":"more to do"}'],
  ])('a closer answering %s keeps the task open', async (_n, output) => {
    const sh = await shared();
    const s = sh.s;
    sh.close(output);
    const r = await reply(s, { content: 'work' });
    const taskId = r.task_id ?? '';
    // The closer runs after the job has succeeded: its decision is on the task once it is recorded.
    await until(async () => (await s.client.getTask(taskId)).decisions.close.length > 0, {
      what: 'the close decision',
    }).finally(() => sh.close(''));
    const t = await s.client.getTask(taskId);
    expect(t.state).toBe('open');
    expect(t.decisions.close).toMatchObject([{ action: 'keep_open', source: 'auto' }]);
  });

  it('a confident closer closes the task; manual close and reopen record the same kind of decision', async () => {
    const { s } = await shared();
    const r = await s.client.sendMessage({ content: 'all good CLOSE-ME' });
    await until(async () => (await job(s, r.body.job_id)).state === 'succeeded');
    const taskId = (await job(s, r.body.job_id)).task_id ?? '';
    expect(await s.client.getTask(taskId)).toMatchObject({ state: 'closed', closed_by: 'auto' });
    // Each answers 200 with the task (a refusal would throw ApiRequestError).
    expect(await s.client.reopenTask(taskId)).toMatchObject({ id: taskId, state: 'open' });
    expect(await s.client.closeTask(taskId, { reason: 'finished by hand' })).toMatchObject({
      id: taskId,
      state: 'closed',
    });
    const d = await s.client.getTask(taskId);
    expect(d).toMatchObject({ state: 'closed', closed_by: 'manual' });
    expect(d.decisions.close.map((x) => `${x.source}:${x.action}`)).toEqual([
      'auto:close',
      'manual:reopen',
      'manual:close',
    ]);
    expect(d.decisions.close[2]).toMatchObject({ reason: 'finished by hand', confidence: 1 });
    await expect(s.client.closeTask(taskId)).rejects.toMatchObject({ name: 'ApiRequestError', status: 409 });
  });
});

describe('HTTP safety', () => {
  it('refuses foreign Host headers, cross-origin and non-JSON posts, bad input, and never changes state on GET', async () => {
    const { s } = await shared();
    const port = new URL(s.url).port;
    const before = await s.client.listJobs();
    const rebinding = await rawGet(s.url, '/api/tasks', `evil.example:${port}`);
    expect(rebinding.status).toBe(403);
    expect(rebinding.body).toContain('is not allowed');
    expect((await rawGet(s.url, '/api/tasks', `localhost:${port}`)).status).toBe(200);
    const cross = await s.api<{ error: { code: string } }>(
      'POST',
      '/api/jobs',
      { content: 'x' },
      { origin: 'http://127.0.0.1:1' },
    );
    expect(cross.status).toBe(403);
    const site = await s.api('POST', '/api/jobs', { content: 'x' }, { 'sec-fetch-site': 'cross-site' });
    expect(site.status).toBe(403);
    const form = await fetch(`${s.url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"content":"x"}',
    });
    expect(form.status).toBe(415);
    const bad = await s.api<{ error: { code: string; message: string } }>('POST', '/api/message', { content: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('content');
    const unknown = await s.api<{ error: { message: string } }>('POST', '/api/jobs', { content: 'x', lane: 'fast' });
    expect(unknown.status).toBe(400);
    const missing = await s.api('POST', '/api/message', { content: 'x', task_id: 't_00000000000000000000000000' });
    expect(missing.status).toBe(404);
    const big = await rawPost(s.url, '/api/jobs', JSON.stringify({ content: 'x'.repeat(1_100_000) }));
    expect(big.status).toBe(413);
    expect(big.body).toContain('api.body_limit_bytes');
    const get = await fetch(`${s.url}/api/jobs/x/cancel`);
    expect(get.status).toBe(404);
    // None of the refused requests made a job (the daemon is shared: compare with the jobs before them).
    const jobs = await s.client.listJobs();
    expect(jobs.map((j) => j.id)).toEqual(before.map((j) => j.id));
    expect((await fetch(`${s.url}/api/jobs`)).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CLI client', () => {
  it('chat keeps its task across lines; /new starts another', async () => {
    const { s } = await start();
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('./harness.js');
    const p = spawn(process.execPath, [BIN, 'chat', '--addr', s.url], {
      env: { ...process.env, ALTER0_CONFIG: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise((r) => p.on('exit', r));
    p.stdin.write('first line\n');
    await until(() => out.includes('echo(1): first line'));
    p.stdin.write('second line\n');
    await until(() => out.includes('echo(2): second line'));
    p.stdin.write('/new\nthird line\n');
    await until(() => out.includes('echo(1): third line'));
    p.stdin.end('/quit\n');
    await exited;
    const tasks = await s.client.listTasks({ state: 'all' });
    expect(tasks).toHaveLength(2);
  });

  it('serve --print-config shows each setting with where it came from', async () => {
    const data = tempDir();
    dirs.push(data);
    const r = await cli(
      ['serve', '--print-config', '--data', data, '--listen', '127.0.0.1:7999', '--set', 'queue.max_attempts=5'],
      { ALTER0_ROUTER__THRESHOLD: '0.6' },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/listen\s+"?127\.0\.0\.1:7999"?\s+flag/);
    expect(r.stdout).toMatch(/queue\.max_attempts\s+5\s+flag/);
    expect(r.stdout).toMatch(/router\.threshold\s+0\.6\s+env/);
    expect(r.stdout).toMatch(/queue\.interactive_workers\s+2\s+default/);
  });

  // Fifteen CLI runs, each a cold Node start (seconds apiece on a loaded two-core machine).
  it(
    'send, submit, job --wait, jobs, tasks, task, close, reopen, status and version work against the service',
    { timeout: 180_000 },
    async () => {
      const { s } = await shared();
      const addr = ['--addr', s.url];
      const sent = await cli(['send', ...addr, 'hello', 'from', 'cli']);
      expect(sent.code).toBe(0);
      expect(sent.stdout.trim()).toBe('echo(1): hello from cli');
      const taskId = /\[task (t_[0-9a-z]+)/.exec(sent.stderr)?.[1];
      expect(taskId).toBeDefined();
      const sub = await cli(['submit', ...addr, '--task', taskId!, 'more']);
      const jobId = sub.stdout.trim();
      expect(jobId).toMatch(/^j_/);
      const waited = await cli(['job', ...addr, jobId, '--wait']);
      expect(waited.stdout).toContain('succeeded');
      expect(waited.stdout).toContain('echo(2): more');
      // Read-only commands, independent of each other: run side by side.
      const [jobs, tasks, task] = await Promise.all([
        cli(['jobs', ...addr]),
        cli(['tasks', ...addr]),
        cli(['task', ...addr, taskId!]),
      ]);
      expect(jobs.stdout).toContain(jobId);
      expect(tasks.stdout).toContain(taskId);
      expect(task.stdout).toContain('echo(2): more');
      expect((await cli(['close', ...addr, taskId!, '--reason', 'enough'])).stdout).toContain('closed');
      expect((await cli(['reopen', ...addr, taskId!])).stdout).toContain('open');
      const [st, v, unreachable] = await Promise.all([
        cli(['status', ...addr, '--json']),
        cli(['version']),
        cli(['jobs', '--addr', 'http://127.0.0.1:9']),
      ]);
      expect(JSON.parse(st.stdout)).toMatchObject({
        components: { gateway: { state: 'ok' }, queue: {}, executor: {}, scheduler: {}, storage: {} },
      });
      expect(v.stdout).toMatch(/^alter0 \d+\.\d+\.\d+ .*node v\d+/);
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toContain('cannot reach alter0 at http://127.0.0.1:9');
    },
  );
});
