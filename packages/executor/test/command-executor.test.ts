import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ExecutorError } from '@alter0/core';
import type { Executor } from '@alter0/core';
import { createExecutor } from '../src/create-executor.js';
import type { ExecutorDeps } from '../src/config.js';
import { Spawner } from '../src/spawner.js';
import { NODE, program, request, tempDir } from './helpers.js';

// The runs go through a spawner's helper process, as in the daemon.
const spawner = new Spawner();
afterAll(() => spawner.close());
const DEPS: ExecutorDeps = { baseEnv: { PATH: process.env.PATH }, drainMs: 100, spawn: spawner.spawn };

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

function replyExecutor(mode: string, ...rest: string[]): Executor {
  return createExecutor(
    {
      kind: 'command',
      argv: [NODE, program('reply.mjs'), mode, ...rest],
      env: { EXTRA_VAR: 'extra' },
      killGraceMs: 500,
    },
    DEPS,
  );
}

async function failure(p: Promise<unknown>): Promise<ExecutorError> {
  const err: unknown = await p.then(
    () => new Error('expected the run to fail'),
    (e: unknown) => e,
  );
  if (!(err instanceof ExecutorError)) throw err;
  return err;
}

describe('command executor', () => {
  it('replies with stdout minus one trailing newline', async () => {
    const res = await replyExecutor('echo').run(request({ cwd: dir.path, prompt: 'ping' }));
    expect(res.text).toBe('got: ping');
    expect(res.usage).toBeNull();
    expect(res.pid).toBeGreaterThan(0);
    const two = await replyExecutor('two-newlines').run(request({ cwd: dir.path }));
    expect(two.text).toBe('line\n');
  });

  it('passes stage, task, job, session and configured env to the program', async () => {
    const res = await replyExecutor('env').run(
      request({ cwd: dir.path, stage: 'route', taskId: 't_9', jobId: null, sessionId: 's_1' }),
    );
    expect(JSON.parse(res.text)).toEqual({
      ALTER0_STAGE: 'route',
      ALTER0_TASK_ID: 't_9',
      ALTER0_JOB_ID: '',
      ALTER0_SESSION_ID: 's_1',
      EXTRA_VAR: 'extra',
    });
  });

  it('takes the session id a program announces on stderr, else keeps the request one', async () => {
    const announced = await replyExecutor('session').run(request({ cwd: dir.path, sessionId: 'old' }));
    expect(announced.sessionId).toBe('sess-42');
    expect(announced.stderrTail).toContain('some log line');
    const kept = await replyExecutor('echo').run(request({ cwd: dir.path, sessionId: 'old' }));
    expect(kept.sessionId).toBe('old');
    const none = await replyExecutor('echo').run(request({ cwd: dir.path, sessionId: null }));
    expect(none.sessionId).toBeNull();
  });

  it('non-zero exit is `exit` with the stderr in the message and the tail kept', async () => {
    const err = await failure(replyExecutor('fail', '4', 'disk on fire').run(request({ cwd: dir.path })));
    expect(err.errorClass).toBe('exit');
    expect(err.exitCode).toBe(4);
    expect(err.message).toBe('node failed with exit code 4 (disk on fire); see the stderr tail for the cause');
    expect(err.stderrTail).toBe('disk on fire\n');
    expect(err.retryable).toBe(false);
  });

  it('classifies stderr of a failed program (rate limit → retryable)', async () => {
    const err = await failure(replyExecutor('fail', '1', 'HTTP 429 Too Many Requests').run(request({ cwd: dir.path })));
    expect(err.errorClass).toBe('rate_limited');
    expect(err.retryable).toBe(true);
  });

  it('a shell saying "not found" (127) is not_found', async () => {
    const ex = createExecutor({ kind: 'command', argv: ['sh', '-c', 'alter0-no-such-tool-xyz'] }, DEPS);
    const err = await failure(ex.run(request({ cwd: dir.path })));
    expect(err.errorClass).toBe('not_found');
  });

  it('empty stdout on exit 0 is bad_output', async () => {
    const err = await failure(replyExecutor('empty').run(request({ cwd: dir.path })));
    expect(err.errorClass).toBe('bad_output');
    expect(err.message).toMatch(/printed nothing on stdout/);
  });

  it('a missing program is not_found', async () => {
    const ex = createExecutor({ kind: 'command', argv: ['alter0-no-such-program-xyz'] }, DEPS);
    const err = await failure(ex.run(request({ cwd: dir.path })));
    expect(err.errorClass).toBe('not_found');
  });

  it('timeout and cancel come through as their classes', async () => {
    const ex = createExecutor(
      { kind: 'command', argv: [NODE, '-e', 'setInterval(() => {}, 1000)'], killGraceMs: 300 },
      DEPS,
    );
    const t = await failure(ex.run(request({ cwd: dir.path, timeoutMs: 300 })));
    expect(t.errorClass).toBe('timeout');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const c = await failure(ex.run(request({ cwd: dir.path, signal: ac.signal })));
    expect(c.errorClass).toBe('canceled');
  });

  it('a relative program path is anchored where alter0 started, not in the task workspace', async () => {
    const rel = relative(process.cwd(), program('fake-cli.mjs'));
    const ex = createExecutor({ kind: 'command', argv: [rel.includes('/') ? rel : `./${rel}`, '--version'] }, DEPS);
    const res = await ex.run(request({ cwd: dir.path }));
    expect(res.text).toBe('9.9.9 (fake)');
  });

  it('probe finds the program without running it', async () => {
    const ok = await replyExecutor('echo').probe(AbortSignal.timeout(5000));
    expect(ok).toEqual({ kind: 'command', ok: true, path: NODE, version: null, error: null });
    const missing = await createExecutor({ kind: 'command', argv: ['alter0-no-such-program-xyz'] }, DEPS).probe(
      AbortSignal.timeout(5000),
    );
    expect(missing.ok).toBe(false);
    expect(missing.path).toBeNull();
    expect(missing.error).toMatch(/was not found on PATH; install it or configure its absolute path/);
    const byPath = await createExecutor({ kind: 'command', argv: [join(dir.path, 'nope')] }, DEPS).probe(
      AbortSignal.timeout(5000),
    );
    expect(byPath.error).toMatch(/was not found or is not executable/);
  });

  it('rejects configs that cannot work', () => {
    expect(() => createExecutor({ kind: 'command', argv: [] }, DEPS)).toThrow(ConfigError);
    expect(() => createExecutor({ kind: 'command', argv: ['x'], killGraceMs: 0 }, DEPS)).toThrow(/killGraceMs/);
    expect(() => createExecutor({ kind: 'claude', bin: '' }, DEPS)).toThrow(/bin is empty/);
  });
});
