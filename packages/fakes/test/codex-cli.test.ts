import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hang, rateLimited, reply, serverError, toolCall, unauthorized } from '../src/behaviour.js';
import type { CodexConfigOptions, TempHome } from '../src/env.js';
import { codexEnv, makeTempHome, writeCodexConfig } from '../src/env.js';
import { startOpenAIFake } from '../src/openai.js';
import type { RunResult } from '../src/run.js';
import { runCli } from '../src/run.js';
import type { ModelFake } from '../src/server.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { groupGone } from '@alter0/testkit';
import { bodyText, cliOrSkip, jsonl } from './helpers.js';

// The real codex CLI (pinned in package.json) against the Responses fake; see captures/codex-*.json.
const codex = cliOrSkip('codex');
const EXEC = ['exec', '--json', '--skip-git-repo-check'];

describe.skipIf(codex === null)('real codex CLI against the OpenAI Responses fake', () => {
  let fake: ModelFake;
  let tmp: TempHome;
  let env: Record<string, string>;
  beforeEach(async () => {
    fake = await startOpenAIFake();
    tmp = await makeTempHome();
    env = codexEnv({ home: tmp.home });
    await configure({});
  });
  afterEach(async () => {
    await fake.close();
    await tmp.remove();
  });

  async function configure(o: Partial<CodexConfigOptions>): Promise<void> {
    await writeCodexConfig(env['CODEX_HOME'] ?? '', { baseUrl: fake.url, ...o });
  }

  function run(args: string[], prompt: string, timeoutMs = 30_000): Promise<RunResult> {
    return runCli({
      program: codex ?? 'codex',
      args: [...EXEC, ...args, '-'],
      env,
      cwd: tmp.workdir,
      stdin: prompt,
      timeoutMs,
      killGraceMs: 1_000,
    });
  }

  const agentText = (r: RunResult): string[] =>
    jsonl(r.stdout)
      .filter((e) => e['type'] === 'item.completed')
      .map((e) => e['item'] as { type: string; text?: string })
      .filter((i) => i.type === 'agent_message')
      .map((i) => i.text ?? '');
  const failure = (r: RunResult): string | undefined =>
    (jsonl(r.stdout).find((e) => e['type'] === 'turn.failed')?.['error'] as { message?: string } | undefined)?.message;

  it('passes the reply text through (prompt on stdin) and reports a thread id', async () => {
    fake.script([reply('Hello from the fake', { chunks: 3 })]);
    const r = await run([], 'say hello');
    expect(r.exitCode, r.stderr).toBe(0);
    const events = jsonl(r.stdout);
    expect(events[0]).toMatchObject({ type: 'thread.started', thread_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(events.at(-1)).toMatchObject({ type: 'turn.completed', usage: { input_tokens: expect.any(Number) } });
    expect(agentText(r)).toEqual(['Hello from the fake']);
    const call = fake.modelCalls()[0];
    expect(call?.headers['authorization']).toBe('Bearer sk-alter0-fake-key');
    expect(bodyText(call?.body)).toContain('say hello');
  });

  it('resumes: `exec resume <thread>` sends the first turn to the model', async () => {
    fake.script([reply('PELICAN noted'), reply('It was PELICAN')]);
    const first = await run([], 'Remember the word PELICAN.');
    expect(first.exitCode, first.stderr).toBe(0);
    const thread = String(jsonl(first.stdout)[0]?.['thread_id']);
    const second = await run(['resume', thread], 'Which word?');
    expect(second.exitCode, second.stderr).toBe(0);
    expect(agentText(second)).toEqual(['It was PELICAN']);
    expect(jsonl(second.stdout)[0]).toMatchObject({ type: 'thread.started', thread_id: thread });
    const input = (fake.modelCalls()[1]?.body as { input: { role?: string; content?: unknown }[] }).input;
    const texts = input.map((i) => `${i.role ?? ''}:${bodyText(i.content)}`);
    const iFirst = texts.findIndex((t) => t.startsWith('user:') && t.includes('Remember the word PELICAN.'));
    const iReply = texts.findIndex((t) => t.startsWith('assistant:') && t.includes('PELICAN noted'));
    const iSecond = texts.findIndex((t) => t.startsWith('user:') && t.includes('Which word?'));
    expect(iFirst).toBeGreaterThanOrEqual(0);
    expect(iReply).toBeGreaterThan(iFirst);
    expect(iSecond).toBeGreaterThan(iReply);
  });

  it('--ephemeral leaves nothing to resume', async () => {
    fake.script([reply('{"decision":"new"}')]);
    const first = await run(['--ephemeral'], 'route this');
    expect(first.exitCode, first.stderr).toBe(0);
    const thread = String(jsonl(first.stdout)[0]?.['thread_id']);
    const second = await run(['resume', thread], 'again');
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`no rollout found for thread id ${thread}`);
    expect(fake.modelCalls()).toHaveLength(1);
  });

  it('401: exits 1 with turn.failed naming the status', async () => {
    fake.script([unauthorized()]);
    const r = await run([], 'hi');
    expect(r.exitCode).toBe(1);
    expect(failure(r)).toMatch(/^unexpected status 401 Unauthorized: Incorrect API key provided/);
  });

  it('429 then recovery: stream_max_retries=1 reconnects after the 429 and succeeds', async () => {
    await configure({ streamMaxRetries: 1 });
    fake.script([rateLimited(1), reply('recovered')]);
    const r = await run([], 'hi');
    expect(r.exitCode, r.stdout).toBe(0);
    expect(agentText(r)).toEqual(['recovered']);
    const errors = jsonl(r.stdout).filter((e) => e['type'] === 'error');
    expect(errors.map((e) => e['message'])).toEqual([
      expect.stringMatching(/^Reconnecting\.\.\. 1\/1 .*429 Too Many Requests/),
    ]);
    expect(fake.modelCalls()).toHaveLength(2);
  });

  it('429 without retries: turn.failed with the 429 status', async () => {
    fake.script([rateLimited(1), reply('not reached')]);
    const r = await run([], 'hi');
    expect(r.exitCode).toBe(1);
    expect(failure(r)).toMatch(/exceeded retry limit, last status: 429 Too Many Requests/);
    expect(fake.modelCalls()).toHaveLength(1);
  });

  it('500: turn.failed, and request_max_retries retries it silently', async () => {
    fake.script([serverError()]);
    const r = await run([], 'hi');
    expect(r.exitCode).toBe(1);
    expect(failure(r)).toMatch(/high demand/);

    await configure({ requestMaxRetries: 1 });
    fake.script([serverError(), reply('recovered')]);
    const again = await run([], 'hi');
    expect(again.exitCode, again.stdout).toBe(0);
    expect(agentText(again)).toEqual(['recovered']);
    expect(fake.modelCalls()).toHaveLength(3);
  });

  it('hang before headers: bounded by the caller timeout, the whole process group is killed', async () => {
    fake.script([hang()]);
    const r = await run([], 'hi', 2_500);
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(10_000);
    expect(r.exitSignal === 'SIGTERM' || r.exitSignal === 'SIGKILL').toBe(true);
    expect(await groupGone(r.pid ?? 0), 'members of the CLI group still running').toEqual([]);
  });

  it('hang after headers: stream_idle_timeout_ms makes codex give up by itself', async () => {
    await configure({ streamIdleTimeoutMs: 1_000 });
    fake.script([hang({ headers: true })]);
    const r = await run([], 'hi', 20_000);
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(failure(r)).toMatch(/idle timeout waiting for SSE/);
  });

  it('tool use: exec_command runs in the workspace under --sandbox workspace-write and its output goes back', async () => {
    fake.script([toolCall('exec_command', { cmd: "printf 'hi\\n' > hello.txt && echo wrote-it" }), reply('done')]);
    const r = await run(['--sandbox', 'workspace-write'], 'write hello.txt');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(agentText(r)).toEqual(['done']);
    expect(existsSync(join(tmp.workdir, 'hello.txt'))).toBe(true);
    const followUp = bodyText(fake.modelCalls()[1]?.body);
    expect(followUp).toContain('function_call_output');
    expect(followUp).toContain('wrote-it');
  });
});
