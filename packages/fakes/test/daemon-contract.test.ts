import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Behaviour } from '../src/behaviour.js';
import { hang, overloaded, rateLimited, reply, serverError, toolCall, unauthorized } from '../src/behaviour.js';
import type { CliName } from '../src/cli.js';
import type { TempHome } from '../src/env.js';
import { makeTempHome } from '../src/env.js';
import type { RecordedRequest } from '../src/server.js';
import { killGroups, liveInGroups, liveProcesses, processesUnder, until } from '@alter0/testkit';
import type { ProcessUnder as AgentProcess } from '@alter0/testkit';
import type { JobRequest } from '@alter0/api';
import type { AgentSide, Daemon } from './daemon-harness.js';
import {
  CLOSER_MARK,
  ROUTER_MARK,
  agentSide,
  callKind,
  lastUserText,
  metricValue,
  requestSession,
  turnRoles,
  startDaemon,
} from './daemon-harness.js';
import { bodyText, cliOrSkip, isRecord } from './helpers.js';

/*
 * Contract tests one level up from executor-contract.test.ts: the REAL `alter0 serve` daemon (a child
 * process, driven over HTTP) running the REAL pinned claude/codex CLIs against the fakes. Router and
 * closer use the same CLI as the agent, so each scenario scripts the fake in call order (execute,
 * close; or route, execute, close) and tells the calls apart by the prompt text they carry.
 */

const programs: Record<CliName, string | null> = { claude: cliOrSkip('claude'), codex: cliOrSkip('codex') };

const closeJson = (close: boolean, confidence: number, reason: string): string =>
  JSON.stringify({ close, confidence, reason });
const routeJson = (taskId: string, confidence: number, reason: string): string =>
  JSON.stringify({ decision: 'existing', task_id: taskId, confidence, reason });
/** A closer answer that keeps the task open, so the next message has a candidate to route to. */
const keepOpen = (): Behaviour => reply(closeJson(false, 0.2, 'the owner may add more'));

/**
 * The CLI among the processes of a run: the one whose parent is not among them. The daemon's spawner helper (a
 * child of the daemon, working directory `/`) forked it.
 */
function cliOf(d: Daemon, seen: readonly AgentProcess[]): AgentProcess[] {
  const helpers = new Set(
    liveProcesses()
      .filter((p) => p.ppid === d.pid)
      .map((p) => p.pid),
  );
  return seen.filter((p) => helpers.has(p.ppid) && !seen.some((q) => q.pid === p.ppid));
}

/**
 * After a job ended by a kill: the CLI's own process group is gone at once (alter0 waits for it), and
 * the processes the CLI started in groups of their own (both CLIs run tools in a new session) are gone
 * shortly after, when the CLI has cleaned them up on its SIGTERM.
 */
async function expectAllGone(d: Daemon, seen: readonly AgentProcess[]): Promise<void> {
  const leader = cliOf(d, seen);
  expect(leader.length, `no CLI started by the daemon's spawner among ${JSON.stringify(seen)}`).toBe(1);
  expect(liveInGroups(leader.map((p) => p.pgid))).toEqual([]);
  await until(() => processesUnder(d.data).length === 0, {
    timeoutMs: 15_000,
    what: 'every process the CLI started to exit',
  });
  expect(liveInGroups(seen.map((p) => p.pgid))).toEqual([]);
}

/**
 * The model has the agent start a command that never ends on its own (claude refuses a long standalone
 * `sleep`); the CLI waits for it, or (codex, after its yield time) asks the model again, which hangs.
 */
function longCommand(kind: CliName): Behaviour {
  const forever = 'printf x > started.txt && tail -f started.txt';
  return kind === 'claude'
    ? toolCall('Bash', { command: forever, description: 'follow a file' })
    : toolCall('exec_command', { cmd: forever });
}

/** Settings every scenario shares: short, bounded, deterministic. */
function baseSets(kind: CliName, program: string): Record<string, string | number> {
  return {
    [`executor.${kind}.bin`]: program,
    'executor.kill_grace_ms': 1_000,
    'queue.job_timeout_s': 30,
    'queue.max_attempts': 1,
    'queue.backoff_initial_ms': 200,
    'router.timeout_s': 20,
    'closer.timeout_s': 20,
    'shutdown.drain_timeout_s': 1,
    'log.file': 'false',
    // These scenarios count the processes a run leaves; the waiting router process has its own test
    // (daemon-judge-model.test.ts).
    'router.prespawn': 'false',
  };
}

for (const kind of ['claude', 'codex'] as const) {
  const program = programs[kind];
  describe.skipIf(program === null)(
    `alter0 serve with the real ${kind} CLI against its fake`,
    { timeout: 60_000 },
    () => {
      let tmp: TempHome;
      let agent: AgentSide;
      let daemon: Daemon | null = null;

      beforeEach(async () => {
        tmp = await makeTempHome('alter0-daemon-');
        agent = await agentSide(kind, program ?? kind, tmp);
      });
      afterEach(async () => {
        const left = daemon === null ? [] : processesUnder(daemon.data);
        await daemon?.stop();
        daemon = null;
        killGroups(left.map((p) => p.pgid));
        await agent.fake.close();
        await tmp.remove();
      }, 30_000);

      async function start(sets: Record<string, string | number> = {}): Promise<Daemon> {
        daemon = await startDaemon({
          tmp,
          agents: [agent],
          executor: kind,
          sets: { ...baseSets(kind, program ?? kind), ...sets },
        });
        return daemon;
      }

      const execCalls = (): RecordedRequest[] => agent.fake.modelCalls().filter((r) => callKind(r) === 'execute');

      it('POST /api/message is answered by the CLI: reply, its session on the task, usage on the job', async () => {
        agent.fake.script([reply('PELICAN noted'), keepOpen()]);
        const d = await start();
        const r = await d.client.sendMessage({ content: 'Remember the word PELICAN.' });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body).toMatchObject({ reply: 'PELICAN noted' });
        const job = await d.finished(r.body.job_id);
        expect(job).toMatchObject({ state: 'succeeded', attempt: 1, reply: 'PELICAN noted', error: null });

        const exec = execCalls();
        expect(exec).toHaveLength(1);
        expect(lastUserText(exec[0] as RecordedRequest)).toContain('Remember the word PELICAN.');
        const task = await d.task(job.task_id ?? '');
        expect(task.executor).toBe(kind);
        expect(task.session_id).toMatch(/^[0-9a-f-]{36}$/);
        // The session the CLI used for the call is the one alter0 stored for the task.
        expect(task.session_id).toBe(requestSession(exec[0] as RecordedRequest));
        expect(task.messages.map((m) => [m.role, m.content])).toEqual([
          ['user', 'Remember the word PELICAN.'],
          ['assistant', 'PELICAN noted'],
        ]);

        expect(isRecord(job.usage), JSON.stringify(job.usage)).toBe(true);
        const usage = job.usage as Record<string, unknown>;
        expect(usage['inputTokens']).toBeGreaterThan(0);
        expect(usage['outputTokens']).toBeGreaterThan(0);
        // claude reports a cost (total_cost_usd); codex reports tokens only.
        if (kind === 'claude') expect(usage['costUsd']).toBeGreaterThan(0);
      });

      it('a follow-up with task_id, and one the router sends to the task, resume the same agent session', async () => {
        const d = await start();
        agent.fake.script([reply('PELICAN noted'), keepOpen()]);
        const first = await d.client.sendMessage({ content: 'Remember the word PELICAN.' });
        const taskId = (await d.finished(first.body.job_id)).task_id ?? '';
        const session = (await d.task(taskId)).session_id;
        expect(session).not.toBeNull();

        agent.fake.script([reply('It was PELICAN'), keepOpen()]);
        const second = await d.client.sendMessage({ content: 'Which word was it?', task_id: taskId });
        const j2 = await d.finished(second.body.job_id);
        expect(j2).toMatchObject({ state: 'succeeded', task_id: taskId, reply: 'It was PELICAN' });
        expect(j2.route).toMatchObject({ decision: 'explicit', task_id: taskId, fallback: 'explicit' });

        agent.fake.script([
          reply(routeJson(taskId, 0.9, 'continues the bird word')),
          reply('Still PELICAN'),
          keepOpen(),
        ]);
        const third = await d.client.sendMessage({ content: 'And spell that bird word backwards?' });
        const j3 = await d.finished(third.body.job_id);
        expect(j3).toMatchObject({ state: 'succeeded', task_id: taskId, reply: 'Still PELICAN' });
        expect(j3.route).toMatchObject({ decision: 'existing', task_id: taskId, confidence: 0.9, fallback: null });

        const exec = execCalls();
        expect(exec).toHaveLength(3);
        expect(exec.map((c) => requestSession(c))).toEqual([session, session, session]);
        // Each resumed call carries the earlier turns of the session: the agent remembers the task.
        const secondBody = bodyText(exec[1]?.body);
        expect(secondBody).toContain('Remember the word PELICAN.');
        expect(secondBody).toContain('PELICAN noted');
        const thirdBody = bodyText(exec[2]?.body);
        for (const earlier of ['Remember the word PELICAN.', 'PELICAN noted', 'Which word was it?', 'It was PELICAN']) {
          expect(thirdBody).toContain(earlier);
        }
        expect(lastUserText(exec[2] as RecordedRequest)).toContain('And spell that bird word backwards?');
        expect((await d.task(taskId)).session_id).toBe(session);
      });

      it('router and closer JSON from the CLI is extracted, validated and recorded, and stays out of the agent session', async () => {
        const d = await start();
        agent.fake.script([
          reply('The capital of France is Paris.'),
          // Prose around the JSON, as models do: the closer must still find its one answer object.
          reply(`My verdict: ${closeJson(false, 0.3, 'the owner may ask more about France')}`),
        ]);
        const first = await d.client.sendMessage({ content: 'What is the capital of France?' });
        const j1 = await d.finished(first.body.job_id);
        const taskId = j1.task_id ?? '';
        expect((await d.task(taskId)).state).toBe('open');

        agent.fake.script([
          reply(`\`\`\`json\n${routeJson(taskId, 0.87, 'asks about the same city')}\n\`\`\``),
          reply('About two million people live in Paris.'),
          reply(closeJson(true, 0.93, 'the question is fully answered')),
        ]);
        const second = await d.client.sendMessage({ content: 'How many people live there?' });
        const j2 = await d.finished(second.body.job_id);
        expect(j2).toMatchObject({ state: 'succeeded', task_id: taskId });

        const task = await d.task(taskId);
        const route1 = task.decisions.route.find((x) => x.job_id === j1.id);
        const route2 = task.decisions.route.find((x) => x.job_id === j2.id);
        expect(route1).toMatchObject({ decision: 'new', model_called: false, fallback: 'no_candidates' });
        expect(route2).toMatchObject({
          decision: 'existing',
          task_id: taskId,
          model_called: true,
          confidence: 0.87,
          reason: 'asks about the same city',
          fallback: null,
        });
        expect(route2?.raw_output).toContain('"confidence":0.87');
        const close1 = task.decisions.close.find((x) => x.job_id === j1.id);
        const close2 = task.decisions.close.find((x) => x.job_id === j2.id);
        expect(close1).toMatchObject({
          source: 'auto',
          action: 'keep_open',
          model_called: true,
          confidence: 0.3,
          fallback: null,
        });
        expect(close1?.reason).toBe('the owner may ask more about France');
        expect(close2).toMatchObject({
          source: 'auto',
          action: 'close',
          model_called: true,
          confidence: 0.93,
          reason: 'the question is fully answered',
        });
        expect(task).toMatchObject({
          state: 'closed',
          closed_by: 'auto',
          close_reason: 'the question is fully answered',
        });

        const calls = agent.fake.modelCalls();
        expect(calls.map(callKind)).toEqual(['execute', 'close', 'route', 'execute', 'close']);
        // The task's agent session is the execute calls' own; router and closer ran in sessions of their own.
        const exec = calls.filter((c) => callKind(c) === 'execute');
        const session = requestSession(exec[0] as RecordedRequest);
        expect(task.session_id).toBe(session);
        expect(requestSession(exec[1] as RecordedRequest)).toBe(session);
        for (const c of calls.filter((x) => callKind(x) !== 'execute')) expect(requestSession(c)).not.toBe(session);
        // The resumed execute call carries the first turn, and no router or closer prompt or answer.
        const resumed = bodyText(exec[1]?.body);
        expect(resumed).toContain('What is the capital of France?');
        expect(resumed).toContain('The capital of France is Paris.');
        for (const foreign of [ROUTER_MARK, CLOSER_MARK, 'My verdict', 'asks about the same city'])
          expect(resumed).not.toContain(foreign);
        // Router and closer calls carry their prompt alone: no earlier conversation, no assistant turn.
        for (const c of calls.filter((x) => callKind(x) !== 'execute')) expect(turnRoles(c)).not.toContain('assistant');
        expect(turnRoles(exec[1] as RecordedRequest)).toContain('assistant');
      });

      it('401 → auth, not retried by alter0', async () => {
        agent.fake.script([unauthorized()]);
        const d = await start({ 'queue.max_attempts': 3 });
        const r = await d.client.submitJob({ content: 'hello' });
        const job = await d.finished(r.job_id);
        expect(job).toMatchObject({ state: 'failed', attempt: 1, max_attempts: 3 });
        expect(job.error?.class, job.error?.message).toBe('auth');
        expect(job.error?.message).not.toBe('');
        expect(agent.fake.modelCalls()).toHaveLength(1);
      });

      it('429 → rate_limited, retried by alter0 after its backoff, then succeeds when the fake recovers', async () => {
        agent.fake.script([rateLimited(1), reply('recovered'), keepOpen()]);
        const d = await start({ 'queue.max_attempts': 3, 'queue.backoff_initial_ms': 200 });
        const r = await d.client.submitJob({ content: 'hello' });
        const job = await d.finished(r.job_id);
        expect(job, JSON.stringify(job)).toMatchObject({
          state: 'succeeded',
          attempt: 2,
          reply: 'recovered',
          error: null,
        });
        const exec = execCalls();
        expect(exec.map((c) => c.behaviour?.kind)).toEqual(['http_error', 'reply']);
        // One CLI run per attempt (its own retries are off): the second run is alter0's retry, after the backoff.
        expect((exec[1]?.receivedAt ?? 0) - (exec[0]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(150);
        const metrics = await fetch(`${d.url}/metrics`, { signal: AbortSignal.timeout(10_000) }).then((x) => x.text());
        expect(metricValue(metrics, 'alter0_executor_errors_total', { executor: kind, class: 'rate_limited' })).toBe(1);
      });

      const unavailable: [string, Behaviour][] = [
        ['500', serverError()],
        [kind === 'claude' ? 'overloaded (529)' : 'overloaded (503)', overloaded()],
      ];
      for (const [name, behaviour] of unavailable) {
        it(`${name} → unavailable`, async () => {
          agent.fake.script([behaviour]);
          const d = await start();
          const r = await d.client.sendMessage({ content: 'hello' });
          expect(r.status).toBe(200);
          expect(r.body).toMatchObject({ state: 'failed', error: { class: 'unavailable' } });
          const job = await d.finished(r.body.job_id);
          expect(job.error?.class, job.error?.message).toBe('unavailable');
          expect(agent.fake.modelCalls()).toHaveLength(1);
        });
      }

      /** Submits a job whose model call hangs and returns it with the agent processes seen during the call. */
      async function hangingJob(
        d: Daemon,
        extra: Omit<JobRequest, 'content'>,
      ): Promise<{ jobId: string; workspace: string; procs: AgentProcess[]; hangingAt: number }> {
        // Accepted and queued (the 202 answer; a refusal would throw ApiRequestError).
        const r = await d.client.submitJob({ content: 'wait for me', ...extra });
        expect(r.state).toBe('queued');
        await agent.fake.waitForModelCalls(1, { timeoutMs: 30_000 });
        // The CLI is waiting for the hanging answer right now: look before anything else.
        const hangingAt = Date.now();
        const procs = processesUnder(d.data);
        const running = await d.client.getJob(r.job_id);
        const workspace = (await d.task(running.task_id ?? '')).workspace;
        return { jobId: r.job_id, workspace, procs, hangingAt };
      }

      it('a hang past the job timeout → timeout, and the CLI process tree is gone', async () => {
        agent.fake.script([hang()]);
        const d = await start();
        // The job timeout counts from the job's start and so covers the CLI's cold start, several seconds on a loaded
        // machine: it must leave the hang long enough to be seen (it is still far below queue.job_timeout_s = 30).
        const TIMEOUT_S = 10;
        const { jobId, workspace, procs, hangingAt } = await hangingJob(d, { timeout_s: TIMEOUT_S });
        expect(procs.length, 'the CLI runs in the task workspace').toBeGreaterThan(0);
        expect(procs.every((p) => p.cwd === workspace)).toBe(true);
        const job = await d.finished(jobId, 30_000);
        expect(job).toMatchObject({ state: 'failed', attempt: 1 });
        expect(job.error?.class, job.error?.message).toBe('timeout');
        // From the hanging call on: at most the rest of the timeout, the 1 s kill grace and the recording.
        expect(Date.now() - hangingAt).toBeLessThan(TIMEOUT_S * 1000 + 10_000);
        await expectAllGone(d, procs);
      });

      it('cancel during a run kills the CLI and every process it started', async () => {
        agent.fake.script([longCommand(kind), hang()]);
        const d = await start();
        const r = await d.client.submitJob({ content: 'run the long command' });
        expect(r.state).toBe('queued');
        const procs = await until(
          () => {
            const ps = processesUnder(d.data);
            return ps.some((p) => p.cmdline.startsWith('tail -f started.txt')) ? ps : null;
          },
          { timeoutMs: 30_000, what: 'the command the agent started' },
        );
        // The CLI itself is there too, and the command is its descendant, not alter0's direct child.
        expect(procs.length).toBeGreaterThan(1);
        expect((await d.client.getJob(r.job_id)).state).toBe('running');
        // 200 with the job (a refusal would throw ApiRequestError).
        expect(await d.client.cancelJob(r.job_id)).toMatchObject({ id: r.job_id });
        const job = await d.finished(r.job_id, 15_000);
        expect(job.state).toBe('canceled');
        expect(job.error?.class).toBe('canceled');
        await expectAllGone(d, procs);
        await expect(d.client.cancelJob(r.job_id)).rejects.toMatchObject({ name: 'ApiRequestError', status: 409 });
      });

      // claude runs its Bash tools in a session of their own, cleaning them up on SIGTERM but not on SIGKILL: the
      // reaper kills the recorded group's whole process tree, and the processes carrying the job id
      // (apps/daemon/src/orphans.ts). Codex's sandboxed tools die with their parent. The harness SIGKILLs the
      // daemon's whole process group, so the spawner's helper dies with it (as under systemd's final SIGKILL) and
      // cannot kill the agents itself: the next start's reaper is what is tested here. The helper's own kill when
      // only the daemon dies: packages/executor/test/spawner.test.ts.
      it('kill -9 of the daemon mid-run: the next start kills the CLI it left and every process that CLI started', async () => {
        agent.fake.script([longCommand(kind), hang()]);
        const first = await start();
        const r = await first.client.submitJob({ content: 'run the long command' });
        const procs = await until(
          () => {
            const ps = processesUnder(first.data);
            return ps.some((p) => p.cmdline.startsWith('tail -f started.txt')) ? ps : null;
          },
          { timeoutMs: 30_000, what: 'the command the agent started' },
        );
        const cli = cliOf(first, procs);
        expect(cli).toHaveLength(1);
        await first.kill9();
        const second = await start();
        // claude survives its parent's death and must be reaped; codex may already have exited on its own (its
        // stdin closed) before the restart, and then there is nothing to reap: only "nothing survives" holds for both.
        if (kind === 'claude')
          await second.waitForLog(
            'killed agent processes left by the previous process',
            'the reaper to report the CLI it killed',
          );
        // SIGKILL was sent during start-up; delivery and the exit itself take a moment on a busy machine.
        await until(() => liveInGroups(cli.map((p) => p.pgid)).length === 0, {
          timeoutMs: 15_000,
          what: 'the CLI left by the killed daemon to be gone',
        });
        await until(() => processesUnder(second.data).length === 0, {
          timeoutMs: 15_000,
          what: 'every process of the previous run to be gone',
        });
        expect(liveInGroups(procs.map((p) => p.pgid))).toEqual([]);
        const job = await second.finished(r.job_id);
        expect(job.state).toBe('failed');
      });

      it('CLI not found → not_found, and /api/status shows the executor degraded', async () => {
        const d = await start({ [`executor.${kind}.bin`]: `/nonexistent/${kind}` });
        const status = await until(
          async () => {
            const s = await d.client.status();
            const e = s.components.executor.details.executors.find((x) => x.kind === kind);
            return e?.probe_error !== null && e?.probe_error !== undefined ? s : null;
          },
          { timeoutMs: 30_000, what: 'the executor probe to report' },
        );
        expect(status.components.executor.state).toBe('degraded');
        expect(status.components.executor.details.executors.find((x) => x.kind === kind)).toMatchObject({
          state: 'degraded',
          version: null,
        });
        expect(status.components.executor.last_error?.message).toContain(kind);
        const r = await d.client.sendMessage({ content: 'hello' });
        expect(r.body).toMatchObject({ state: 'failed', error: { class: 'not_found' } });
        expect(agent.fake.modelCalls()).toHaveLength(0);
      });
    },
  );
}

const both = programs.claude !== null && programs.codex !== null;
describe.skipIf(!both)('alter0 serve with claude as agent and codex as router', { timeout: 60_000 }, () => {
  let tmp: TempHome;
  let agents: AgentSide[] = [];
  let daemon: Daemon | null = null;
  beforeEach(async () => {
    tmp = await makeTempHome('alter0-daemon-');
    agents = [
      await agentSide('claude', programs.claude ?? 'claude', tmp),
      await agentSide('codex', programs.codex ?? 'codex', tmp),
    ];
  });
  afterEach(async () => {
    const left = daemon === null ? [] : processesUnder(daemon.data);
    await daemon?.stop();
    daemon = null;
    killGroups(left.map((p) => p.pgid));
    for (const a of agents) await a.fake.close();
    await tmp.remove();
  }, 30_000);

  it('preflight lists both CLIs with path and version; the route call goes to codex, the rest to claude', async () => {
    const [claude, codex] = agents as [AgentSide, AgentSide];
    const d = (daemon = await startDaemon({
      tmp,
      agents,
      executor: 'claude',
      sets: { ...baseSets('claude', claude.program), ...baseSets('codex', codex.program), 'router.executor': 'codex' },
    }));
    const status = await until(
      async () => {
        const s = await d.client.status();
        return s.components.executor.details.executors.every((e) => e.version !== null) ? s : null;
      },
      { timeoutMs: 30_000, what: 'both executor probes' },
    );
    const execs = status.components.executor.details.executors;
    expect(execs.map((e) => e.kind).sort()).toEqual(['claude', 'codex']);
    expect(execs.find((e) => e.kind === 'claude')).toMatchObject({
      state: 'ok',
      path: claude.program,
      probe_error: null,
    });
    expect(execs.find((e) => e.kind === 'codex')).toMatchObject({
      state: 'ok',
      path: codex.program,
      probe_error: null,
    });
    expect(execs.find((e) => e.kind === 'claude')?.version).toMatch(/\b2\.1\.332\b/);
    expect(execs.find((e) => e.kind === 'codex')?.version).toMatch(/\b0\.169\.0\b/);
    expect(status.components.executor.state).toBe('ok');

    claude.fake.script([reply('noted'), keepOpen()]);
    const first = await d.client.sendMessage({ content: 'Remember the word PELICAN.' });
    const taskId = (await d.finished(first.body.job_id)).task_id ?? '';
    codex.fake.script([reply(routeJson(taskId, 0.8, 'same word'))]);
    claude.fake.script([reply('PELICAN'), keepOpen()]);
    const second = await d.client.sendMessage({ content: 'Which word was it?' });
    const j2 = await d.finished(second.body.job_id);
    expect(j2).toMatchObject({ state: 'succeeded', task_id: taskId, reply: 'PELICAN' });
    expect(codex.fake.modelCalls().map(callKind)).toEqual(['route']);
    expect(claude.fake.modelCalls().map(callKind)).toEqual(['execute', 'close', 'execute', 'close']);
    const route = (await d.task(taskId)).decisions.route.find((x) => x.job_id === j2.id);
    expect(route).toMatchObject({ model_called: true, decision: 'existing', confidence: 0.8, reason: 'same word' });
  });
});
