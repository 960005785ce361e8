import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecutorError, newId } from '@alter0/core';
import type { Logger } from '@alter0/obs';
import { sweepJobProcesses } from '../src/boot/workers.js';

// After each attempt the daemon kills what still carries the job's id (invariant 8), through the spawner's helper;
// a helper that fails is swept around in the daemon, with a warning, and nothing rejects.

const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

interface Line {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function recordingLogger(lines: Line[], context: Record<string, unknown> = {}): Logger {
  const at =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      lines.push({ level, msg, fields: { ...context, ...fields } });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (c) => recordingLogger(lines, { ...context, ...c }),
    isLevelEnabled: () => true,
    close: () => Promise.resolve(),
  };
}

/** A tool left behind in a session of its own, carrying the job id (once it has exec'd: the env is its own). */
async function leftBehind(jobId: string): Promise<number> {
  const p = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ALTER0_JOB_ID: jobId },
  });
  p.unref();
  if (p.pid === undefined) throw new Error('could not start the test process');
  pids.push(p.pid);
  const environ = (): string => {
    try {
      return readFileSync(`/proc/${p.pid}/environ`, 'latin1');
    } catch {
      return '';
    }
  };
  for (let i = 0; i < 250 && !environ().includes(`ALTER0_JOB_ID=${jobId}`); i += 1) await delay(20);
  return p.pid;
}

async function untilDead(pid: number): Promise<boolean> {
  for (let i = 0; i < 250; i += 1) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await delay(20);
  }
  return false;
}

const jobOf = (id: string) => ({ id, taskId: null, userId: 'owner', channelId: 'http', sessionId: null });

describe('sweepJobProcesses (onAttemptEnd)', () => {
  it("logs the count the executors' sweep answers", async () => {
    const lines: Line[] = [];
    const jobId = newId('j');
    const asked: string[] = [];
    const executors = {
      sweepJob: (id: string, signal?: AbortSignal) => {
        asked.push(id);
        expect(signal).toBeInstanceOf(AbortSignal);
        return Promise.resolve(3);
      },
    };
    await sweepJobProcesses(jobOf(jobId), { logger: recordingLogger(lines), executors });
    expect(asked).toEqual([jobId]);
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'killed processes the agent left behind',
        fields: {
          job_id: jobId,
          processes: 3,
          user_id: 'owner',
          channel_id: 'http',
          task_id: undefined,
          session_id: undefined,
        },
      },
    ]);
  });

  it('a failed helper: warns, sweeps in the daemon instead, and does not reject', async () => {
    const lines: Line[] = [];
    const jobId = newId('j');
    const pid = await leftBehind(jobId);
    const executors = {
      sweepJob: () => Promise.reject(new ExecutorError('internal', 'the helper exited before it answered the sweep')),
    };
    await expect(
      sweepJobProcesses(jobOf(jobId), { logger: recordingLogger(lines), executors }),
    ).resolves.toBeUndefined();
    expect(await untilDead(pid)).toBe(true);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', "the spawner's helper could not sweep the job's processes; swept in the daemon"],
      ['warn', 'killed processes the agent left behind'],
    ]);
    expect(lines[1]?.fields).toEqual({
      job_id: jobId,
      processes: 1,
      user_id: 'owner',
      channel_id: 'http',
      task_id: undefined,
      session_id: undefined,
    });
  });

  it('without executors, sweeps in the daemon', async () => {
    const lines: Line[] = [];
    const jobId = newId('j');
    const pid = await leftBehind(jobId);
    await sweepJobProcesses(jobOf(jobId), { logger: recordingLogger(lines) });
    expect(await untilDead(pid)).toBe(true);
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'killed processes the agent left behind',
        fields: {
          job_id: jobId,
          processes: 1,
          user_id: 'owner',
          channel_id: 'http',
          task_id: undefined,
          session_id: undefined,
        },
      },
    ]);
  });
});
