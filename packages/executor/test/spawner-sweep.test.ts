import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutorError, looksLikeId, newId } from '@alter0/core';
import { isJobId } from '../src/job-sweep.js';
import { DEFAULT_RUNNER_OPTIONS, runProcess } from '../src/run-process.js';
import { Spawner } from '../src/spawner.js';
import { NODE, isRunning, program, readPids, tempDir, waitForFile } from './helpers.js';

// Spawner.sweepJob: the job-id sweep of invariant 8, run in the spawner's helper process (off the host's loop).

let dir: { path: string; cleanup: () => void };
const spawners: Spawner[] = [];
const started: number[] = [];
beforeEach(() => {
  dir = tempDir();
});
afterEach(async () => {
  for (const s of spawners.splice(0)) await s.close();
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  dir.cleanup();
});

/** A Spawner whose helper is running (one short run through it). */
async function runningSpawner(): Promise<{ spawner: Spawner; helper: number }> {
  const spawner = new Spawner();
  spawners.push(spawner);
  await runProcess(
    {
      argv: [NODE, '-e', ''],
      cwd: dir.path,
      env: { PATH: process.env.PATH ?? '' },
      stdin: '',
      timeoutMs: 20_000,
      signal: new AbortController().signal,
      label: 'test',
    },
    { ...DEFAULT_RUNNER_OPTIONS, spawn: spawner.spawn },
  );
  const helper = spawner.helperPid;
  if (helper === null) throw new Error('the helper is not running');
  started.push(helper);
  return { spawner, helper };
}

/**
 * A CLI stand-in and its tool (in a session of its own), detached from this process as the runner starts them,
 * both carrying `ALTER0_JOB_ID=<jobId>`; resolves their pids.
 */
async function startJobTools(jobId: string, name: string): Promise<{ child: number; grandchild: number }> {
  const pidFile = join(dir.path, `${name}.json`);
  const cli = spawn(NODE, [program('session-tool.mjs'), 'hang', pidFile], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ALTER0_JOB_ID: jobId },
  });
  cli.unref();
  await waitForFile(pidFile);
  const pids = readPids(pidFile);
  started.push(pids.child, pids.grandchild);
  return pids;
}

async function untilDead(pids: readonly number[], ms = 10_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids.filter(isRunning);
  while (alive.length > 0 && Date.now() < deadline) {
    await delay(20);
    alive = alive.filter(isRunning);
  }
  return alive;
}

async function rejection(p: Promise<unknown>): Promise<ExecutorError> {
  const err: unknown = await p.then(
    () => new Error('expected the sweep to fail'),
    (e: unknown) => e,
  );
  if (!(err instanceof ExecutorError)) throw err;
  return err;
}

describe('Spawner.sweepJob', () => {
  it("kills, in the helper, the processes that carry the job id (sessions of their own too), not another job's", async () => {
    const { spawner, helper } = await runningSpawner();
    const jobId = newId('j');
    const ours = await startJobTools(jobId, 'ours');
    const theirs = await startJobTools(newId('j'), 'theirs');
    expect(await spawner.sweepJob(jobId)).toBe(2);
    expect(await untilDead([ours.child, ours.grandchild])).toEqual([]);
    expect(isRunning(theirs.child) && isRunning(theirs.grandchild)).toBe(true);
    // The helper did it and is still the same one; a second sweep finds nothing.
    expect(spawner.helperPid).toBe(helper);
    expect(await spawner.sweepJob(jobId)).toBe(0);
  });

  it('spares the host process and the helper, though both carry the job id (a daemon started from an agent run)', async () => {
    const jobId = newId('j');
    const tools = await startJobTools(jobId, 'tools');
    const host = spawn(NODE, [program('sweep-host.mjs'), jobId], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: join(import.meta.dirname, '..'),
      env: { ...process.env, ALTER0_JOB_ID: jobId },
    });
    if (host.pid !== undefined) started.push(host.pid);
    let out = '';
    host.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => host.once('exit', resolve));
    expect(code).toBe(0);
    const r = JSON.parse(out) as { host: number; helper: number | null; helperAfter: number | null; killed: number };
    expect(r.helper).not.toBeNull();
    expect(r.helperAfter).toBe(r.helper);
    expect(r.killed).toBe(2);
    expect(await untilDead([tools.child, tools.grandchild])).toEqual([]);
  });

  it('with no helper running, sweeps in this process and starts none', async () => {
    const spawner = new Spawner();
    spawners.push(spawner);
    const jobId = newId('j');
    const tools = await startJobTools(jobId, 'tools');
    expect(await spawner.sweepJob(jobId)).toBe(2);
    expect(spawner.helperPid).toBeNull();
    expect(await untilDead([tools.child, tools.grandchild])).toEqual([]);
  });

  it('a helper that does not answer in time, or dies first, rejects the sweep (typed), never hangs', async () => {
    const { spawner, helper } = await runningSpawner();
    const jobId = newId('j');
    process.kill(helper, 'SIGSTOP');
    const late = await rejection(spawner.sweepJob(jobId, { signal: AbortSignal.timeout(200) }));
    expect(late.errorClass).toBe('timeout');
    const lost = rejection(spawner.sweepJob(jobId));
    process.kill(helper, 'SIGKILL');
    const err = await lost;
    expect(err.errorClass).toBe('internal');
    expect(err.message).toMatch(
      new RegExp(`helper process \\(pid ${helper}\\) exited with SIGKILL before it answered`),
    );
    expect(spawner.helperPid).toBeNull();
  });

  it("looks for real job ids only, by the same test as @alter0/core's looksLikeId", async () => {
    for (const id of [newId('j'), newId('t'), 'j_1', '', `${newId('j')}x`, newId('j').toUpperCase()])
      expect(isJobId(id)).toBe(looksLikeId(id, 'j'));
    const { spawner } = await runningSpawner();
    expect(await spawner.sweepJob('j_1')).toBe(0);
  });
});
