import { describe, expect, it } from 'vitest';
import type { ErrorClass } from '@alter0/core';
import { ConfigError, ERROR_CLASSES } from '@alter0/core';
import type { CandidateTask } from '../src/rank.js';
import type { RouteInput, RouterOptions } from '../src/router.js';
import { RAW_OUTPUT_MAX_BYTES } from '@alter0/model-call';
import { Router } from '../src/router.js';
import { loadTemplate } from '../src/templates-router.js';
import { deaf, failing, replying, slow, throwingPlain } from '@alter0/testkit';
import type { FakeExecutor } from '@alter0/testkit';

const now = new Date('2025-03-10T12:00:00Z');
const LOGIN = 't_01j9zq3k8m4n5p6r7s8t9v0w1x';
const GARDEN = 't_01j9zq3k8m4n5p6r7s8t9v0w2y';
const CLOSED = 't_01j9zq3k8m4n5p6r7s8t9v0w3z';
const tasks: CandidateTask[] = [
  {
    id: LOGIN,
    title: 'Fix OAuth login redirect loop',
    summary: 'callback URL mismatch',
    updatedAt: new Date(now.getTime() - 3_600_000),
    recent: [{ role: 'assistant', content: 'I changed the callback URL in settings.py' }],
  },
  {
    id: GARDEN,
    title: 'Plan raised garden beds',
    summary: 'cedar vs pine',
    updatedAt: new Date(now.getTime() - 60_000),
    recent: [],
  },
];

function router(executor: FakeExecutor, over: Partial<RouterOptions> = {}): Router {
  return new Router({
    executor,
    template: loadTemplate('router', 'v1'),
    threshold: 0.55,
    maxCandidates: 8,
    timeoutMs: 2_000,
    now: () => now,
    ...over,
  });
}

function input(over: Partial<RouteInput> = {}): RouteInput {
  return {
    message: 'the login still loops after the redirect',
    explicitTaskId: null,
    openTasks: tasks,
    cwd: '/tmp',
    jobId: 'j_1',
    signal: new AbortController().signal,
    ...over,
  };
}

const answer = (o: Record<string, unknown>): string =>
  JSON.stringify({ decision: 'existing', task_id: LOGIN, confidence: 0.9, reason: 'same login bug', ...o });

describe('Router options', () => {
  it.each([{ threshold: 1.5 }, { threshold: -0.1 }, { maxCandidates: 0 }, { maxCandidates: 2.5 }, { timeoutMs: 0 }])(
    'refuses %j',
    (over) => {
      expect(() => router(replying('x'), over)).toThrow(ConfigError);
    },
  );
});

describe('Router fast paths (no model call)', () => {
  it('an explicit task id from the client wins, even when not open', async () => {
    const ex = replying(answer({}));
    const out = await router(ex).route(input({ explicitTaskId: CLOSED }));
    expect(out).toMatchObject({
      decision: 'existing',
      taskId: CLOSED,
      fallback: 'explicit',
      modelCalled: false,
      confidence: null,
      promptChars: 0,
      candidates: [],
    });
    expect(ex.calls).toHaveLength(0);
  });

  it('a #t_ mention of an open task wins over an earlier mention of another task', async () => {
    const ex = replying(answer({}));
    const out = await router(ex).route(input({ message: `like #${CLOSED}, but for #${GARDEN}` }));
    expect(out).toMatchObject({ decision: 'existing', taskId: GARDEN, fallback: 'explicit', modelCalled: false });
    expect(ex.calls).toHaveLength(0);
  });

  it('a #t_ mention of a task that is not open is still explicit', async () => {
    const out = await router(replying(answer({}))).route(input({ message: `reopen #${CLOSED} please` }));
    expect(out).toMatchObject({ decision: 'existing', taskId: CLOSED, fallback: 'explicit' });
    expect(out.reason).toContain('not an open task');
  });

  it('no open tasks: new task without a model call', async () => {
    const ex = replying(answer({}));
    const out = await router(ex).route(input({ openTasks: [] }));
    expect(out).toMatchObject({ decision: 'new', taskId: null, fallback: 'no_candidates', modelCalled: false });
    expect(ex.calls).toHaveLength(0);
  });
});

describe('Router model path', () => {
  it('attaches on a confident valid answer and records the decision inputs', async () => {
    const ex = replying(`Sure.\n\`\`\`json\n${answer({})}\n\`\`\``);
    const out = await router(ex).route(input());
    expect(out).toMatchObject({
      decision: 'existing',
      taskId: LOGIN,
      confidence: 0.9,
      reason: 'same login bug',
      fallback: null,
      rejectCode: null,
      modelCalled: true,
      errorClass: null,
      templateId: 'router',
      templateVersion: 'v1',
    });
    expect(out.candidates.map((c) => c.taskId)).toEqual([LOGIN, GARDEN]);
    expect(out.rawOutput).toContain('same login bug');
    expect(out.promptChars).toBe(ex.calls[0]?.prompt.length);
    expect(ex.calls[0]).toMatchObject({
      stage: 'route',
      sessionId: null,
      taskId: null,
      jobId: 'j_1',
      cwd: '/tmp',
      timeoutMs: 2_000,
    });
    expect(out.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('offers only the top maxCandidates', async () => {
    const ex = replying(answer({ task_id: GARDEN }));
    const out = await router(ex, { maxCandidates: 1 }).route(input());
    expect(out.candidates.map((c) => c.taskId)).toEqual([LOGIN]);
    expect(out).toMatchObject({ decision: 'new', fallback: 'invalid_output', rejectCode: 'task_not_candidate' });
    expect(ex.calls[0]?.prompt).not.toContain(GARDEN);
  });

  it('a new decision starts a new task with no fallback', async () => {
    const out = await router(replying(answer({ decision: 'new', task_id: null, confidence: 0.3 }))).route(input());
    expect(out).toMatchObject({ decision: 'new', taskId: null, confidence: 0.3, fallback: null });
  });

  it('low confidence on existing → new (low_confidence), keeping the confidence', async () => {
    const out = await router(replying(answer({ confidence: 0.54 }))).route(input());
    expect(out).toMatchObject({ decision: 'new', taskId: null, confidence: 0.54, fallback: 'low_confidence' });
  });

  it('confidence exactly at the threshold attaches', async () => {
    const out = await router(replying(answer({ confidence: 0.55 }))).route(input());
    expect(out).toMatchObject({ decision: 'existing', taskId: LOGIN, fallback: null });
  });

  it('invalid output → new (invalid_output) with the reject code and raw output', async () => {
    const out = await router(replying('I would put it in the login task.')).route(input());
    expect(out).toMatchObject({
      decision: 'new',
      taskId: null,
      fallback: 'invalid_output',
      rejectCode: 'no_json',
      rawOutput: 'I would put it in the login task.',
    });
  });

  it('truncates the stored raw output to 4 KiB', async () => {
    const out = await router(replying(`${'é'.repeat(5000)}${answer({})}`)).route(input());
    expect(Buffer.byteLength(out.rawOutput ?? '')).toBeLessThanOrEqual(RAW_OUTPUT_MAX_BYTES);
    expect(out.decision).toBe('existing');
  });

  it.each(ERROR_CLASSES.filter((c) => c !== 'timeout'))(
    'ExecutorError %s → new (executor_error)',
    async (cls: ErrorClass) => {
      const out = await router(failing(cls)).route(input());
      expect(out).toMatchObject({
        decision: 'new',
        taskId: null,
        fallback: 'executor_error',
        errorClass: cls,
        modelCalled: true,
        rawOutput: null,
      });
      expect(out.reason).toContain(cls);
    },
  );

  it('ExecutorError timeout → new (timeout)', async () => {
    const out = await router(failing('timeout')).route(input());
    expect(out).toMatchObject({ decision: 'new', fallback: 'timeout', errorClass: 'timeout' });
  });

  it('a non-ExecutorError failure → new (executor_error, internal)', async () => {
    const out = await router(throwingPlain()).route(input());
    expect(out).toMatchObject({ decision: 'new', fallback: 'executor_error', errorClass: 'internal' });
  });

  it('a slow executor is cut off at timeoutMs and its signal aborted', async () => {
    const ex = slow(5_000, answer({}));
    const out = await router(ex, { timeoutMs: 50 }).route(input());
    expect(out).toMatchObject({ decision: 'new', fallback: 'timeout', errorClass: 'timeout' });
    expect(out.latencyMs).toBeLessThan(2_000);
    expect(ex.calls[0]?.signal.aborted).toBe(true);
  });

  it('an executor that ignores its signal still cannot hold the router past the timeout', async () => {
    const started = Date.now();
    const out = await router(deaf(3_000, answer({})), { timeoutMs: 50 }).route(input());
    expect(out.fallback).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('rethrows when the caller aborts mid-call', async () => {
    const ac = new AbortController();
    const pending = router(slow(5_000, answer({}))).route(input({ signal: ac.signal }));
    setTimeout(() => ac.abort(new Error('shutting down')), 20);
    await expect(pending).rejects.toThrow('shutting down');
  });

  it('rethrows when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(router(replying(answer({}))).route(input({ signal: ac.signal }))).rejects.toThrow();
  });
});

describe('Router with recently closed candidates', () => {
  const closedLogin: CandidateTask = {
    id: CLOSED,
    title: 'Fix OAuth login redirect loop',
    summary: 'callback URL mismatch',
    updatedAt: new Date(now.getTime() - 86_400_000),
    recent: [{ role: 'user', content: 'works now, thanks' }],
    closed: { at: new Date('2025-03-09T12:00:00Z'), reason: 'the owner confirmed   login works' },
  };
  const v2 = { template: loadTemplate('router', 'v2') };

  it('router/v2 offers a closed task marked closed, and choosing it answers existing with its id', async () => {
    const ex = replying(answer({ task_id: CLOSED, reason: 'the fixed loop broke again' }));
    const out = await router(ex, v2).route(input({ openTasks: [tasks[1] as CandidateTask, closedLogin] }));
    expect(out).toMatchObject({ decision: 'existing', taskId: CLOSED, fallback: null, templateVersion: 'v2' });
    expect(out.candidates.map((c) => c.taskId)).toEqual([CLOSED, GARDEN]);
    const prompt = ex.calls[0]?.prompt ?? '';
    expect(prompt).toContain(`task_id: ${CLOSED} [closed 2025-03-09: the owner confirmed login works]`);
    expect(prompt).toContain(`task_id: ${GARDEN}\n`);
  });

  it('router/v2 calls the model when only closed tasks are candidates', async () => {
    const ex = replying(answer({ decision: 'new', task_id: null, reason: 'only looks similar' }));
    const out = await router(ex, v2).route(input({ openTasks: [closedLogin] }));
    expect(out).toMatchObject({ decision: 'new', taskId: null, fallback: null, modelCalled: true });
  });

  it('router/v1 is offered open tasks only: closed candidates are dropped before ranking', async () => {
    const ex = replying(answer({ task_id: CLOSED }));
    const out = await router(ex).route(input({ openTasks: [...tasks, closedLogin] }));
    expect(out.candidates.map((c) => c.taskId)).toEqual([LOGIN, GARDEN]);
    expect(out).toMatchObject({ decision: 'new', fallback: 'invalid_output', rejectCode: 'task_not_candidate' });
    expect(ex.calls[0]?.prompt).not.toContain(CLOSED);
    const none = replying(answer({}));
    expect(await router(none).route(input({ openTasks: [closedLogin] }))).toMatchObject({
      decision: 'new',
      fallback: 'no_candidates',
      modelCalled: false,
    });
    expect(none.calls).toHaveLength(0);
  });

  it('a #t_ mention prefers an open task over a closed candidate', async () => {
    const out = await router(replying(answer({})), v2).route(
      input({ message: `like #${CLOSED}, but for #${GARDEN}`, openTasks: [...tasks, closedLogin] }),
    );
    expect(out).toMatchObject({ decision: 'existing', taskId: GARDEN, fallback: 'explicit' });
    const closedOnly = await router(replying(answer({})), v2).route(
      input({ message: `reopen #${CLOSED}`, openTasks: [...tasks, closedLogin] }),
    );
    expect(closedOnly).toMatchObject({ decision: 'existing', taskId: CLOSED, fallback: 'explicit' });
    expect(closedOnly.reason).toContain('not an open task');
  });
});
