import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import type { ExecRequest, Executor } from '@alter0/core';
import { ExecutorError } from '@alter0/core';
import { ProcessGroups, Spawner, createExecutor } from '@alter0/executor';
import { startAnthropicFake } from '../src/anthropic.js';
import { hang, rateLimited, reply, unauthorized } from '../src/behaviour.js';
import type { TempHome } from '../src/env.js';
import { claudeEnv, codexEnv, makeTempHome, writeCodexConfig } from '../src/env.js';
import { startOpenAIFake } from '../src/openai.js';
import type { ModelFake } from '../src/server.js';
import { groupGone } from '@alter0/testkit';
import { cliOrSkip } from './helpers.js';

// The CLIs run as in the daemon: forked by a spawner's helper process.
const spawner = new Spawner();
afterAll(() => spawner.close());

/*
 * The executors driving the real, pinned CLIs (this package's devDependencies) against the fake model servers
 * on 127.0.0.1. Skipped when the CLIs are not installed, failed with ALTER0_REQUIRE_TOOLS=1. It lives here, not in
 * @alter0/executor, so that the executor does not depend on the fakes (which test it): no workspace cycle.
 */

function request(over: Partial<ExecRequest> & Pick<ExecRequest, 'cwd'>): ExecRequest {
  return {
    stage: 'execute',
    prompt: 'hello',
    sessionId: null,
    taskId: 't_1',
    jobId: 'j_1',
    timeoutMs: 10_000,
    signal: new AbortController().signal,
    ...over,
  };
}

const claude = cliOrSkip('claude');
const codex = cliOrSkip('codex');
const TIMEOUT = 30_000;

async function failure(p: Promise<unknown>): Promise<ExecutorError> {
  const err: unknown = await p.then(
    () => new Error('expected the run to fail'),
    (e: unknown) => e,
  );
  if (!(err instanceof ExecutorError)) throw err;
  return err;
}

/** Starts a run that hangs on the fake, waits for its group to appear, and checks it is gone afterwards. */
async function expectTimeoutKillsGroup(ex: Executor, groups: ProcessGroups, req: ExecRequest): Promise<void> {
  let settled = false;
  const run = failure(ex.run(req)).finally(() => (settled = true));
  // The group is registered right after the spawn; poll for it until the run ends (a count of tries would
  // run out on a loaded machine before the CLI even starts).
  let pgid: number | undefined;
  const deadline = Date.now() + 30_000;
  while (pgid === undefined && !settled && Date.now() < deadline) {
    pgid = groups.list()[0];
    if (pgid === undefined) await delay(10);
  }
  const err = await run;
  expect(err.errorClass).toBe('timeout');
  expect(pgid).toBeDefined();
  if (pgid !== undefined) expect(await groupGone(pgid)).toEqual([]);
}

describe.skipIf(claude === null)('claude executor with the real CLI', () => {
  let fake: ModelFake;
  let tmp: TempHome;
  let groups: ProcessGroups;
  let ex: Executor;
  beforeEach(async () => {
    fake = await startAnthropicFake();
    tmp = await makeTempHome('alter0-exec-claude-');
    groups = new ProcessGroups();
    ex = createExecutor(
      {
        kind: 'claude',
        bin: claude ?? 'claude',
        env: claudeEnv({ baseUrl: fake.url, home: tmp.home }),
        killGraceMs: 1000,
      },
      { baseEnv: {}, groups, spawn: spawner.spawn },
    );
  });
  afterEach(async () => {
    await fake.close();
    await tmp.remove();
  });

  it('runs a turn, resumes it with context, and keeps router calls out of the session', async () => {
    fake.script([reply('PELICAN noted'), reply('It was PELICAN'), reply('{"decision":"new"}')]);
    const first = await ex.run(request({ cwd: tmp.workdir, prompt: 'Remember the word PELICAN.', timeoutMs: TIMEOUT }));
    expect(first.text).toBe('PELICAN noted');
    expect(first.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.usage?.outputTokens).toBeGreaterThan(0);

    const second = await ex.run(
      request({ cwd: tmp.workdir, prompt: 'Which word?', sessionId: first.sessionId, timeoutMs: TIMEOUT }),
    );
    expect(second.text).toBe('It was PELICAN');
    expect(second.sessionId).toBe(first.sessionId);
    expect(JSON.stringify(fake.modelCalls()[1]?.body)).toContain('Remember the word PELICAN.');

    const routed = await ex.run(
      request({
        cwd: tmp.workdir,
        stage: 'route',
        prompt: 'Route this',
        sessionId: first.sessionId,
        timeoutMs: TIMEOUT,
      }),
    );
    expect(routed.text).toBe('{"decision":"new"}');
    expect(routed.sessionId).toBeNull();
    const routeBody = JSON.stringify(fake.modelCalls()[2]?.body);
    expect(routeBody).not.toContain('PELICAN');
    expect((fake.modelCalls()[2]?.body as { tools?: unknown[] }).tools ?? []).toEqual([]);
  });

  it('classifies a refused key as auth and a 429 as rate_limited', async () => {
    fake.script([unauthorized(), rateLimited(1)]);
    const auth = await failure(ex.run(request({ cwd: tmp.workdir, timeoutMs: TIMEOUT })));
    expect(auth.errorClass).toBe('auth');
    expect(auth.message).toMatch(/run `claude` once interactively/);
    const rate = await failure(ex.run(request({ cwd: tmp.workdir, timeoutMs: TIMEOUT })));
    expect(rate.errorClass).toBe('rate_limited');
  });

  it('times out a hanging model call and leaves no process behind', async () => {
    fake.script([hang({ headers: true })]);
    await expectTimeoutKillsGroup(ex, groups, request({ cwd: tmp.workdir, timeoutMs: 3000 }));
  });

  it('probe reports the pinned version', async () => {
    const p = await ex.probe(AbortSignal.timeout(15_000));
    expect(p.ok).toBe(true);
    expect(p.version).toMatch(/^\d+\.\d+\.\d+ \(Claude Code\)$/);
  });
});

describe.skipIf(codex === null)('codex executor with the real CLI', () => {
  let fake: ModelFake;
  let tmp: TempHome;
  let groups: ProcessGroups;
  let ex: Executor;
  beforeEach(async () => {
    fake = await startOpenAIFake();
    tmp = await makeTempHome('alter0-exec-codex-');
    const env = codexEnv({ home: tmp.home });
    const codexHome = env.CODEX_HOME;
    if (codexHome === undefined) throw new Error('codexEnv set no CODEX_HOME');
    await writeCodexConfig(codexHome, { baseUrl: fake.url });
    groups = new ProcessGroups();
    ex = createExecutor(
      { kind: 'codex', bin: codex ?? 'codex', env, killGraceMs: 1000 },
      { baseEnv: {}, groups, spawn: spawner.spawn },
    );
  });
  afterEach(async () => {
    await fake.close();
    await tmp.remove();
  });

  it('runs a turn, resumes the thread with context, and keeps closer calls ephemeral', async () => {
    fake.script([reply('PELICAN noted'), reply('It was PELICAN'), reply('{"close":false}')]);
    const first = await ex.run(request({ cwd: tmp.workdir, prompt: 'Remember the word PELICAN.', timeoutMs: TIMEOUT }));
    expect(first.text).toBe('PELICAN noted');
    expect(first.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    const second = await ex.run(
      request({ cwd: tmp.workdir, prompt: 'Which word?', sessionId: first.sessionId, timeoutMs: TIMEOUT }),
    );
    expect(second.text).toBe('It was PELICAN');
    expect(second.sessionId).toBe(first.sessionId);
    expect(JSON.stringify(fake.modelCalls()[1]?.body)).toContain('Remember the word PELICAN.');

    const closed = await ex.run(
      request({ cwd: tmp.workdir, stage: 'close', prompt: 'Close?', sessionId: first.sessionId, timeoutMs: TIMEOUT }),
    );
    expect(closed.text).toBe('{"close":false}');
    expect(closed.sessionId).toBeNull();
    expect(JSON.stringify(fake.modelCalls()[2]?.body)).not.toContain('PELICAN');
  });

  it('classifies a refused key as auth', async () => {
    fake.script([unauthorized()]);
    const err = await failure(ex.run(request({ cwd: tmp.workdir, timeoutMs: TIMEOUT })));
    expect(err.errorClass).toBe('auth');
    expect(err.message).toMatch(/run `codex login`/);
  });

  it('a thread that does not exist is SessionNotFoundError', async () => {
    const err = await failure(
      ex.run(request({ cwd: tmp.workdir, sessionId: '01a21398-0000-7000-8000-000000000000', timeoutMs: TIMEOUT })),
    );
    expect(err.errorClass).toBe('exit');
    expect(err.message).toMatch(/no rollout found .*clear the task's session/);
  });

  it('times out a hanging model call and leaves no process behind', async () => {
    fake.script([hang({ headers: false })]);
    await expectTimeoutKillsGroup(ex, groups, request({ cwd: tmp.workdir, timeoutMs: 3000 }));
  });
});
