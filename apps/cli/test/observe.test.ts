import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Job } from '@alter0/api';
import type { Served } from './harness.js';
import { cli, reply, serve, tempDir, until } from './harness.js';

const running: Served[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}, args: string[] = []): Promise<{ s: Served; data: string }> {
  const data = tempDir();
  dirs.push(data);
  const s = await serve({ data, env, args });
  running.push(s);
  return { s, data };
}

const finished = async (s: Served, id: string): Promise<Job> =>
  until(
    async () => {
      const j = await s.client.getJob(id);
      return ['succeeded', 'failed', 'canceled'].includes(j.state) && j;
    },
    { what: `job ${id} to finish` },
  );

function hasPromtool(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('logs', () => {
  it('every record on the job path carries the job context; alter0 logs filters by job, task and level', async () => {
    const { s, data } = await start();
    const r = await reply(s, { content: 'log me', channel_id: 'tests', user_id: 'me' });
    await finished(s, r.job_id);
    await s.stop();
    running.splice(0);
    const lines = fs
      .readFileSync(path.join(data, 'logs', 'alter0.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.job_id === r.job_id);
    expect(mine.map((l) => l.message)).toEqual(
      expect.arrayContaining(['job started', 'routed', 'reply stored', 'job succeeded']),
    );
    for (const l of mine) expect(l).toMatchObject({ job_id: r.job_id, user_id: 'me', channel_id: 'tests' });
    expect(mine.find((l) => l.message === 'reply stored')).toMatchObject({ task_id: r.task_id, stage: 'execute' });
    const byJob = await cli(['logs', '--data', data, '--job', r.job_id, '--json']);
    const got = byJob.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { job_id: string });
    expect(got.length).toBe(mine.length);
    expect(got.every((l) => l.job_id === r.job_id)).toBe(true);
    const text = await cli(['logs', '--data', data, '--task', r.task_id ?? '', '--since', '1h']);
    expect(text.stdout).toContain('reply stored');
    expect(text.stdout).toContain(`task_id=${r.task_id}`);
    const errors = await cli(['logs', '--data', data, '--level', 'error']);
    expect(errors.stdout.trim()).toBe('');
  });
});

describe('metrics', () => {
  it('serves Prometheus text that promtool accepts, with the job, stage, queue and build figures', async () => {
    const { s } = await start();
    const r = await s.client.sendMessage({ content: 'measure me' });
    await finished(s, r.body.job_id);
    const res = await fetch(`${s.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const body = await res.text();
    for (const name of [
      'alter0_jobs_finished_total{lane="interactive",outcome="succeeded"} 1',
      'alter0_stage_duration_seconds_bucket{le="14400",stage="execute"} 1',
      'alter0_queue_depth{lane="background"} 0',
      'alter0_tasks_open 1',
      'alter0_build_info{',
      'alter0_messages_accepted_total{channel="http"} 1',
    ]) {
      expect(body).toContain(name);
    }
    if (!hasPromtool()) {
      if (process.env.ALTER0_REQUIRE_TOOLS === '1') throw new Error('promtool is missing: apt-get install prometheus');
      console.warn('promtool not installed (apt-get install prometheus): skipping the promtool check');
      return;
    }
    const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
  });
});

describe('runbook: each common failure shows in status, diagnose and the log', () => {
  it('executor not logged in: executor degraded after consecutive auth failures, diagnose says to log in', async () => {
    const { s, data } = await start(
      { AGENT_EXEC_STDERR: 'API Error: 401 {"type":"authentication_error","message":"invalid x-api-key"}' },
      ['--set', 'status.executor_degraded_after_failures=2'],
    );
    for (let i = 0; i < 2; i++) {
      const r = await s.client.sendMessage({ content: `try ${i}`, wait_ms: 0 });
      const j = await finished(s, r.body.job_id);
      expect(j).toMatchObject({ state: 'failed', attempt: 1 });
      expect(j.error?.class).toBe('auth');
    }
    const st = await s.client.status();
    expect(st.components.executor.state).toBe('degraded');
    expect(st.components.executor.last_error?.message).toContain('2 consecutive failures (last: auth)');
    expect(st.state).toBe('degraded');
    // ALTER0_URL: the service listens on a port of its own, not the configured one diagnose would ask.
    const d = await cli(['diagnose', '--data', data], { ALTER0_URL: s.url });
    expect(d.stdout).toContain('[executor] auth: 2 failed job(s)');
    expect(d.stdout).toContain('not logged in');
    // The degraded component's line: what it means and what to do, the words the console's status page shows.
    expect(d.stdout).toMatch(
      /\n {2}executor: degraded — .+\n {4}\w+'s last jobs failed one after another \(auth\)\.\n {4}→ The agent CLI is not logged in/,
    );
    await s.waitForLog(/"message":"executor failed".*"error_class":"auth"/, 'the "executor failed" auth log line');
  });

  it('rate limited: retried with backoff, then shown as rate_limited', async () => {
    const { s } = await start({ AGENT_EXEC_STDERR: 'Error: 429 Too Many Requests (rate limit exceeded)' }, [
      '--set',
      'queue.backoff_initial_ms=50',
      '--set',
      'queue.max_attempts=2',
    ]);
    const r = await s.client.submitJob({ content: 'busy provider' });
    const j = await finished(s, r.job_id);
    expect(j).toMatchObject({ state: 'failed', attempt: 2, max_attempts: 2 });
    expect(j.error?.class).toBe('rate_limited');
    await s.waitForLog(/"error_class":"rate_limited"/, 'a rate_limited log line');
  });

  it('executor hangs: the job times out, its class is timeout, and the log names it', async () => {
    const { s } = await start();
    const r = await s.client.submitJob({ content: 'sleep 60000', timeout_s: 1, max_attempts: 1 });
    const j = await finished(s, r.job_id);
    expect(j.error?.class).toBe('timeout');
    await s.waitForLog(/"error_class":"timeout"/, 'a timeout log line');
  });

  it('stuck queue: the queue turns degraded when a job waits longer than status.queue_degraded_after', async () => {
    const { s } = await start({}, ['--set', 'status.queue_degraded_after=1s', '--set', 'queue.background_workers=1']);
    // Holds the only background worker for longer than any wait below, so the second job really waits.
    const first = await s.client.submitJob({ content: 'sleep 60000', lane: 'background' });
    await until(async () => (await s.client.getJob(first.job_id)).state === 'running', {
      what: 'the first job to run',
    });
    await s.client.submitJob({ content: 'waiting behind', lane: 'background' });
    const st = await until(
      async () => {
        const x = await s.client.status();
        return x.components.queue.state === 'degraded' && x;
      },
      { what: 'the queue to turn degraded' },
    );
    expect(st.components.queue.last_error?.message).toMatch(/has waited \d+s in the queue/);
  });

  it('port in use: serve exits with a message that says so and what to do', async () => {
    const data = tempDir();
    dirs.push(data);
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await cli(['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--command', 'cat']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the address is in use`);
      expect(r.stderr).toMatch(/"level":"error","message":"start failed"/);
    } finally {
      blocker.close();
    }
  });

  it('executor missing: the service starts degraded and the status names the executor', async () => {
    const data = tempDir();
    dirs.push(data);
    const s = await serve({ data, command: '/nonexistent/agent' });
    running.push(s);
    const st = await until(
      async () => {
        const x = await s.client.status();
        return x.components.executor.state === 'degraded' && x;
      },
      { what: 'the executor to turn degraded' },
    );
    expect(st.components.executor.last_error?.message).toMatch(/command/);
    await s.waitForLog(
      /"message":"executor unavailable; the service runs degraded"/,
      'the "executor unavailable" log line',
    );
  });
});
