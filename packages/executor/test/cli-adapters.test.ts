import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecRequest } from '@alter0/core';
import { ExecutorError } from '@alter0/core';
import { CLAUDE_JUDGE_FLAGS, claudeArgv } from '../src/claude-executor.js';
import { codexArgv } from '../src/codex-executor.js';
import { createExecutor } from '../src/create-executor.js';
import { Spawner } from '../src/spawner.js';
import { fixture, program, request, tempDir } from './helpers.js';

// The adapters' runs go through a spawner's helper process, as in the daemon.
const spawner = new Spawner();
afterAll(() => spawner.close());

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

describe('claude argv', () => {
  const config = { kind: 'claude' as const, model: 'sonnet', args: ['--permission-mode', 'acceptEdits'] };
  const req = (stage: ExecRequest['stage'], sessionId: string | null): Pick<ExecRequest, 'stage' | 'sessionId'> => ({
    stage,
    sessionId,
  });

  it('execute: print mode, JSON, resume the task session, then configured args', () => {
    expect(claudeArgv(config, req('execute', 'sess-1'))).toEqual([
      'claude',
      '-p',
      '--output-format',
      'json',
      '--model',
      'sonnet',
      '--resume',
      'sess-1',
      '--permission-mode',
      'acceptEdits',
    ]);
    // Without a mode of the owner's, execute may edit its workspace (print mode would deny every edit).
    expect(claudeArgv({ kind: 'claude', model: '' }, req('execute', null))).toEqual([
      'claude',
      '-p',
      '--output-format',
      'json',
      '--permission-mode',
      'acceptEdits',
    ]);
    expect(claudeArgv({ kind: 'claude', args: ['--permission-mode=plan'] }, req('execute', null))).toEqual([
      'claude',
      '-p',
      '--output-format',
      'json',
      '--permission-mode=plan',
    ]);
  });

  it('route/close: never resume, never persist, no tools', () => {
    for (const stage of ['route', 'close'] as const) {
      const argv = claudeArgv({ kind: 'claude', bin: '/opt/claude' }, req(stage, 'sess-1'));
      expect(argv).toEqual(['/opt/claude', '-p', '--output-format', 'json', ...CLAUDE_JUDGE_FLAGS]);
    }
    expect(CLAUDE_JUDGE_FLAGS.slice(0, 7)).toEqual([
      '--no-session-persistence',
      '--tools',
      '',
      '--setting-sources',
      '',
      '--strict-mcp-config',
      '--disable-slash-commands',
    ]);
    expect(CLAUDE_JUDGE_FLAGS[7]).toBe('--system-prompt');
  });

  it("route/close with the judge's own model and args: those, after alter0's flags", () => {
    const argv = claudeArgv({ kind: 'claude', model: 'haiku', args: ['--effort', 'low'] }, req('route', null));
    expect(argv).toEqual([
      'claude',
      '-p',
      '--output-format',
      'json',
      '--model',
      'haiku',
      ...CLAUDE_JUDGE_FLAGS,
      '--effort',
      'low',
    ]);
  });
});

describe('codex argv', () => {
  it('execute: new thread, or resume with exec options before the subcommand; prompt from stdin', () => {
    expect(codexArgv({ kind: 'codex', model: '' }, { stage: 'execute', sessionId: null })).toEqual([
      'codex',
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--sandbox',
      'workspace-write',
      '-',
    ]);
    expect(
      codexArgv({ kind: 'codex', model: 'gpt-5', args: ['-c', 'x=1'] }, { stage: 'execute', sessionId: 'th-1' }),
    ).toEqual([
      'codex',
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--sandbox',
      'workspace-write',
      '--model',
      'gpt-5',
      '-c',
      'x=1',
      'resume',
      'th-1',
      '-',
    ]);
  });

  it('approvals.mode becomes the sandbox of execute runs (codex exec cannot ask); judges stay read-only', () => {
    const sandbox = (approvals: 'ask' | 'allow_all' | 'deny_all', stage: 'execute' | 'route') => {
      const argv = codexArgv({ kind: 'codex', approvals }, { stage, sessionId: null });
      return argv[argv.indexOf('--sandbox') + 1];
    };
    expect(sandbox('ask', 'execute')).toBe('workspace-write');
    expect(sandbox('allow_all', 'execute')).toBe('danger-full-access');
    expect(sandbox('deny_all', 'execute')).toBe('read-only');
    expect(sandbox('allow_all', 'route')).toBe('read-only');
  });

  it('route/close: ephemeral, read-only, never resume', () => {
    expect(codexArgv({ kind: 'codex' }, { stage: 'close', sessionId: 'th-1' })).toEqual([
      'codex',
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--sandbox',
      'read-only',
      '--ephemeral',
      '--ignore-rules',
      '-c',
      'project_doc_max_bytes=0',
      '-',
    ]);
    expect(
      codexArgv(
        { kind: 'codex', model: 'gpt-mini', args: ['-c', 'model_reasoning_effort="low"'] },
        { stage: 'route', sessionId: null },
      ).slice(10),
    ).toEqual(['--model', 'gpt-mini', '-c', 'model_reasoning_effort="low"', '-']);
  });
});

/** The adapters end to end over a stand-in binary that prints a real captured sample. */
describe.each([
  ['claude', fixture('claude', 'ok.stdout.json'), 'Hello from fake claude', 'de65bb41-4d81-4b72-bf13-20caa437f3ab'],
  ['codex', fixture('codex', 'ok.stdout.jsonl'), 'Hello from fake codex', '01a21392-7c76-7843-a768-af70529bf7b8'],
] as const)('%s adapter over a stand-in binary', (kind, sample, reply, session) => {
  function executor(extraEnv: Record<string, string>) {
    return createExecutor(
      {
        kind,
        bin: program('fake-cli.mjs'),
        env: { FAKE_CLI_STDOUT: sample, FAKE_CLI_RECORD: join(dir.path, 'rec.json'), ...extraEnv },
      },
      { baseEnv: { PATH: process.env.PATH }, drainMs: 100, spawn: spawner.spawn },
    );
  }

  it('sends the prompt on stdin, the stage in the env, and parses the reply', async () => {
    const res = await executor({}).run(request({ cwd: dir.path, prompt: 'do the thing', sessionId: 'prev' }));
    expect(res.text).toBe(reply);
    expect(res.sessionId).toBe(session);
    const rec = JSON.parse(readFileSync(join(dir.path, 'rec.json'), 'utf8')) as {
      argv: string[];
      stdin: string;
      stage: string;
    };
    expect(rec.stdin).toBe('do the thing');
    expect(rec.stage).toBe('execute');
    expect(rec.argv).toContain(kind === 'claude' ? '--resume' : 'resume');
    expect(rec.argv).toContain('prev');
  });

  it('a failing run becomes a classified ExecutorError with the stderr tail', async () => {
    const err: unknown = await executor({
      FAKE_CLI_STDOUT: '/dev/null',
      FAKE_CLI_EXIT: '1',
      FAKE_CLI_STDERR: fixture('codex', 'resume-missing.stderr.txt'),
    })
      .run(request({ cwd: dir.path }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutorError);
    expect((err as ExecutorError).errorClass).toBe('exit');
    expect((err as ExecutorError).stderrTail).toMatch(/no rollout found/);
  });

  it('probe resolves the binary and reports its --version', async () => {
    const p = await executor({}).probe(AbortSignal.timeout(5000));
    expect(p).toEqual({ kind, ok: true, path: program('fake-cli.mjs'), version: '9.9.9 (fake)', error: null });
  });
});

describe('codex adapter and a long run', () => {
  it('tool output beyond the stdout cap does not crowd out the reply', async () => {
    const big = 'z'.repeat(100 * 1024);
    const lines = [
      JSON.stringify({ type: 'thread.started', thread_id: 'th-long' }),
      JSON.stringify({ type: 'turn.started' }),
    ];
    for (let i = 0; i < 40; i += 1) {
      lines.push(
        JSON.stringify({ type: 'item.started', item: { id: `c${i}`, type: 'command_execution', command: 'ls' } }),
      );
      lines.push(
        JSON.stringify({
          type: 'item.completed',
          item: { id: `c${i}`, type: 'command_execution', aggregated_output: big },
        }),
      );
    }
    lines.push(JSON.stringify({ type: 'item.completed', item: { id: 'm', type: 'agent_message', text: 'all done' } }));
    lines.push(JSON.stringify({ type: 'turn.completed', usage: { input_tokens: 1, output_tokens: 2 } }));
    const sample = join(dir.path, 'long.jsonl');
    writeFileSync(sample, `${lines.join('\n')}\n`);
    const ex = createExecutor(
      { kind: 'codex', bin: program('fake-cli.mjs'), env: { FAKE_CLI_STDOUT: sample }, maxStdoutBytes: 1024 * 1024 },
      { baseEnv: { PATH: process.env.PATH }, drainMs: 100, spawn: spawner.spawn },
    );
    const res = await ex.run(request({ cwd: dir.path }));
    expect(res.text).toBe('all done');
    expect(res.sessionId).toBe('th-long');
  });
});

describe('probe of a missing CLI', () => {
  it('says it is not on PATH and what to do', async () => {
    const p = await createExecutor({ kind: 'codex' }, { baseEnv: { PATH: dir.path } }).probe(AbortSignal.timeout(5000));
    expect(p).toEqual({
      kind: 'codex',
      ok: false,
      path: null,
      version: null,
      error: 'codex: "codex" was not found on PATH; install it or configure its absolute path',
    });
  });
});
