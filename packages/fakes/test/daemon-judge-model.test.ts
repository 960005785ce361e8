import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reply } from '../src/behaviour.js';
import type { TempHome } from '../src/env.js';
import { makeTempHome } from '../src/env.js';
import { killGroups, processesUnder } from '@alter0/testkit';
import type { AgentSide, Daemon } from './daemon-harness.js';
import { agentSide, callKind, startDaemon } from './daemon-harness.js';
import { cliOrSkip, isRecord } from './helpers.js';

/*
 * router.model / closer.model through the real `alter0 serve` and the real claude CLI: the router's request carries
 * the router's model, the execute request the work model, the closer's its own; the router runs on the pre-spawned
 * process (router.prespawn, the default) once the first routing call has told it where to run.
 */

const claude = cliOrSkip('claude');

describe.skipIf(claude === null)('judge models through the daemon (real claude)', { timeout: 90_000 }, () => {
  let tmp: TempHome;
  let agent: AgentSide;
  let daemon: Daemon | null = null;
  beforeEach(async () => {
    tmp = await makeTempHome('alter0-judges-');
    agent = await agentSide('claude', claude ?? 'claude', tmp);
  });
  afterEach(async () => {
    const left = daemon === null ? [] : processesUnder(daemon.data);
    await daemon?.stop();
    daemon = null;
    killGroups(left.map((p) => p.pgid));
    await agent.fake.close();
    await tmp.remove();
  }, 30_000);

  it('the router and closer calls carry their own models, the execute call the work model', async () => {
    const d = (daemon = await startDaemon({
      tmp,
      agents: [agent],
      executor: 'claude',
      sets: {
        'executor.claude.bin': agent.program,
        'executor.claude.model': 'work-model',
        'executor.claude.args': '["--effort","high"]',
        'router.model': 'router-model',
        'router.args': '[]',
        'closer.model': 'closer-model',
        'queue.max_attempts': 1,
        'router.timeout_s': 30,
        'closer.timeout_s': 30,
        'shutdown.drain_timeout_s': 1,
        'log.file': 'false',
      },
    }));
    const keepOpen = reply(JSON.stringify({ close: false, confidence: 0.2, reason: 'more to come' }));
    agent.fake.script([reply('noted'), keepOpen]);
    const first = await d.client.sendMessage({ content: 'Remember the word PELICAN.' });
    if (first.status !== 200) throw new Error(`the first message was not answered in time (job ${first.body.job_id})`);
    const taskId = first.body.task_id ?? '';
    await d.finished(first.body.job_id);
    // Two routed messages: the first routing call is a normal one (it tells the router's cwd), the second runs on
    // the process spawned after it.
    for (const content of ['Which word was it?', 'And spelled backwards?']) {
      agent.fake.script([
        reply(JSON.stringify({ decision: 'existing', task_id: taskId, confidence: 0.9, reason: 'same word' })),
        reply('PELICAN'),
        keepOpen,
      ]);
      const r = await d.client.sendMessage({ content });
      expect(r.body).toMatchObject({ task_id: taskId, reply: 'PELICAN', route: { decision: 'existing' } });
      await d.finished(r.body.job_id);
    }
    const calls = agent.fake.modelCalls();
    const modelOf = (i: number): unknown => {
      const b = calls[i]?.body;
      return isRecord(b) ? b['model'] : undefined;
    };
    expect(calls.map(callKind)).toEqual(['execute', 'close', 'route', 'execute', 'close', 'route', 'execute', 'close']);
    calls.forEach((c, i) => {
      const want = { route: 'router-model', execute: 'work-model', close: 'closer-model' }[callKind(c)];
      expect(modelOf(i), `call ${i} (${callKind(c)})`).toBe(want);
    });
    // Judge calls get no tools and a short system prompt; the execute call keeps Claude Code's own.
    const systemChars = (i: number): number =>
      JSON.stringify(isRecord(calls[i]?.body) ? calls[i].body['system'] : '').length;
    expect(systemChars(2)).toBeLessThan(1000);
    expect(systemChars(3)).toBeGreaterThan(3000);
    expect(d.stderr()).not.toContain('pre-spawned router process gave no answer');
  });
});
