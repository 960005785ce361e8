import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatsReport, UsageReport } from '@alter0/api';
import {
  claudeDaemonOptions,
  cliPath,
  makeTempHome,
  missingCliMessage,
  reply as say,
  startAnthropicFake,
} from '@alter0/fakes';
import type { ModelFake, TempHome } from '@alter0/fakes';
import { startDaemon, until } from '@alter0/testkit';
import type { Daemon } from '@alter0/testkit';
import type { Served } from './harness.js';
import { cli, reply, serve, tempDir } from './harness.js';

/*
 * Usage and the stats history through the real daemon: jobs of every outcome run by the fixture agent (which
 * reports no usage), `alter0 usage` by day and by task, and GET /api/stats once the rollup (every second here) has
 * seen them; then one claude run against the fake Anthropic server, which reports tokens and a cost.
 */

const TERMINAL = ['succeeded', 'failed', 'canceled'];

describe('alter0 usage and /api/stats (real daemon, the command executor)', () => {
  let s: Served;

  beforeAll(async () => {
    const dir = tempDir('alter0-usage-');
    s = await serve({
      data: path.join(dir, 'data'),
      env: { ALTER0_STATS__ROLLUP_EVERY: '1s', ALTER0_QUEUE__MAX_ATTEMPTS: '1' },
    });
  }, 60_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('counts every job that ended by day and by task, with no cost where none was reported', async () => {
    const first = await reply(s, { content: 'plan the garden' });
    await reply(s, { content: 'and the shed' });
    const failed = await s.client.sendMessage({ content: 'fail this one' });
    const hold = await s.client.submitJob({ content: 'sleep 60000' });
    await until(async () => (await s.client.getJob(hold.job_id)).stage === 'execute', {
      timeoutMs: 30_000,
      what: 'the held job to run',
    });
    await s.client.cancelJob(hold.job_id);
    const ids = [first.job_id, failed.body.job_id, hold.job_id];
    await until(
      async () => (await Promise.all(ids.map((id) => s.client.getJob(id)))).every((j) => TERMINAL.includes(j.state)),
      {
        timeoutMs: 30_000,
        what: 'every job to end',
      },
    );
    const jobs = await s.client.listJobs();
    expect(jobs.map((j) => j.state).sort()).toEqual(['canceled', 'failed', 'succeeded', 'succeeded']);

    const today = new Date().toISOString().slice(0, 10);
    const byDay = await cli(['usage', '--by', 'day', '--addr', s.url]);
    expect(byDay.code, byDay.stderr).toBe(0);
    expect(byDay.stdout).toMatch(new RegExp(`^${today}\\s+4\\s+0\\s+0\\s+n/a$`, 'm'));
    expect(byDay.stdout).toMatch(/^total: 4 jobs, 0 tokens in, 0 tokens out, cost n\/a$/m);

    const byTask = await cli(['usage', '--by', 'task', '--since', '1h', '--addr', s.url]);
    expect(byTask.code, byTask.stderr).toBe(0);
    expect(byTask.stdout).toContain(first.task_id ?? 'no task');
    expect(byTask.stdout).toContain('plan the garden');

    const json = await cli(['usage', '--by', 'task', '--json', '--addr', s.url]);
    const report = JSON.parse(json.stdout) as UsageReport;
    expect(report.total).toEqual({ jobs: 4, input_tokens: 0, output_tokens: 0, cost_usd: null, jobs_with_cost: 0 });
    expect(report.rows.reduce((n, r) => n + r.jobs, 0)).toBe(4);

    const bad = await cli(['usage', '--since', 'last week', '--addr', s.url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('since must be a duration');
  });

  it('charts the jobs by outcome once the rollup has seen them', async () => {
    const stats = await until(
      async () => {
        const r = await s.client.stats('24h');
        const t = r.totals.jobs;
        return t.succeeded >= 2 && t.failed >= 1 && t.canceled >= 1 ? r : null;
      },
      { timeoutMs: 30_000, what: 'the rollup to count the jobs' },
    );
    expect(stats.buckets).toHaveLength(24);
    // The jobs ran within a minute or so, which may straddle the hour: one bucket holds them, or two.
    const held = stats.buckets.filter((b) => b.jobs.succeeded + b.jobs.failed + b.jobs.canceled > 0);
    expect(held.length).toBeGreaterThanOrEqual(1);
    expect(held.length).toBeLessThanOrEqual(2);
    for (const b of held) expect(stats.buckets.indexOf(b)).toBeGreaterThanOrEqual(22);
    const sum = (f: (b: (typeof held)[number]) => number): number => held.reduce((n, b) => n + f(b), 0);
    expect([sum((b) => b.jobs.succeeded), sum((b) => b.jobs.failed), sum((b) => b.jobs.canceled)]).toEqual([2, 1, 1]);
    for (const b of held) expect(b.latency_ms.execute.p50).not.toBeNull();
    expect(sum((b) => b.model_calls.agent)).toBeGreaterThanOrEqual(4);
    expect(held.at(-1)?.queue_depth.max).not.toBeNull();
    expect(stats.rolled_up_at).not.toBeNull();
    const raw = await s.api<StatsReport>('GET', '/api/stats?range=7d');
    expect([raw.status, raw.body.bucket, raw.body.totals.jobs.succeeded]).toEqual([200, '6h', 2]);
    const status = await s.client.status();
    expect(status.components.scheduler.details.jobs.map((j) => j.name)).toContain('stats_rollup');
  });
});

const claude = cliPath('claude');
if (claude === null) console.warn(`skipping the claude usage test: ${missingCliMessage('claude')}`);

describe.skipIf(claude === null)('usage with a cost: the real claude CLI against the fake Anthropic server', () => {
  let tmp: TempHome;
  let fake: ModelFake;
  let d: Daemon;

  beforeAll(async () => {
    tmp = await makeTempHome('alter0-usage-claude-');
    fake = await startAnthropicFake();
    d = await startDaemon({
      ...claudeDaemonOptions({ bin: claude ?? 'claude', baseUrl: fake.url, tmp }),
      startTimeoutMs: 40_000,
    });
  }, 60_000);
  afterAll(async () => {
    await d?.stop('SIGTERM', 10_000);
    await d?.cleanup();
    await fake?.close();
    await tmp?.remove();
  }, 30_000);

  it('shows the tokens and the cost claude reported on the task, in alter0 usage and in the metrics', async () => {
    fake.script([say('PELICAN noted'), say(JSON.stringify({ close: false, confidence: 0.2, reason: 'more to come' }))]);
    const r = await d.client.sendMessage({ content: 'Remember the word PELICAN.' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const job = await until(
      async () => {
        const j = await d.client.getJob(r.body.job_id);
        return TERMINAL.includes(j.state) ? j : null;
      },
      { timeoutMs: 30_000, what: 'the job to end' },
    );
    expect(job.usage?.costUsd).toBeGreaterThan(0);
    const task = await d.client.getTask(job.task_id ?? '');
    expect(task.usage.jobs).toBe(1);
    expect(task.usage.input_tokens).toBe(job.usage?.inputTokens);
    expect(task.usage.output_tokens).toBe(job.usage?.outputTokens);
    expect(task.usage.cost_usd).toBeCloseTo(job.usage?.costUsd ?? 0, 10);
    expect(task.usage.jobs_with_cost).toBe(1);

    const cost = `$${(job.usage?.costUsd ?? 0).toFixed(4)}`;
    const byTask = await cli(['usage', '--by', 'task', '--addr', d.url]);
    expect(byTask.code, byTask.stderr).toBe(0);
    expect(byTask.stdout).toContain(task.id);
    expect(byTask.stdout).toMatch(
      new RegExp(
        `^total: 1 job, ${task.usage.input_tokens} tokens in, ${task.usage.output_tokens} tokens out, cost \\${cost}$`,
        'm',
      ),
    );
    const shown = await cli(['task', task.id, '--addr', d.url]);
    expect(shown.stdout).toContain(`cost ${cost}`);

    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    const value = (re: RegExp): number => Number(re.exec(metrics)?.[1] ?? NaN);
    expect(value(/^alter0_cost_usd_total\{executor="claude"\} (\S+)$/m)).toBeCloseTo(job.usage?.costUsd ?? 0, 10);
    expect(value(/^alter0_tokens_total\{executor="claude",direction="in"\} (\S+)$/m)).toBe(job.usage?.inputTokens);
    expect(value(/^alter0_tokens_total\{executor="claude",direction="out"\} (\S+)$/m)).toBe(job.usage?.outputTokens);
  }, 60_000);
});
