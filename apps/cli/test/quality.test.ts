import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Served } from './harness.js';
import { cli, readAgentLog, reply, serve, tempDir, until } from './harness.js';

const REGRESS = fileURLToPath(new URL('../../../testdata/regress', import.meta.url));
const running: Served[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<{ s: Served; log: string }> {
  const data = tempDir();
  dirs.push(data);
  const log = path.join(data, 'agent.log');
  const s = await serve({ data, env: { AGENT_LOG: log, ...env } });
  running.push(s);
  return { s, log };
}

describe('routing and closing in the running service', () => {
  it('the closer runs after the reply is delivered: a slow closer does not delay the sync answer', async () => {
    // The closer sleeps far longer than the answer may take, even on a loaded machine where the router and
    // execute agents (two Node starts) take several seconds: an answer that waited for it could not be in time.
    const CLOSE_DELAY_MS = 15_000;
    const { s } = await start({ AGENT_CLOSE_DELAY_MS: String(CLOSE_DELAY_MS) });
    const t0 = Date.now();
    const r = await reply(s, { content: 'quick question' });
    const replyMs = Date.now() - t0;
    expect(r.reply).toBe('echo(1): quick question');
    expect(replyMs).toBeLessThan(CLOSE_DELAY_MS - 3000);
    // The answer itself says the job is still in its close stage.
    expect(r).toMatchObject({ state: 'running', stage: 'close' });
    const j = await until(
      async () => {
        const x = await s.client.getJob(r.job_id);
        return x.state === 'succeeded' && x;
      },
      { timeoutMs: CLOSE_DELAY_MS + 20_000, what: 'the job to succeed once the closer answers' },
    );
    expect(j.timings.close_ms).toBeGreaterThanOrEqual(CLOSE_DELAY_MS - 100);
  });

  it('a #t_ mention in the text routes to that task without a model call', async () => {
    const { s, log } = await start();
    const a = await reply(s, { content: 'first topic' });
    expect(a.task_id).not.toBeNull();
    await s.client.sendMessage({ content: 'second topic' });
    const routeCallsBefore = readAgentLog(log).filter((e) => e.stage === 'route').length;
    const r = await reply(s, { content: `back to #${a.task_id} please` });
    expect(r.task_id).toBe(a.task_id);
    expect(r.route).toMatchObject({ fallback: 'explicit' });
    expect(readAgentLog(log).filter((e) => e.stage === 'route').length).toBe(routeCallsBefore);
  });

  it('alter0 decisions lists route and close decisions with template versions', async () => {
    const { s } = await start();
    const r = await reply(s, { content: 'hello' });
    await until(async () => (await s.client.getJob(r.job_id)).state === 'succeeded', { what: 'the job to succeed' });
    const out = await cli(['decisions', '--addr', s.url, '--task', r.task_id ?? '', '--json']);
    const d = JSON.parse(out.stdout) as {
      route: { decision: string; fallback: string; template_id: string }[];
      close: { source: string; action: string; template_version: string; model_called: boolean }[];
    };
    expect(d.route).toMatchObject([{ decision: 'new', fallback: 'no_candidates', template_id: 'router' }]);
    expect(d.close).toMatchObject([
      { source: 'auto', action: 'keep_open', template_version: 'v1', model_called: true },
    ]);
    const text = await cli(['decisions', '--addr', s.url, '--kind', 'close']);
    expect(text.stdout).toContain('keep_open');
  });
});

describe('alter0 eval and prompts', () => {
  it('replays the committed regression sets at 100%', async () => {
    const data = tempDir();
    dirs.push(data);
    const r = await cli([
      'eval',
      'routing',
      '--cases',
      path.join(REGRESS, 'routing'),
      '--data',
      data,
      '--min-pass',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/overall (\d+)\/\1 = 100\.0%/);
    expect(r.stdout).toContain('wrong-attach 0.0%');
    const c = await cli([
      'eval',
      'closing',
      '--cases',
      path.join(REGRESS, 'closing'),
      '--data',
      data,
      '--min-pass',
      '1',
      '--json',
    ]);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ passRate: 1, falseCloseRate: 0 });
  });

  it('exits non-zero below --min-pass and names the failing case', async () => {
    const data = tempDir();
    dirs.push(data);
    const file = path.join(data, 'bad.jsonl');
    fs.writeFileSync(
      file,
      `${JSON.stringify({
        id: 'wrong-expectation',
        category: 'follow_up',
        open_tasks: [
          {
            id: 't_01aaaaaaaaaaaaaaaaaaaaaaaa',
            title: 'Fix the build',
            recent: [],
            updated_at: '2026-11-01T10:00:00Z',
          },
        ],
        message: { content: 'the build is still red' },
        expect: { decision: 'existing', task_id: 't_01aaaaaaaaaaaaaaaaaaaaaaaa' },
        model_output: '{"decision":"new","task_id":null,"confidence":0.9,"reason":"looks new"}',
      })}\n`,
    );
    const r = await cli(['eval', 'routing', '--cases', file, '--data', data, '--min-pass', '0.9']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL wrong-expectation');
    expect(r.stderr).toContain('below --min-pass');
  });

  it('lists and shows the versioned prompt templates', async () => {
    const list = await cli(['prompts', 'list']);
    expect(list.stdout).toMatch(/router@v1\s+[0-9a-f]{16}/);
    expect(list.stdout).toMatch(/closer@v1\s+[0-9a-f]{16}/);
    const show = await cli(['prompts', 'show', 'router@v1']);
    expect(show.stdout).toMatch(/^# router@v1 \(sha256 [0-9a-f]{16}\)/);
    const bad = await cli(['prompts', 'show', 'router']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ID@VERSION');
  });
});

describe('many open tasks', () => {
  it('ranks 250 open tasks off the event loop and offers the router the best few', async () => {
    const data = tempDir();
    dirs.push(data);
    const { Store } = await import('@alter0/store');
    const store = Store.open({ file: path.join(data, 'alter0.db') });
    const now = Date.now();
    let zebra = '';
    for (let i = 0; i < 250; i++) {
      const t = store.tasks.create({
        title: i === 137 ? 'zebra migration plan for the warehouse' : `routine chore number ${i} about invoices`,
        executor: 'command',
        workspaceRoot: path.join(data, 'workspaces'),
        userId: 'owner',
        now: now - i * 1000,
      });
      if (i === 137) zebra = t.id;
    }
    store.close();
    const s = await serve({ data });
    running.push(s);
    const r = await reply(s, { content: 'same task: how is the zebra migration plan going?' });
    expect(r.task_id).toBe(zebra);
    const d = await s.client.getTask(zebra);
    expect(d.decisions.route[0]!.model_called).toBe(true);
    expect(d.decisions.route[0]!.candidates).toHaveLength(8);
    expect(d.decisions.route[0]!.candidates[0]!.taskId).toBe(zebra);
  });
});

describe('stale sweep', () => {
  it('closes tasks idle longer than closer.stale_after with closed_by stale, never one with work queued', async () => {
    const data = tempDir();
    dirs.push(data);
    const { Store } = await import('@alter0/store');
    const { Bus, sweepStale } = await import('@alter0/daemon');
    const { createMetrics, nullLogger } = await import('@alter0/obs');
    const store = Store.open({ file: path.join(data, 'alter0.db') });
    try {
      const day = 86_400_000;
      const now = Date.now();
      const mk = (title: string, idleDays: number) =>
        store.tasks.create({
          title,
          executor: 'command',
          workspaceRoot: data,
          userId: 'owner',
          now: now - idleDays * day,
        }).id;
      const old = mk('forgotten', 20);
      const fresh = mk('recent', 2);
      const busy = mk('old but queued', 30);
      store.jobs.accept({
        content: 'still to do',
        channelId: 't',
        userId: 'owner',
        sessionId: null,
        taskId: busy,
        lane: 'background',
        maxAttempts: 1,
        timeoutS: 60,
        now: now - 30 * day,
      });
      const closed = sweepStale(
        {
          store,
          metrics: createMetrics({ processMetrics: false }),
          logger: nullLogger(),
          bus: new Bus(),
          now: () => now,
        },
        14 * day,
        new AbortController().signal,
      );
      expect(closed).toBe(1);
      expect(store.tasks.get(old)).toMatchObject({ state: 'closed', closedBy: 'stale' });
      expect(store.tasks.closeDecisions(old)).toMatchObject([{ source: 'stale', action: 'close', modelCalled: false }]);
      expect(store.tasks.get(fresh)?.state).toBe('open');
      expect(store.tasks.get(busy)?.state).toBe('open');
    } finally {
      store.close();
    }
  });
});
