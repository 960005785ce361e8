import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutorError, newId } from '@alter0/core';
import { ProcessGroups, jobProcesses, killJobProcesses, readStat, treeGroups } from '../src/process-group.js';
import { DEFAULT_RUNNER_OPTIONS, runProcess, spawnInProcess } from '../src/run-process.js';
import { Spawner } from '../src/spawner.js';
import type { RunSpec, RunnerOptions } from '../src/run-process.js';
import { NODE, isRunning, program, readPids, tempDir, waitForFile } from './helpers.js';

// The shape of claude's Bash tool: the CLI (own group) starts a tool in a session of its own.
const TOOL = program('session-tool.mjs');
const spawner = new Spawner();
afterAll(() => spawner.close());

let dir: { path: string; cleanup: () => void };
const started: number[] = [];
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
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

async function pidsOf(file: string): Promise<{ child: number; grandchild: number }> {
  await waitForFile(file);
  const pids = readPids(file);
  started.push(pids.child, pids.grandchild);
  return pids;
}

async function untilDead(pids: readonly number[], ms = 15_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = pids.filter(isRunning);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await delay(25);
  }
}

/** The session-tool CLI run directly, detached as the runner does, with `env` on top of ours. */
function startCli(mode: string, pidFile: string, env: Record<string, string> = {}): void {
  const cli = spawn(NODE, [TOOL, mode, pidFile], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
  cli.unref();
}

async function canceled(run: Promise<unknown>, ac: AbortController): Promise<void> {
  ac.abort();
  const err: unknown = await run.then(
    () => new Error('expected the run to be canceled'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExecutorError);
  expect((err as ExecutorError).errorClass).toBe('canceled');
}

// The runs go through node's spawn in this process and through the spawner's helper process (the daemon's way).
describe.each([
  ['in process', spawnInProcess],
  ['through the spawner', spawner.spawn],
])('process trees (%s)', (_how, spawn) => {
  const TINY_GRACE: RunnerOptions = { ...DEFAULT_RUNNER_OPTIONS, killGraceMs: 1, drainMs: 100, spawn };

  it('treeGroups: the group, and the group of a tool started in a session of its own', async () => {
    const pidFile = join(dir.path, 'pids.json');
    startCli('hang', pidFile);
    const pids = await pidsOf(pidFile);
    const groups = treeGroups(pids.child);
    expect(groups).toContain(pids.child);
    // The tool leads its own session, hence its own group.
    expect(groups).toContain(pids.grandchild);
    expect(groups).not.toContain(readStat(process.pid)?.pgrp);
  });

  it('treeGroups of a group with no members is just that group', () => {
    // Above the largest pid_max Linux allows: no process or group can have this id.
    expect(treeGroups(2 ** 22 + 1)).toEqual([2 ** 22 + 1]);
  });

  it('cancel with a tiny kill grace leaves no process of the tree alive', async () => {
    const pidFile = join(dir.path, 'pids.json');
    const ac = new AbortController();
    const run = runProcess(spec([NODE, TOOL, 'hang', pidFile], { signal: ac.signal }), TINY_GRACE);
    const pids = await pidsOf(pidFile);
    await canceled(run, ac);
    // terminateGroup settles only once every group of the tree is gone: no waiting here.
    expect(isRunning(pids.child)).toBe(false);
    expect(isRunning(pids.grandchild)).toBe(false);
  });

  it('a tool that ignores SIGTERM and was orphaned by the CLI dying of it still gets the SIGKILL', async () => {
    const pidFile = join(dir.path, 'pids.json');
    const ac = new AbortController();
    const run = runProcess(spec([NODE, TOOL, 'tool-ignores-term', pidFile], { signal: ac.signal }), {
      ...TINY_GRACE,
      killGraceMs: 300,
    });
    const pids = await pidsOf(pidFile);
    await canceled(run, ac);
    expect(isRunning(pids.child)).toBe(false);
    expect(isRunning(pids.grandchild)).toBe(false);
  });

  it('a tool started during the kill grace is found by the second look before the SIGKILL', async () => {
    const pidFile = join(dir.path, 'pids.json');
    const ac = new AbortController();
    // The CLI must get scheduled, run its SIGTERM handler and start the late tool within the grace: generous
    // for a loaded machine (the run takes the whole grace, since the CLI ignores SIGTERM).
    const run = runProcess(spec([NODE, TOOL, 'spawn-on-term', pidFile], { signal: ac.signal }), {
      ...TINY_GRACE,
      killGraceMs: 3000,
    });
    const pids = await pidsOf(pidFile);
    await canceled(run, ac);
    expect(existsSync(`${pidFile}.late`)).toBe(true);
    const late = Number(readFileSync(`${pidFile}.late`, 'utf8'));
    started.push(late);
    expect(isRunning(pids.child)).toBe(false);
    expect(isRunning(pids.grandchild)).toBe(false);
    expect(isRunning(late)).toBe(false);
  });

  it('ProcessGroups.killAll kills the tools in sessions of their own too', async () => {
    const groups = new ProcessGroups();
    const pidFile = join(dir.path, 'pids.json');
    const run = runProcess(spec([NODE, TOOL, 'hang', pidFile]), { ...TINY_GRACE, groups });
    const pids = await pidsOf(pidFile);
    expect(groups.killAll()).toBe(1);
    const out = await run;
    expect(out.exitSignal).toBe('SIGKILL');
    expect(await untilDead([pids.child, pids.grandchild])).toEqual([]);
    expect(groups.size).toBe(0);
  });

  it('ProcessGroups.killAll kills, by its job id, a tool that left the tree (a shell started it in the background and exited)', async () => {
    const groups = new ProcessGroups();
    const jobId = newId('j');
    const pidFile = join(dir.path, 'pids.json');
    const env = { PATH: process.env.PATH ?? '', ALTER0_JOB_ID: jobId };
    const run = runProcess(spec([NODE, TOOL, 'daemonize', pidFile], { env }), { ...TINY_GRACE, groups });
    const pids = await pidsOf(pidFile);
    expect(isRunning(pids.grandchild)).toBe(true);
    // Reparented to PID 1 (or a subreaper): no walk from the CLI's group reaches it.
    expect(readStat(pids.grandchild)?.ppid).not.toBe(pids.child);
    expect(treeGroups(pids.child)).not.toContain(readStat(pids.grandchild)?.pgrp);
    expect(groups.killAll()).toBe(1);
    await run;
    expect(await untilDead([pids.child, pids.grandchild])).toEqual([]);
  });
});

describe('jobProcesses', () => {
  it("finds a job's processes by the job id they inherited, and kills only those", async () => {
    const jobId = newId('j');
    const other = newId('j');
    const ours = join(dir.path, 'ours.json');
    const theirs = join(dir.path, 'theirs.json');
    startCli('hang', ours, { ALTER0_JOB_ID: jobId });
    startCli('hang', theirs, { ALTER0_JOB_ID: other });
    const a = await pidsOf(ours);
    const b = await pidsOf(theirs);
    expect(jobProcesses(jobId).sort()).toEqual([a.child, a.grandchild].sort());
    expect(killJobProcesses(jobId)).toBe(2);
    expect(await untilDead([a.child, a.grandchild])).toEqual([]);
    expect(isRunning(b.child)).toBe(true);
    expect(isRunning(b.grandchild)).toBe(true);
    expect(jobProcesses(jobId)).toEqual([]);
  });

  it('looks for real job ids only: empty or made-up ids match nothing', async () => {
    const pidFile = join(dir.path, 'pids.json');
    startCli('hang', pidFile, { ALTER0_JOB_ID: '' });
    await pidsOf(pidFile);
    expect(jobProcesses('')).toEqual([]);
    expect(jobProcesses('j_1')).toEqual([]);
    expect(killJobProcesses('')).toBe(0);
  });

  it('spares the given process and its ancestors, not its descendants', async () => {
    const jobId = newId('j');
    const pidFile = join(dir.path, 'pids.json');
    // sh (an ancestor of the CLI) carries the job id too.
    const sh = spawn('sh', ['-c', `"${NODE}" "${TOOL}" hang "${pidFile}"; true`], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, ALTER0_JOB_ID: jobId },
    });
    sh.unref();
    if (sh.pid !== undefined) started.push(sh.pid);
    const pids = await pidsOf(pidFile);
    expect(jobProcesses(jobId).sort()).toEqual([sh.pid, pids.child, pids.grandchild].sort());
    expect(jobProcesses(jobId, pids.child)).toEqual([pids.grandchild]);
  });
});
