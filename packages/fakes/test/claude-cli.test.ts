import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicFake } from '../src/anthropic.js';
import { hang, rateLimited, reply, serverError, toolCall, unauthorized } from '../src/behaviour.js';
import type { ClaudeEnvOptions, TempHome } from '../src/env.js';
import { claudeEnv, makeTempHome } from '../src/env.js';
import type { RunResult } from '../src/run.js';
import { runCli } from '../src/run.js';
import type { ModelFake } from '../src/server.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { groupGone } from '@alter0/testkit';
import { bodyText, claudeResult, cliOrSkip } from './helpers.js';

// The real claude CLI (pinned in package.json) against the Anthropic fake; see captures/claude-*.json.
const claude = cliOrSkip('claude');

describe.skipIf(claude === null)('real claude CLI against the Anthropic fake', () => {
  let fake: ModelFake;
  let tmp: TempHome;
  beforeEach(async () => {
    fake = await startAnthropicFake();
    tmp = await makeTempHome();
  });
  afterEach(async () => {
    await fake.close();
    await tmp.remove();
  });

  function run(
    args: string[],
    prompt: string,
    opts: Partial<ClaudeEnvOptions> & { timeoutMs?: number } = {},
  ): Promise<RunResult> {
    return runCli({
      program: claude ?? 'claude',
      args: ['-p', '--output-format', 'json', ...args],
      env: claudeEnv({ baseUrl: fake.url, home: tmp.home, ...opts }),
      cwd: tmp.workdir,
      stdin: prompt,
      timeoutMs: opts.timeoutMs ?? 30_000,
      killGraceMs: 1_000,
    });
  }

  it('passes the reply text through and reports a session id', async () => {
    fake.script([reply('Hello from the fake', { chunks: 3 })]);
    const r = await run([], 'say hello');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = claudeResult(r.stdout);
    expect(out).toMatchObject({ type: 'result', subtype: 'success', is_error: false, result: 'Hello from the fake' });
    expect(out['session_id']).toMatch(/^[0-9a-f-]{36}$/);
    const call = fake.modelCalls()[0];
    expect(call?.headers['x-api-key']).toBe('sk-ant-alter0-fake-key');
    expect(bodyText(call?.body)).toContain('say hello');
  });

  it('resumes: the second turn sends the first turn to the model', async () => {
    fake.script([reply('PELICAN noted'), reply('It was PELICAN')]);
    const first = await run([], 'Remember the word PELICAN.');
    expect(first.exitCode, first.stderr).toBe(0);
    const session = claudeResult(first.stdout)['session_id'];
    expect(typeof session).toBe('string');
    const second = await run(['--resume', String(session)], 'Which word?');
    expect(second.exitCode, second.stderr).toBe(0);
    expect(claudeResult(second.stdout)).toMatchObject({ result: 'It was PELICAN', session_id: session });
    const body = fake.modelCalls()[1]?.body as { messages: { role: string; content: unknown }[] };
    // claude 2.1 also interleaves a role "system" message (its context), so look for the turns by content.
    const roles = body.messages.map((m) => m.role);
    expect(roles.slice(-2)).toEqual(['assistant', 'user']);
    const firstUser = body.messages.findIndex(
      (m) => m.role === 'user' && bodyText(m.content).includes('Remember the word PELICAN.'),
    );
    expect(firstUser).toBeGreaterThanOrEqual(0);
    expect(firstUser).toBeLessThan(body.messages.length - 2);
    expect(bodyText(body.messages.at(-2))).toContain('PELICAN noted');
    expect(bodyText(body.messages.at(-1))).toContain('Which word?');
  });

  it('--no-session-persistence leaves nothing to resume', async () => {
    fake.script([reply('{"decision":"new"}')]);
    const first = await run(['--no-session-persistence'], 'route this');
    expect(first.exitCode, first.stderr).toBe(0);
    const session = String(claudeResult(first.stdout)['session_id']);
    const second = await run(['--resume', session], 'again');
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`No conversation found with session ID: ${session}`);
    expect(fake.modelCalls()).toHaveLength(1);
  });

  it('401: exits 1 with an error result carrying the status and type', async () => {
    fake.script([unauthorized()]);
    const r = await run([], 'hi');
    expect(r.exitCode).toBe(1);
    expect(claudeResult(r.stdout)).toMatchObject({
      is_error: true,
      api_error_status: 401,
      api_error_type: 'authentication_error',
      terminal_reason: 'api_error',
    });
    expect(fake.modelCalls()).toHaveLength(1);
  });

  it('429 then recovery: with CLAUDE_CODE_MAX_RETRIES=1 the CLI waits retry-after and succeeds', async () => {
    fake.script([rateLimited(1), reply('recovered')]);
    const r = await run([], 'hi', { maxRetries: 1 });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(claudeResult(r.stdout)).toMatchObject({ is_error: false, result: 'recovered' });
    const [a, b] = fake.modelCalls();
    expect((b?.receivedAt ?? 0) - (a?.receivedAt ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('429 without retries: error result with status 429', async () => {
    fake.script([rateLimited(1)]);
    const r = await run([], 'hi');
    expect(r.exitCode).toBe(1);
    expect(claudeResult(r.stdout)).toMatchObject({
      is_error: true,
      api_error_status: 429,
      api_error_type: 'rate_limit_error',
    });
  });

  it('500: error result with status 500 and no retry when CLAUDE_CODE_MAX_RETRIES=0', async () => {
    fake.script([serverError(), reply('not reached')]);
    const r = await run([], 'hi');
    expect(r.exitCode).toBe(1);
    expect(claudeResult(r.stdout)).toMatchObject({
      is_error: true,
      api_error_status: 500,
      api_error_type: 'api_error',
    });
    expect(fake.modelCalls()).toHaveLength(1);
  });

  it('hang: bounded by the caller timeout, the whole process group is killed', async () => {
    fake.script([hang({ headers: true })]);
    const r = await run([], 'hi', { timeoutMs: 2_500 });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(10_000);
    // claude traps SIGTERM and exits 143
    expect(r.exitCode === 143 || r.exitSignal !== null).toBe(true);
    expect(r.pid).not.toBeNull();
    expect(await groupGone(r.pid ?? 0), 'members of the CLI group still running').toEqual([]);
  });

  it('hang before headers: API_TIMEOUT_MS makes the CLI give up by itself', async () => {
    fake.script([hang()]);
    const r = await run([], 'hi', { apiTimeoutMs: 1_000, timeoutMs: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(claudeResult(r.stdout)).toMatchObject({ is_error: true, api_error_status: null });
    expect(String(claudeResult(r.stdout)['result'])).toMatch(/timed out/i);
  });

  it('tool use: plain -p denies a Write (reported in permission_denials, exit 0); acceptEdits allows it', async () => {
    const file = join(tmp.workdir, 'hello.txt');
    fake.script([toolCall('Write', { file_path: file, content: 'hi\n' }), reply('done')]);
    const denied = await run([], 'write hello.txt');
    expect(denied.exitCode, denied.stderr).toBe(0);
    const out = claudeResult(denied.stdout);
    expect(out).toMatchObject({ is_error: false, result: 'done', permission_denials: [{ tool_name: 'Write' }] });
    expect(existsSync(file)).toBe(false);
    expect(bodyText(fake.modelCalls()[1]?.body)).toContain('but you haven');

    fake.script([toolCall('Write', { file_path: file, content: 'hi\n' }), reply('done')]);
    const allowed = await run(['--permission-mode', 'acceptEdits'], 'write hello.txt');
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(claudeResult(allowed.stdout)).toMatchObject({ is_error: false, permission_denials: [] });
    expect(existsSync(file)).toBe(true);
  });
});
