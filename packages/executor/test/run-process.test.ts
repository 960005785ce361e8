import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutorError } from '@alter0/core';
import { ProcessGroups } from '../src/process-group.js';
import { DEFAULT_RUNNER_OPTIONS, runProcess, spawnInProcess } from '../src/run-process.js';
import { Spawner } from '../src/spawner.js';
import type { RunSpec, RunnerOptions } from '../src/run-process.js';
import { NODE, expectGroupGone, isRunning, program, readPids, tempDir, waitForFile } from './helpers.js';

// Every case runs twice: with node's spawn in this process, and through the spawner's helper process (the daemon's way).
const spawner = new Spawner();
afterAll(() => spawner.close());

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

function spec(argv: string[], over: Partial<RunSpec> = {}): RunSpec {
  return {
    argv,
    cwd: dir.path,
    env: { PATH: process.env.PATH ?? '' },
    stdin: '',
    timeoutMs: 10_000,
    signal: new AbortController().signal,
    label: 'test',
    ...over,
  };
}

async function rejection(p: Promise<unknown>): Promise<ExecutorError> {
  const err: unknown = await p.then(
    () => new Error('expected the run to fail'),
    (e: unknown) => e,
  );
  if (!(err instanceof ExecutorError)) throw err;
  return err;
}

describe.each([
  ['in process', spawnInProcess],
  ['through the spawner', spawner.spawn],
])('runProcess (%s)', (_how, spawn) => {
  const OPTS: RunnerOptions = { ...DEFAULT_RUNNER_OPTIONS, killGraceMs: 500, drainMs: 100, spawn };

  it('passes the prompt on stdin and returns stdout, exit code and pid', async () => {
    const out = await runProcess(spec([NODE, program('reply.mjs')], { stdin: 'hi there' }), OPTS);
    expect(out.stdout).toBe('got: hi there\n');
    expect(out.exitCode).toBe(0);
    expect(out.exitSignal).toBeNull();
    expect(out.pid).toBeGreaterThan(0);
    await expectGroupGone(out.pid);
  });

  it('reports a non-zero exit code without rejecting, and keeps stderr', async () => {
    const out = await runProcess(spec([NODE, program('reply.mjs'), 'fail', '3', 'bad thing']), OPTS);
    expect(out.exitCode).toBe(3);
    expect(out.stderrTail).toBe('bad thing\n');
  });

  it('runs no shell: metacharacters reach the program verbatim', async () => {
    const out = await runProcess(spec([NODE, '-e', 'console.log(process.argv[1])', '$(echo pwned); `id`']), OPTS);
    expect(out.stdout).toBe('$(echo pwned); `id`\n');
  });

  it('stops a program that floods stdout past the cap (bad_output) and kills it', async () => {
    const started = Date.now();
    const err = await rejection(
      runProcess(spec([NODE, program('flood.mjs'), '64']), { ...OPTS, maxStdoutBytes: 256 * 1024 }),
    );
    expect(err.errorClass).toBe('bad_output');
    expect(err.message).toMatch(/more than 262144 bytes/);
    // Stopped at the cap, not after the 64 MiB (with room for a cold Node start on a loaded machine).
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('with a line filter, dropped lines do not count against the cap', async () => {
    const script =
      'for (let i = 0; i < 2048; i++) process.stdout.write("drop " + "x".repeat(1000) + "\\n");' +
      'process.stdout.write("keep 1\\nkeep 2")';
    const out = await runProcess(spec([NODE, '-e', script], { keepStdoutLine: (l) => l.startsWith('keep') }), {
      ...OPTS,
      maxStdoutBytes: 64 * 1024,
    });
    expect(out.stdout).toBe('keep 1\nkeep 2');
  });

  it('with a line filter, one unfinished line over the cap is still an overflow', async () => {
    const err = await rejection(
      runProcess(spec([NODE, '-e', 'process.stdout.write("y".repeat(300000))'], { keepStdoutLine: () => true }), {
        ...OPTS,
        maxStdoutBytes: 64 * 1024,
      }),
    );
    expect(err.errorClass).toBe('bad_output');
  });

  it('keeps only the tail of a large stderr', async () => {
    const out = await runProcess(spec([NODE, program('flood.mjs'), '1', 'stderr']), {
      ...OPTS,
      stderrTailBytes: 4096,
    });
    expect(out.stderrTail.length).toBeLessThanOrEqual(4096);
    expect(out.stderrTail.endsWith('END-MARKER\n')).toBe(true);
  });

  it('times out: kills the whole group, grandchild included', async () => {
    const pidFile = join(dir.path, 'pids.json');
    const started = Date.now();
    const err = await rejection(
      runProcess(spec([NODE, program('tree.mjs'), 'hang', pidFile], { timeoutMs: 700 }), OPTS),
    );
    expect(err.errorClass).toBe('timeout');
    expect(err.message).toMatch(/did not finish within 700 ms/);
    // Ended by the 700 ms timeout, not the hang (a loaded machine needs seconds to start and stop the tree).
    expect(Date.now() - started).toBeLessThan(700 + OPTS.killGraceMs + 10_000);
    const pids = readPids(pidFile);
    await expectGroupGone(pids.child);
    expect(isRunning(pids.grandchild)).toBe(false);
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const pidFile = join(dir.path, 'pids.json');
    const started = Date.now();
    const err = await rejection(
      runProcess(spec([NODE, program('tree.mjs'), 'ignore-term', pidFile], { timeoutMs: 500 }), {
        ...OPTS,
        killGraceMs: 300,
      }),
    );
    expect(err.errorClass).toBe('timeout');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(500 + 300 - 50);
    expect(elapsed).toBeLessThan(500 + 300 + 10_000);
    const pids = readPids(pidFile);
    await expectGroupGone(pids.child);
    expect(isRunning(pids.grandchild)).toBe(false);
  });

  it('abort: rejects canceled and kills the group', async () => {
    const pidFile = join(dir.path, 'pids.json');
    const ac = new AbortController();
    const run = runProcess(spec([NODE, program('tree.mjs'), 'hang', pidFile], { signal: ac.signal }), OPTS);
    await waitForFile(pidFile);
    ac.abort();
    const err = await rejection(run);
    expect(err.errorClass).toBe('canceled');
    const pids = readPids(pidFile);
    await expectGroupGone(pids.child);
    expect(isRunning(pids.grandchild)).toBe(false);
  });

  it('does not start at all when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const marker = join(dir.path, 'ran');
    const err = await rejection(
      runProcess(
        spec([NODE, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`], { signal: ac.signal }),
        OPTS,
      ),
    );
    expect(err.errorClass).toBe('canceled');
    expect(() => readPids(marker)).toThrow();
  });

  it('resolves promptly when a grandchild keeps the pipes open after the child exits, and kills it', async () => {
    const pidFile = join(dir.path, 'pids.json');
    const out = await runProcess(spec([NODE, program('tree.mjs'), 'exit-holding', pidFile]), OPTS);
    // Measured from the child's exit (it writes the pid file just before), not from the two cold Node starts
    // before it: the run waits drainMs for the pipes, then kills the group (at worst grace + 2 s for a SIGKILL).
    // Without the drain bound it would never settle: the grandchild holds the pipes forever.
    const sinceChildExit = Date.now() - statSync(pidFile).mtimeMs;
    expect(sinceChildExit).toBeLessThan(OPTS.drainMs + OPTS.killGraceMs + 2000 + 2000);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe('started\n');
    const pids = readPids(pidFile);
    expect(isRunning(pids.grandchild)).toBe(false);
    await expectGroupGone(pids.child);
  });

  it('survives a program that never reads its stdin (EPIPE)', async () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    const out = await runProcess(spec([NODE, '-e', 'process.stdout.write("done")'], { stdin: big }), OPTS);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe('done');
  });

  it('a timeout too large for a timer does not fire at once', async () => {
    const out = await runProcess(
      spec([NODE, '-e', 'setTimeout(() => console.log("late"), 100)'], { timeoutMs: 2 ** 40 }),
      OPTS,
    );
    expect(out.stdout).toBe('late\n');
  });

  it('ENOENT: a missing program is not_found', async () => {
    const err = await rejection(runProcess(spec(['alter0-no-such-program-xyz', '--flag']), OPTS));
    expect(err.errorClass).toBe('not_found');
    expect(err.message).toMatch(/"alter0-no-such-program-xyz" was not found/);
  });

  it('EACCES: a file that is not executable is not_found with a chmod hint', async () => {
    const file = join(dir.path, 'not-exec.sh');
    writeFileSync(file, '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o644);
    const err = await rejection(runProcess(spec([file]), OPTS));
    expect(err.errorClass).toBe('not_found');
    expect(err.message).toMatch(/cannot be executed \(EACCES\).*chmod \+x/);
  });

  it('a missing working directory is reported as such, not as a missing program', async () => {
    const err = await rejection(runProcess(spec([NODE, '-e', ''], { cwd: join(dir.path, 'nope') }), OPTS));
    expect(err.errorClass).toBe('internal');
    expect(err.message).toMatch(/working directory .*nope does not exist/);
  });

  it('ProcessGroups.killAll kills runs in flight (shutdown)', async () => {
    const groups = new ProcessGroups();
    const pidFile = join(dir.path, 'pids.json');
    const run = runProcess(spec([NODE, program('tree.mjs'), 'hang', pidFile]), { ...OPTS, groups });
    await waitForFile(pidFile);
    expect(groups.size).toBe(1);
    expect(groups.killAll()).toBe(1);
    const out = await run;
    expect(out.exitSignal).toBe('SIGKILL');
    const pids = readPids(pidFile);
    expect(isRunning(pids.grandchild)).toBe(false);
    await expectGroupGone(pids.child);
    expect(groups.size).toBe(0);
  });
});
