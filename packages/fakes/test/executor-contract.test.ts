import type { ErrorClass, ExecRequest, ExecResult, Executor, Stage } from '@alter0/core';
import { ExecutorError } from '@alter0/core';
import { SessionNotFoundError, Spawner, createExecutor } from '@alter0/executor';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicFake } from '../src/anthropic.js';
import type { Behaviour } from '../src/behaviour.js';
import {
  hang,
  malformed,
  overloaded,
  rateLimited,
  reply,
  serverError,
  streamError,
  toolCall,
  truncated,
  unauthorized,
} from '../src/behaviour.js';
import type { TempHome } from '../src/env.js';
import { CODEX_ENV_KEY, claudeEnv, codexEnv, makeTempHome, writeCodexConfig } from '../src/env.js';
import { startOpenAIFake } from '../src/openai.js';
import type { ModelFake } from '../src/server.js';
import { liveProcessesIn } from '@alter0/testkit';
import { bodyText, cliOrSkip } from './helpers.js';

// The CLIs run as in the daemon: forked by a spawner's helper process.
const spawner = new Spawner();
afterAll(() => spawner.close());

/*
 * Contract tests: @alter0/executor's adapters driving the REAL pinned CLIs against the fakes.
 * The CLI's own retries are off (CLAUDE_CODE_MAX_RETRIES=0, codex *_max_retries=0) so each
 * scripted failure reaches the adapter, whose classification is what is checked.
 */

const claude = cliOrSkip('claude');
const codex = cliOrSkip('codex');

interface Harness {
  fake: ModelFake;
  tmp: TempHome;
  executor: Executor;
}

function request(tmp: TempHome, over: Partial<ExecRequest> = {}): ExecRequest {
  return {
    stage: 'execute',
    prompt: 'hello',
    sessionId: null,
    taskId: 't_contract',
    jobId: 'j_contract',
    cwd: tmp.workdir,
    timeoutMs: 30_000,
    signal: new AbortController().signal,
    ...over,
  };
}

async function failureOf(p: Promise<ExecResult>): Promise<ExecutorError> {
  const err: unknown = await p.then(
    (r) => new Error(`expected a failure, got reply ${JSON.stringify(r.text)}`),
    (e: unknown) => e,
  );
  if (!(err instanceof ExecutorError)) throw err;
  return err;
}

const kinds = [
  {
    kind: 'claude' as const,
    program: claude,
    async setup(): Promise<Harness> {
      const fake = await startAnthropicFake();
      const tmp = await makeTempHome();
      const executor = createExecutor(
        {
          kind: 'claude',
          bin: claude ?? 'claude',
          env: claudeEnv({ baseUrl: fake.url, home: tmp.home }),
          killGraceMs: 1_000,
        },
        { baseEnv: {}, spawn: spawner.spawn },
      );
      return { fake, tmp, executor };
    },
  },
  {
    kind: 'codex' as const,
    program: codex,
    async setup(): Promise<Harness> {
      const fake = await startOpenAIFake();
      const tmp = await makeTempHome();
      const env = codexEnv({ home: tmp.home });
      await writeCodexConfig(env['CODEX_HOME'] ?? '', { baseUrl: fake.url, streamIdleTimeoutMs: 5_000 });
      const executor = createExecutor(
        { kind: 'codex', bin: codex ?? 'codex', env, killGraceMs: 1_000 },
        { baseEnv: {}, spawn: spawner.spawn },
      );
      return { fake, tmp, executor };
    },
  },
];

for (const k of kinds) {
  describe.skipIf(k.program === null)(`@alter0/executor ${k.kind} adapter against the real CLI and fake`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await k.setup();
    });
    afterEach(async () => {
      await h.fake.close();
      await h.tmp.remove();
    });

    it('probe finds the program and its version', async () => {
      const p = await h.executor.probe(AbortSignal.timeout(15_000));
      expect(p).toMatchObject({ kind: k.kind, ok: true, error: null });
      expect(p.version).toMatch(/\d+\.\d+\.\d+/);
    });

    it('execute: reply text, usage and a session id; the resumed turn carries the first', async () => {
      h.fake.script([reply('PELICAN noted'), reply('It was PELICAN')]);
      const first = await h.executor.run(request(h.tmp, { prompt: 'Remember the word PELICAN.' }));
      expect(first.text).toBe('PELICAN noted');
      expect(first.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(first.usage?.inputTokens).toBeGreaterThan(0);
      const second = await h.executor.run(request(h.tmp, { prompt: 'Which word?', sessionId: first.sessionId }));
      expect(second.text).toBe('It was PELICAN');
      expect(second.sessionId).toBe(first.sessionId);
      const body = bodyText(h.fake.modelCalls()[1]?.body);
      expect(body).toContain('Remember the word PELICAN.');
      expect(body).toContain('PELICAN noted');
      expect(body).toContain('Which word?');
    });

    for (const stage of ['route', 'close'] as Stage[]) {
      it(`${stage}: answers without a session to keep`, async () => {
        h.fake.script([reply('{"decision":"new","confidence":0.9}')]);
        const r = await h.executor.run(request(h.tmp, { stage, prompt: 'classify this' }));
        expect(r.text).toBe('{"decision":"new","confidence":0.9}');
        expect(r.sessionId).toBeNull();
      });
    }

    it('resume of a session the CLI does not have: SessionNotFoundError', async () => {
      const err = await failureOf(
        h.executor.run(request(h.tmp, { sessionId: '0199aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee' })),
      );
      expect(err).toBeInstanceOf(SessionNotFoundError);
      expect(h.fake.modelCalls()).toHaveLength(0);
    });

    const cases: [string, Behaviour[], ErrorClass][] = [
      ['401', [unauthorized()], 'auth'],
      ['429', [rateLimited(1)], 'rate_limited'],
      ['500', [serverError()], 'unavailable'],
      ['overloaded (529 / 503)', [overloaded()], 'unavailable'],
      ['truncated stream', [truncated(), truncated()], 'unavailable'],
      ['malformed stream', [malformed(), malformed()], 'unavailable'],
      ['in-stream rate limit error', [streamError('rate_limited'), streamError('rate_limited')], 'rate_limited'],
      ['in-stream overloaded error', [streamError('overloaded'), streamError('overloaded')], 'unavailable'],
    ];
    for (const [name, script, cls] of cases) {
      it(`${name} → ${cls}`, async () => {
        h.fake.script(script);
        const err = await failureOf(h.executor.run(request(h.tmp)));
        expect(err.errorClass, err.message).toBe(cls);
        expect(err.message).not.toBe('');
      });
    }

    it('hang → timeout, and no process of the group survives', async () => {
      h.fake.script([hang()]);
      const started = Date.now();
      // Long enough that a CLI slow to start on a loaded machine (two test files run at once) is still hanging,
      // not already killed, when its model call arrives and the group is checked.
      const TIMEOUT_MS = 6_000;
      const failure = failureOf(h.executor.run(request(h.tmp, { timeoutMs: TIMEOUT_MS })));
      await h.fake.waitForModelCalls(1, { timeoutMs: 15_000 });
      expect(liveProcessesIn(h.tmp.workdir).length).toBeGreaterThan(0);
      const err = await failure;
      expect(err.errorClass).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 8_000);
      expect(liveProcessesIn(h.tmp.workdir)).toEqual([]);
    });

    it('abort → canceled', async () => {
      h.fake.script([hang()]);
      const ac = new AbortController();
      const p = h.executor.run(request(h.tmp, { signal: ac.signal }));
      await h.fake.waitForModelCalls(1, { timeoutMs: 15_000 });
      ac.abort();
      const err = await failureOf(p);
      expect(err.errorClass).toBe('canceled');
      expect(liveProcessesIn(h.tmp.workdir)).toEqual([]);
    });
  });
}

describe.skipIf(claude === null)('claude adapter: the CLI gives up on its own request timeout', () => {
  it('API_TIMEOUT_MS exceeded ("Request timed out") → unavailable', async () => {
    const fake = await startAnthropicFake();
    const tmp = await makeTempHome();
    try {
      fake.script([hang()]);
      const env = claudeEnv({ baseUrl: fake.url, home: tmp.home, apiTimeoutMs: 1_000 });
      const executor = createExecutor(
        { kind: 'claude', bin: claude ?? 'claude', env },
        { baseEnv: {}, spawn: spawner.spawn },
      );
      const err = await failureOf(executor.run(request(tmp)));
      expect(err.errorClass, err.message).toBe('unavailable');
    } finally {
      await fake.close();
      await tmp.remove();
    }
  });
});

describe.skipIf(codex === null)('codex adapter: the CLI gives up on an idle stream', () => {
  it('stream_idle_timeout_ms exceeded → unavailable', async () => {
    const fake = await startOpenAIFake();
    const tmp = await makeTempHome();
    try {
      fake.script([hang({ headers: true })]);
      const env = codexEnv({ home: tmp.home });
      await writeCodexConfig(env['CODEX_HOME'] ?? '', { baseUrl: fake.url, streamIdleTimeoutMs: 1_000 });
      const executor = createExecutor(
        { kind: 'codex', bin: codex ?? 'codex', env },
        { baseEnv: {}, spawn: spawner.spawn },
      );
      const err = await failureOf(executor.run(request(tmp)));
      expect(err.errorClass, err.message).toBe('unavailable');
    } finally {
      await fake.close();
      await tmp.remove();
    }
  });
});

describe('adapters: a CLI without credentials', () => {
  it.skipIf(claude === null)('claude without ANTHROPIC_API_KEY ("Not logged in") → auth', async () => {
    const fake = await startAnthropicFake();
    const tmp = await makeTempHome();
    try {
      const env = claudeEnv({ baseUrl: fake.url, home: tmp.home });
      delete env['ANTHROPIC_API_KEY'];
      const executor = createExecutor(
        { kind: 'claude', bin: claude ?? 'claude', env },
        { baseEnv: {}, spawn: spawner.spawn },
      );
      const err = await failureOf(executor.run(request(tmp)));
      expect(err.errorClass, err.message).toBe('auth');
      expect(fake.modelCalls()).toHaveLength(0);
    } finally {
      await fake.close();
      await tmp.remove();
    }
  });

  // MISMATCH (reported): the adapter reads "Missing environment variable" as auth only when the
  // variable's name ends in API_KEY or TOKEN; a provider's env_key can be any name (here
  // ALTER0_FAKE_OPENAI_KEY), and it comes out as `exit`. `fails` turns red once the adapter is fixed:
  // then make this a plain `it`.
  (codex === null ? it.skip : it)(
    'codex without its provider key ("Missing environment variable") → auth',
    async () => {
      const fake = await startOpenAIFake();
      const tmp = await makeTempHome();
      try {
        const env = codexEnv({ home: tmp.home });
        await writeCodexConfig(env['CODEX_HOME'] ?? '', { baseUrl: fake.url });
        delete env[CODEX_ENV_KEY];
        const executor = createExecutor(
          { kind: 'codex', bin: codex ?? 'codex', env },
          { baseEnv: {}, spawn: spawner.spawn },
        );
        const err = await failureOf(executor.run(request(tmp)));
        expect(err.errorClass, err.message).toBe('auth');
        expect(fake.modelCalls()).toHaveLength(0);
      } finally {
        await fake.close();
        await tmp.remove();
      }
    },
  );
});

describe('adapters: the execute stage lets the agent change files in the workspace', () => {
  it.skipIf(codex === null)('codex: an exec_command writing a file in the workspace runs', async () => {
    const k = kinds[1];
    if (k === undefined) throw new Error('codex harness missing');
    const h = await k.setup();
    try {
      h.fake.script([toolCall('exec_command', { cmd: "printf 'hi\\n' > hello.txt" }), reply('done')]);
      const r = await h.executor.run(request(h.tmp, { prompt: 'write hello.txt' }));
      expect(r.text).toBe('done');
      expect(existsSync(join(h.tmp.workdir, 'hello.txt'))).toBe(true);
    } finally {
      await h.fake.close();
      await h.tmp.remove();
    }
  });

  // MISMATCH (reported): claudeArgv passes no --permission-mode, and `claude -p` then denies every
  // edit ("Claude requested permissions to write to …, but you haven't granted it yet"), exits 0
  // and lists the refusal only in `permission_denials`: the job "succeeds" without doing the work.
  // `--permission-mode acceptEdits` fixes it (claude-cli.test.ts). `fails` turns red once fixed.
  (claude === null ? it.skip : it)('claude: a Write to a file in the workspace happens', async () => {
    const k = kinds[0];
    if (k === undefined) throw new Error('claude harness missing');
    const h = await k.setup();
    try {
      const file = join(h.tmp.workdir, 'hello.txt');
      h.fake.script([toolCall('Write', { file_path: file, content: 'hi\n' }), reply('done')]);
      const r = await h.executor.run(request(h.tmp, { prompt: 'write hello.txt' }));
      expect(r.text).toBe('done');
      expect(existsSync(file)).toBe(true);
    } finally {
      await h.fake.close();
      await h.tmp.remove();
    }
  });
});
