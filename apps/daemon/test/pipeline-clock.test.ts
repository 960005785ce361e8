/**
 * A job's deadline is monotonic: a wall clock that jumps while the job runs (NTP after a suspend, a hand-set
 * date) neither kills it at once (forward) nor gives it more time than its timeout (backward). Found by the day
 * soak's clock-jump moment (tooling/soak/src/day/moments/clock.ts): the deadline was taken from `now()` at the
 * claim, so a jump of +2 h during routing left the agent 1 ms ("did not finish within 1 ms").
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecRequest, ExecResult, Executor } from '@alter0/core';
import { Store } from '@alter0/store';
import type { CloseInput, CloseOutcome, Closer } from '@alter0/closing';
import type { RouteOutcome, Router } from '@alter0/routing';
import { createMetrics, nullLogger } from '@alter0/obs';
import { createPipeline } from '../src/pipeline.js';
import { Bus } from '../src/bus.js';
import type { CandidateSource } from '../src/candidates.js';
import type { ExecutorRegistry } from '../src/executors.js';

const HOUR = 3_600_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const routed: RouteOutcome = {
  ...{ decision: 'new', taskId: null, confidence: 1, reason: 'scripted', fallback: null, rejectCode: null },
  ...{ candidates: [], templateId: 'router', templateVersion: '1', templateHash: 'x', promptChars: 1 },
  ...{ modelCalled: false, rawOutput: null, latencyMs: 0, errorClass: null },
};
const kept: CloseOutcome = {
  ...{ close: false, confidence: 0.9, reason: 'scripted', fallback: null, rejectCode: null },
  ...{ templateId: 'closer', templateVersion: '1', templateHash: 'x', promptChars: 1, modelCalled: false },
  ...{ rawOutput: null, latencyMs: 0, errorClass: null },
} as unknown as CloseOutcome;

/** Runs one job of `timeoutS` whose wall clock moves by `jumpMs` while it is being routed; the stages' time budgets. */
async function runWithJump(jumpMs: number, timeoutS: number): Promise<{ execMs: number; closeMs: number | null }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-clock-'));
  dirs.push(dir);
  const store = Store.open({ file: path.join(dir, 'alter0.db') });
  let clock = Date.now();
  const now = (): number => clock;
  let execMs = -1;
  let closeMs: number | null = null;
  const agent = {
    kind: 'command',
    run: (req: ExecRequest): Promise<ExecResult> => {
      execMs = req.timeoutMs ?? -1;
      return Promise.resolve({ text: 'ok', sessionId: 's', usage: null, durationMs: 1, stderrTail: '', pid: null });
    },
  } as unknown as Executor;
  const handler = createPipeline({
    store,
    executors: {
      get: () => agent,
      recordSuccess: () => undefined,
      recordFailure: () => undefined,
    } as unknown as ExecutorRegistry,
    defaultExecutor: 'command',
    // The jump lands while the job is being routed: after its claim, before its agent starts.
    router: { route: () => ((clock += jumpMs), Promise.resolve(routed)) } as unknown as Router,
    candidates: { load: () => Promise.resolve([]) } as unknown as CandidateSource,
    routerExecutor: 'command',
    closer: { judge: (i: CloseInput) => ((closeMs = i.timeoutMs ?? -1), Promise.resolve(kept)) } as unknown as Closer,
    bus: new Bus(),
    logger: nullLogger(),
    metrics: createMetrics(),
    workspaceRoot: path.join(dir, 'workspaces'),
    systemCwd: dir,
    now,
  });
  try {
    store.jobs.accept({
      ...{ content: 'hello', channelId: 'test', userId: 'owner', sessionId: null, taskId: null },
      ...{ lane: 'interactive', maxAttempts: 1, timeoutS, now: now() },
    });
    const job = store.jobs.claimNext('interactive', now());
    if (job === null) throw new Error('no job to claim');
    const out = await handler(job, {
      fence: { jobId: job.id, attempt: job.attempt },
      signal: new AbortController().signal,
    });
    expect(out).toEqual({ kind: 'succeeded' });
    return { execMs, closeMs };
  } finally {
    store.close();
  }
}

describe('a job deadline under a jumping wall clock', () => {
  it('a jump forward (+2 h) during routing leaves the agent and the closer their time', async () => {
    const r = await runWithJump(2 * HOUR, 30);
    expect(r.execMs).toBeGreaterThan(25_000);
    expect(r.execMs).toBeLessThanOrEqual(30_000);
    expect(r.closeMs).toBeGreaterThan(25_000);
  });

  it('a jump backward (−1 h) gives no more than the timeout', async () => {
    const r = await runWithJump(-HOUR, 30);
    expect(r.execMs).toBeGreaterThan(25_000);
    expect(r.execMs).toBeLessThanOrEqual(30_000);
    expect(r.closeMs).toBeLessThanOrEqual(30_000);
  });
});
