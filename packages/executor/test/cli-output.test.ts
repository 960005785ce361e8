import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExecutorError } from '@alter0/core';
import type { ErrorClass, ExecRequest } from '@alter0/core';
import { claudeResult } from '../src/claude-executor.js';
import { parseClaudeOutput } from '../src/claude-output.js';
import { codexResult } from '../src/codex-executor.js';
import { codexLineNeeded, parseCodexEvents } from '../src/codex-output.js';
import type { RunOutcome } from '../src/run-process.js';
import { SessionNotFoundError } from '../src/session-lost.js';
import { fixture, readFixture } from './helpers.js';

type Req = Pick<ExecRequest, 'stage' | 'sessionId'>;
const EXECUTE: Req = { stage: 'execute', sessionId: null };

function outcome(stdout: string, exitCode: number | null, stderr = ''): RunOutcome {
  return { exitCode, exitSignal: null, stdout, stderrTail: stderr, pid: 1234, durationMs: 42 };
}

function failureOf(fn: () => unknown): ExecutorError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ExecutorError) return err;
    throw err;
  }
  throw new Error('expected an ExecutorError');
}

/** Our own captures (test/fixtures/claude, test/fixtures/codex; see fixtures/README.md). */
describe('claude result parsing (own captures)', () => {
  it('success: reply, session, usage and cost', () => {
    const res = claudeResult(EXECUTE, outcome(readFixture('claude', 'ok.stdout.json'), 0));
    expect(res.text).toBe('Hello from fake claude');
    expect(res.sessionId).toBe('de65bb41-4d81-4b72-bf13-20caa437f3ab');
    expect(res.usage).toEqual({ inputTokens: 12, outputTokens: 7, cacheReadTokens: 0, costUsd: 0.000188 });
    expect(res.pid).toBe(1234);
  });

  it('router/closer calls hand out no session id', () => {
    const res = claudeResult(
      { stage: 'route', sessionId: 'task-session' },
      outcome(readFixture('claude', 'ok.stdout.json'), 0),
    );
    expect(res.sessionId).toBeNull();
  });

  it.each([
    ['401', 'auth', /credentials were refused \(HTTP 401: Invalid API key/],
    ['429', 'rate_limited', /rate limited/],
    ['500', 'unavailable', /HTTP 500/],
    ['garbage', 'unavailable', /malformed response/],
    ['not-logged-in', 'auth', /Not logged in.*run `claude` once interactively/],
  ] as const)('is_error result %s → %s', (name, cls, message) => {
    const err = failureOf(() => claudeResult(EXECUTE, outcome(readFixture('claude', `${name}.stdout.json`), 1)));
    expect(err.errorClass).toBe(cls);
    expect(err.message).toMatch(message);
    expect(err.exitCode).toBe(1);
  });

  it('a missing session to resume is SessionNotFoundError (exit, not retryable)', () => {
    const err = failureOf(() =>
      claudeResult(
        { stage: 'execute', sessionId: '00000000-0000-4000-8000-000000000000' },
        outcome('', 1, readFixture('claude', 'resume-missing.stderr.txt')),
      ),
    );
    expect(err).toBeInstanceOf(SessionNotFoundError);
    expect(err.errorClass).toBe('exit');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/clear the task's session/);
  });

  it('garbage on stdout with exit 0 is bad_output; with exit 1 it is classified from stderr', () => {
    const bad = failureOf(() => claudeResult(EXECUTE, outcome('Welcome to Claude!\nnot json', 0)));
    expect(bad.errorClass).toBe('bad_output');
    expect(bad.message).toMatch(/no JSON result on stdout: stdout is not JSON/);
    const wrongShape = failureOf(() => claudeResult(EXECUTE, outcome('{"type":"assistant"}', 0)));
    expect(wrongShape.errorClass).toBe('bad_output');
    expect(wrongShape.message).toMatch(/not a result object: type/);
    const crashed = failureOf(() => claudeResult(EXECUTE, outcome('', 1, 'Error: ECONNREFUSED 127.0.0.1:9\n')));
    expect(crashed.errorClass).toBe('unavailable');
    const plain = failureOf(() => claudeResult(EXECUTE, outcome('', 2, 'error: unknown option --frobnicate\n')));
    expect(plain.errorClass).toBe('exit');
    expect(plain.message).toMatch(/exit code 2 \(error: unknown option --frobnicate\)/);
  });

  it('a result that is neither an error nor a reply is bad_output; error subtypes are classified', () => {
    const noText = failureOf(() =>
      claudeResult(EXECUTE, outcome('{"type":"result","subtype":"success","is_error":false}', 0)),
    );
    expect(noText.errorClass).toBe('bad_output');
    expect(noText.message).toMatch(/without reply text/);
    const maxTurns = failureOf(() =>
      claudeResult(EXECUTE, outcome('{"type":"result","subtype":"error_max_turns","is_error":true}', 1)),
    );
    expect(maxTurns.errorClass).toBe('exit');
    expect(maxTurns.message).toMatch(/result subtype error_max_turns/);
  });

  it('finds the result on the last line when something precedes it', () => {
    const parsed = parseClaudeOutput(`some banner\n${readFixture('claude', 'ok.stdout.json')}`);
    expect(parsed.ok).toBe(true);
  });
});

describe('codex event parsing (own captures)', () => {
  it('success: last agent message, thread id, usage; warning items and notices ignored', () => {
    const run = parseCodexEvents(readFixture('codex', 'ok.stdout.jsonl'));
    expect(run).toMatchObject({
      threadId: '01a21392-7c76-7843-a768-af70529bf7b8',
      reply: 'Hello from fake codex',
      turnCompleted: true,
      failure: null,
      garbage: 0,
    });
    const res = codexResult(EXECUTE, outcome(readFixture('codex', 'ok.stdout.jsonl'), 0));
    expect(res.text).toBe('Hello from fake codex');
    expect(res.sessionId).toBe('01a21392-7c76-7843-a768-af70529bf7b8');
    expect(res.usage).toEqual({ inputTokens: 20, outputTokens: 6, cacheReadTokens: 4 });
  });

  it('a resumed turn keeps the thread id', () => {
    const res = codexResult(
      { stage: 'execute', sessionId: '01a21392-7c76-7843-a768-af70529bf7b8' },
      outcome(readFixture('codex', 'resume.stdout.jsonl'), 0),
    );
    expect(res.sessionId).toBe('01a21392-7c76-7843-a768-af70529bf7b8');
  });

  it('router/closer calls hand out no thread id', () => {
    const res = codexResult({ stage: 'close', sessionId: null }, outcome(readFixture('codex', 'ok.stdout.jsonl'), 0));
    expect(res.sessionId).toBeNull();
  });

  it.each([
    ['401', 'auth'],
    ['429', 'rate_limited'],
    ['500', 'unavailable'],
    ['garbage', 'unavailable'],
    ['no-key', 'auth'],
  ] as const)('turn.failed %s → %s', (name, cls) => {
    const err = failureOf(() =>
      codexResult(
        EXECUTE,
        outcome(readFixture('codex', `${name}.stdout.jsonl`), 1, readFixture('codex', `${name}.stderr.txt`)),
      ),
    );
    expect(err.errorClass).toBe(cls);
  });

  it('a missing thread to resume is SessionNotFoundError', () => {
    const err = failureOf(() =>
      codexResult(
        { stage: 'execute', sessionId: '01a21392-0000-7000-8000-000000000000' },
        outcome('', 1, readFixture('codex', 'resume-missing.stderr.txt')),
      ),
    );
    expect(err).toBeInstanceOf(SessionNotFoundError);
    expect(err.message).toMatch(/no rollout found for thread id/);
  });

  it('garbage, a stream without turn.completed, or no agent message is bad_output', () => {
    expect(failureOf(() => codexResult(EXECUTE, outcome('not json\n', 0))).message).toMatch(
      /no JSON events.*1 unparsable/,
    );
    const noTurn = '{"type":"thread.started","thread_id":"t"}\n{"type":"turn.started"}\n';
    expect(failureOf(() => codexResult(EXECUTE, outcome(noTurn, 0))).message).toMatch(/without turn.completed/);
    const noReply = `${noTurn}{"type":"turn.completed","usage":{"input_tokens":1,"output_tokens":0}}\n`;
    const err = failureOf(() => codexResult(EXECUTE, outcome(noReply, 0)));
    expect(err.errorClass).toBe('bad_output');
    expect(err.message).toMatch(/without an agent message/);
  });

  it('keeps the lines the parser needs and drops tool output', () => {
    expect(codexLineNeeded('{"type":"thread.started","thread_id":"t"}')).toBe(true);
    expect(codexLineNeeded('{"type":"item.completed","item":{"type":"agent_message","text":"hi"}}')).toBe(true);
    expect(codexLineNeeded('{"type":"turn.completed","usage":{}}\n')).toBe(true);
    expect(codexLineNeeded('{"type":"turn.failed","error":{"message":"x"}}')).toBe(true);
    expect(codexLineNeeded('{"type":"error","message":"x"}')).toBe(true);
    expect(codexLineNeeded('not json')).toBe(true);
    expect(
      codexLineNeeded('{"type":"item.completed","item":{"type":"command_execution","aggregated_output":"…"}}'),
    ).toBe(false);
    expect(codexLineNeeded('{"type":"item.started","item":{"type":"command_execution"}}')).toBe(false);
    expect(codexLineNeeded('{"type":"turn.started"}')).toBe(false);
    expect(codexLineNeeded('  ')).toBe(false);
  });

  it('turn.failed is a failure even on exit 0; a Reconnecting notice alone is not', () => {
    const failed =
      '{"type":"turn.failed","error":{"message":"exceeded retry limit, last status: 429 Too Many Requests"}}\n';
    expect(failureOf(() => codexResult(EXECUTE, outcome(failed, 0))).errorClass).toBe('rate_limited');
    const recovered =
      '{"type":"error","message":"Reconnecting... 1/2 (stream disconnected)"}\n' +
      '{"type":"item.completed","item":{"type":"agent_message","text":"fine"}}\n' +
      '{"type":"turn.completed"}\n';
    expect(codexResult(EXECUTE, outcome(recovered, 0)).text).toBe('fine');
  });
});

interface CaptureStep {
  scenario: string;
  step: number;
  cli: 'claude' | 'codex';
  argv: string[];
  exit_code: number | null;
  exit_signal: NodeJS.Signals | null;
  timed_out: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Every step the fakes engineer recorded with the real CLIs (packages/fakes/captures, copied to
 * fixtures/fakes-captures.json), with the outcome alter0 must draw from it. Steps the caller
 * timed out are the runner's business (timeout), not the parser's.
 */
const EXPECTED: Record<string, Array<{ reply: string } | { cls: ErrorClass; lost?: true }>> = {
  'claude-401': [{ cls: 'auth' }],
  'claude-429-no-retry': [{ cls: 'rate_limited' }],
  'claude-429-then-ok': [{ reply: 'recovered' }],
  'claude-500-then-ok': [{ reply: 'recovered' }],
  'claude-500': [{ cls: 'unavailable' }],
  'claude-529-retries': [{ cls: 'unavailable' }],
  'claude-529': [{ cls: 'unavailable' }],
  'claude-hang-api-timeout': [{ cls: 'unavailable' }],
  'claude-malformed-then-ok': [{ reply: 'recovered' }],
  'claude-malformed': [{ cls: 'unavailable' }],
  'claude-no-session-persistence': [{ reply: '{"decision":"new"}' }, { cls: 'exit', lost: true }],
  'claude-prompt-argv': [{ reply: 'OK' }],
  'claude-stream-error': [{ cls: 'unavailable' }],
  'claude-success-resume': [{ reply: 'OK' }, { reply: 'You asked me to remember PELICAN.' }],
  'claude-truncated': [{ cls: 'unavailable' }],
  'codex-401': [{ cls: 'auth' }],
  'codex-429-no-retry': [{ cls: 'rate_limited' }],
  'codex-429-then-ok': [{ reply: 'recovered' }],
  'codex-500-then-ok': [{ reply: 'recovered' }],
  'codex-500': [{ cls: 'unavailable' }],
  'codex-503': [{ cls: 'unavailable' }],
  'codex-ephemeral': [{ reply: '{"decision":"new"}' }, { cls: 'exit', lost: true }],
  'codex-hang-idle-timeout': [{ cls: 'unavailable' }],
  'codex-malformed': [{ cls: 'unavailable' }],
  'codex-not-found-cwd': [{ cls: 'exit' }],
  'codex-response-failed-overloaded': [{ cls: 'unavailable' }],
  'codex-response-failed-rate-limited': [{ cls: 'rate_limited' }],
  'codex-success-resume': [{ reply: 'OK' }, { reply: 'You asked me to remember PELICAN.' }],
  'codex-truncated-then-ok': [{ reply: 'recovered' }],
  'codex-truncated': [{ cls: 'unavailable' }],
  'codex-unknown-model': [{ reply: 'OK' }],
};

describe('real CLI captures from packages/fakes', () => {
  const captures = JSON.parse(readFileSync(fixture('fakes-captures.json'), 'utf8')) as { steps: CaptureStep[] };
  const steps = captures.steps.filter((s) => !s.timed_out);

  it('covers every recorded scenario', () => {
    expect(new Set(steps.map((s) => s.scenario))).toEqual(new Set(Object.keys(EXPECTED)));
  });

  it.each(steps.map((s) => [`${s.scenario}#${s.step}`, s] as const))('%s', (_name, s) => {
    const expected = EXPECTED[s.scenario]?.[s.step];
    if (expected === undefined) throw new Error(`no expectation for ${s.scenario} step ${s.step}`);
    const resumeAt = s.cli === 'claude' ? s.argv.indexOf('--resume') : s.argv.indexOf('resume');
    const req: Req = { stage: 'execute', sessionId: resumeAt < 0 ? null : (s.argv[resumeAt + 1] ?? null) };
    const out: RunOutcome = {
      exitCode: s.exit_code,
      exitSignal: s.exit_signal,
      stdout: s.stdout,
      stderrTail: s.stderr,
      pid: 1,
      durationMs: 1,
    };
    const interpret = (): unknown => (s.cli === 'claude' ? claudeResult(req, out) : codexResult(req, out));
    if ('reply' in expected) {
      expect(interpret()).toMatchObject({ text: expected.reply });
      return;
    }
    const err = failureOf(interpret);
    expect(err.errorClass).toBe(expected.cls);
    expect(err instanceof SessionNotFoundError).toBe(expected.lost === true);
  });
});
