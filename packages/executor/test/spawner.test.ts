import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutorError } from '@alter0/core';
import { DEFAULT_RUNNER_OPTIONS, runProcess } from '../src/run-process.js';
import type { RunSpec, RunnerOptions } from '../src/run-process.js';
import { Spawner } from '../src/spawner.js';
import { NODE, expectGroupGone, isRunning, program, readPids, tempDir, waitForFile } from './helpers.js';

// The cases runProcess has either way (timeout, cancel, caps, drain, ENOENT/EACCES, shutdown kill) run through the
// spawner in run-process.test.ts and process-tree.test.ts; these are the spawner's own: its helper process.

let dir: { path: string; cleanup: () => void };
const spawners: Spawner[] = [];
const started: number[] = [];
beforeEach(() => {
  dir = tempDir();
});
afterEach(async () => {
  for (const s of spawners.splice(0)) await s.close();
  // A failing test must not leave its processes behind.
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  dir.cleanup();
});

function newSpawner(idleMs?: number): { spawner: Spawner; opts: RunnerOptions } {
  const spawner = new Spawner(idleMs === undefined ? {} : { idleMs });
  spawners.push(spawner);
  return { spawner, opts: { ...DEFAULT_RUNNER_OPTIONS, killGraceMs: 500, drainMs: 100, spawn: spawner.spawn } };
}

function spec(argv: string[], over: Partial<RunSpec> = {}): RunSpec {
  return {
    argv,
    cwd: dir.path,
    env: { PATH: process.env.PATH ?? '' },
    stdin: '',
    timeoutMs: 20_000,
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

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() >= deadline) throw new Error(`${what} within ${ms} ms`);
    await delay(20);
  }
}

describe('Spawner', () => {
  it('round trip: stdin in, stdout and stderr out (binary-safe, 2 MiB), exit code and signal', async () => {
    const { opts } = newSpawner();
    const big = 'x'.repeat(2 * 1024 * 1024 - 3) + 'end';
    const echo =
      'process.stdin.pipe(process.stdout); process.stdin.on("end", () => { console.error("é€"); process.exitCode = 7; })';
    const out = await runProcess(spec([NODE, '-e', echo], { stdin: big }), opts);
    expect(out.stdout).toBe(big);
    expect(out.stderrTail).toBe('é€\n');
    expect(out.exitCode).toBe(7);
    const killed = await runProcess(spec([NODE, '-e', 'process.kill(process.pid, "SIGTERM")']), opts);
    expect(killed.exitSignal).toBe('SIGTERM');
    expect(killed.exitCode).toBeNull();
  });

  it('ENOENT through the helper is not_found, and the helper serves the next run', async () => {
    const { opts } = newSpawner();
    const err = await rejection(runProcess(spec(['alter0-no-such-program-xyz']), opts));
    expect(err.errorClass).toBe('not_found');
    expect(err.message).toMatch(/ENOENT/);
    const out = await runProcess(spec([NODE, '-e', 'process.stdout.write("ok")']), opts);
    expect(out.stdout).toBe('ok');
  });

  it('the helper runs with its own small-heap flags, not the NODE_OPTIONS of the process that hosts it', async () => {
    const spawner = new Spawner({ env: { PATH: process.env.PATH, NODE_OPTIONS: '--max-old-space-size=4096' } });
    spawners.push(spawner);
    await runProcess(spec([NODE, '-e', '']), { ...DEFAULT_RUNNER_OPTIONS, spawn: spawner.spawn });
    const pid = spawner.helperPid ?? -1;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv).toContain('--max-semi-space-size=1');
    expect(argv.some((a) => a.endsWith('spawner-helper.js'))).toBe(true);
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toMatch(/NODE_OPTIONS/);
  });

  it('the helper SIGKILLed mid-run: the run fails internal, and nothing of its tree is left running', async () => {
    const { spawner, opts } = newSpawner();
    const pidFile = join(dir.path, 'pids.json');
    const run = rejection(runProcess(spec([NODE, program('session-tool.mjs'), 'hang', pidFile]), opts));
    await waitForFile(pidFile);
    const pids = readPids(pidFile);
    started.push(pids.child, pids.grandchild);
    const helper = spawner.helperPid ?? -1;
    process.kill(helper, 'SIGKILL');
    const err = await run;
    expect(err.errorClass).toBe('internal');
    expect(err.message).toMatch(
      new RegExp(`helper process \\(pid ${helper}\\) exited with SIGKILL while the agent ran`),
    );
    await until(
      'the CLI and its tool (own session) die',
      () => !isRunning(pids.child) && !isRunning(pids.grandchild),
      4000,
    );
    await expectGroupGone(pids.child);
    expect(spawner.helperPid).toBeNull();
    // The next run starts a new helper.
    const out = await runProcess(spec([NODE, '-e', 'process.stdout.write("again")']), opts);
    expect(out.stdout).toBe('again');
    expect(spawner.helperPid).not.toBe(helper);
  });

  it('the host process SIGKILLed: the helper kills every group it started, the tools in their own sessions too, and exits', async () => {
    const pidFile = join(dir.path, 'pids.json');
    const info = join(dir.path, 'host.json');
    const host = spawn(
      NODE,
      [program('spawner-host.mjs'), info, dir.path, NODE, program('session-tool.mjs'), 'hang', pidFile],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        cwd: join(import.meta.dirname, '..'),
      },
    );
    const hostExit = new Promise((resolve) => host.once('exit', resolve));
    if (host.pid !== undefined) started.push(host.pid);
    await waitForFile(pidFile);
    await waitForFile(info);
    const pids = readPids(pidFile);
    const { helper } = JSON.parse(readFileSync(info, 'utf8')) as { helper: number };
    started.push(pids.child, pids.grandchild, helper);
    expect([pids.child, pids.grandchild, helper].every(isRunning)).toBe(true);
    host.kill('SIGKILL');
    await hostExit;
    const gone = (): boolean => ![helper, pids.child, pids.grandchild].some(isRunning);
    await until('the helper, the CLI and its tool are gone', gone, 2000);
    await expectGroupGone(pids.child);
  });

  it('idles out with no child running, and starts again on demand', async () => {
    const { spawner, opts } = newSpawner(300);
    await runProcess(spec([NODE, '-e', '']), opts);
    const first = spawner.helperPid ?? -1;
    expect(isRunning(first)).toBe(true);
    await until('the idle helper exits', () => !isRunning(first) && spawner.helperPid === null, 5000);
    const out = await runProcess(spec([NODE, '-e', 'process.stdout.write("back")']), opts);
    expect(out.stdout).toBe('back');
    expect(spawner.helperPid).not.toBeNull();
    expect(spawner.helperPid).not.toBe(first);
  });

  it('does not idle out while a child runs', async () => {
    const { spawner, opts } = newSpawner(100);
    const out = await runProcess(spec([NODE, '-e', 'setTimeout(() => process.stdout.write("slow"), 800)']), opts);
    expect(out.stdout).toBe('slow');
    expect(spawner.helperPid).not.toBeNull();
  });

  it('close: a run in flight fails and its group is killed; later spawns are refused', async () => {
    const { spawner, opts } = newSpawner();
    const pidFile = join(dir.path, 'pids.json');
    const run = rejection(runProcess(spec([NODE, program('tree.mjs'), 'hang', pidFile]), opts));
    await waitForFile(pidFile);
    const pids = readPids(pidFile);
    started.push(pids.child, pids.grandchild);
    await spawner.close();
    expect((await run).errorClass).toBe('internal');
    await expectGroupGone(pids.child);
    const refused = await rejection(runProcess(spec([NODE, '-e', '']), opts));
    expect(refused.errorClass).toBe('internal');
    expect(refused.message).toMatch(/spawner is closed/);
  });
});
