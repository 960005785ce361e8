import type { ExecRequest } from '@alter0/core';
import fs from 'node:fs';
import os from 'node:os';
import { ProcessGroups, WARM_NICE, WarmJudge } from '@alter0/executor';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicFake } from '../src/anthropic.js';
import { reply } from '../src/behaviour.js';
import type { TempHome } from '../src/env.js';
import { claudeEnv, makeTempHome } from '../src/env.js';
import type { ModelFake } from '../src/server.js';
import { cliOrSkip, isRecord } from './helpers.js';

/*
 * The pre-spawned router process (WarmJudge) with the REAL pinned claude CLI against the Anthropic fake: a process
 * started before the message, fed the prompt later, answers like a normal call; it serves one call, is replaced,
 * is killed at stop, and a dead one falls back to a normal call.
 */

const claude = cliOrSkip('claude');
const decision = JSON.stringify({ decision: 'new', confidence: 0.9, reason: 'a new subject' });

let fake: ModelFake;
let tmp: TempHome;
let groups: ProcessGroups;
let judge: WarmJudge;

beforeEach(async () => {
  fake = await startAnthropicFake();
  tmp = await makeTempHome();
  groups = new ProcessGroups();
  judge = new WarmJudge(
    {
      kind: 'claude',
      bin: claude ?? 'claude',
      model: 'judge-model',
      env: claudeEnv({ baseUrl: fake.url, home: tmp.home }),
      killGraceMs: 500,
    },
    { baseEnv: {}, groups },
    { stage: 'route' },
  );
});

afterEach(async () => {
  await judge.stop();
  await fake.close();
  await tmp.remove();
});

function routeRequest(over: Partial<ExecRequest> = {}): ExecRequest {
  return {
    stage: 'route',
    prompt: 'Route this message: "hello"',
    sessionId: null,
    taskId: null,
    jobId: 'j_warm',
    cwd: tmp.workdir,
    timeoutMs: 30_000,
    signal: new AbortController().signal,
    ...over,
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The nice value of a process (or one of its threads), field 19 of /proc/…/stat. */
function niceOf(pid: number, tid?: number): number {
  const stat = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** The waiting process's pid once claude has started and is waiting on stdin (it makes no request before). */
async function waitingPid(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const pid = judge.waitingPid();
    if (pid !== null) return pid;
    await delay(20);
  }
  throw new Error('no waiting process');
}

describe.skipIf(claude === null)('pre-spawned claude judge (real CLI)', () => {
  it('answers a prompt written to a process spawned earlier, then is replaced; never two calls per process', async () => {
    judge.start(tmp.workdir);
    const first = await waitingPid();
    await delay(1500); // let it finish starting up: the prompt comes later, as a message would
    // It runs at a lower CPU priority, every thread of it (read once `nice` has set it and exec'd claude).
    // `nice -n` adds to the niceness it inherits (a test run under `nice` starts above 0), up to 19.
    const warm = Math.min(19, os.getPriority() + WARM_NICE);
    expect(niceOf(first)).toBe(warm);
    for (const tid of fs.readdirSync(`/proc/${first}/task`)) expect(niceOf(first, Number(tid))).toBe(warm);
    expect(fake.requests).toHaveLength(0);
    fake.script([reply(decision, { delayMs: 50 })]);
    const res = await judge.executor.run(routeRequest());
    expect(res.text).toBe(decision);
    expect(res.sessionId).toBeNull();
    expect(judge.stats).toMatchObject({ served: 1, fallbacks: 0 });
    const [call] = fake.modelCalls();
    expect(isRecord(call?.body) && call.body['model']).toBe('judge-model');
    expect(JSON.stringify(call?.body)).toContain('Route this message');
    // The used process exits; a new one waits in its place.
    const second = await waitingPid();
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    fake.script([reply(decision)]);
    expect((await judge.executor.run(routeRequest({ prompt: 'second' }))).text).toBe(decision);
    expect(judge.stats).toMatchObject({ spawned: 3, served: 2 });
    const calls = fake.modelCalls();
    // The second call's process saw only its own prompt: no earlier decision in its conversation.
    expect(JSON.stringify(calls[1]?.body)).not.toContain('Route this message');
  }, 60_000);

  it('starts the replacement only once no agent runs (its start-up would slow the agent down)', async () => {
    judge.start(tmp.workdir);
    await waitingPid();
    await delay(1500);
    // An agent is running (a registered group that is not the judge's).
    groups.add(999_999, 'j_agent');
    fake.script([reply(decision, { delayMs: 50 })]);
    expect((await judge.executor.run(routeRequest())).text).toBe(decision);
    await delay(600);
    expect(judge.waitingPid(), 'no replacement while the agent runs').toBeNull();
    groups.delete(999_999);
    expect(await waitingPid()).toBeGreaterThan(0);
  }, 60_000);

  it('kills its process group at stop and starts no more', async () => {
    judge.start(tmp.workdir);
    const pid = await waitingPid();
    expect(alive(pid)).toBe(true);
    await judge.stop();
    expect(alive(pid)).toBe(false);
    expect(judge.waitingPid()).toBeNull();
    expect(groups.size).toBe(0);
  }, 30_000);

  it('falls back to a normal call when the waiting process died', async () => {
    judge.start(tmp.workdir);
    const pid = await waitingPid();
    process.kill(-pid, 'SIGKILL');
    await delay(100);
    fake.script([reply(decision)]);
    const res = await judge.executor.run(routeRequest());
    expect(res.text).toBe(decision);
    expect(judge.stats.served).toBe(0);
    expect(fake.modelCalls()).toHaveLength(1);
  }, 60_000);

  it('calls of another stage and a call canceled before it starts never touch the waiting process', async () => {
    judge.start(tmp.workdir);
    const pid = await waitingPid();
    const aborted = new AbortController();
    aborted.abort(new Error('canceled by the owner'));
    await expect(judge.executor.run(routeRequest({ signal: aborted.signal }))).rejects.toMatchObject({
      errorClass: 'canceled',
    });
    await expect(judge.executor.run({ ...routeRequest(), stage: 'close' })).rejects.toThrow();
    expect(judge.stats).toMatchObject({ spawned: 1, served: 0, fallbacks: 0 });
    expect(judge.waitingPid()).toBe(pid);
    expect(alive(pid)).toBe(true);
  }, 30_000);
});
