import { describe, expect, it } from 'vitest';
import type { ErrorClass } from '@alter0/core';
import { ConfigError, ERROR_CLASSES } from '@alter0/core';
import type { CloseInput, CloserOptions } from '../src/closer.js';
import { Closer } from '../src/closer.js';
import { loadTemplate } from '../src/templates-closer.js';
import { deaf, failing, replying, slow, throwingPlain } from '@alter0/testkit';
import type { FakeExecutor } from '@alter0/testkit';

const TASK = 't_01j9zq3k8m4n5p6r7s8t9v0w1x';

function closer(executor: FakeExecutor, over: Partial<CloserOptions> = {}): Closer {
  return new Closer({ executor, template: loadTemplate('closer', 'v1'), threshold: 0.7, timeoutMs: 2_000, ...over });
}

function input(over: Partial<CloseInput> = {}): CloseInput {
  return {
    task: {
      id: TASK,
      title: 'Rename the CSV export column',
      summary: 'U: rename "amt" to "amount" → A: done',
      recent: [{ role: 'user', content: 'rename amt to amount in the export' }],
    },
    lastUser: 'great, that works, thanks',
    lastAssistant: 'Glad it works. The column is now "amount" in all exports.',
    cwd: '/tmp',
    jobId: 'j_1',
    signal: new AbortController().signal,
    ...over,
  };
}

const answer = (o: Record<string, unknown>): string =>
  JSON.stringify({ close: true, confidence: 0.9, reason: 'owner confirmed it works', ...o });

describe('Closer', () => {
  it.each([{ threshold: 2 }, { threshold: Number.NaN }, { timeoutMs: -1 }])('refuses options %j', (over) => {
    expect(() => closer(replying('x'), over)).toThrow(ConfigError);
  });

  it('closes on a confident valid answer and records the inputs', async () => {
    const ex = replying(answer({}));
    const out = await closer(ex).judge(input());
    expect(out).toMatchObject({
      close: true,
      confidence: 0.9,
      fallback: null,
      rejectCode: null,
      modelCalled: true,
      errorClass: null,
      templateId: 'closer',
      templateVersion: 'v1',
      reason: 'owner confirmed it works',
    });
    expect(out.promptChars).toBe(ex.calls[0]?.prompt.length);
    expect(ex.calls[0]).toMatchObject({ stage: 'close', sessionId: null, taskId: TASK, jobId: 'j_1', cwd: '/tmp' });
    expect(ex.calls[0]?.prompt).toContain('Rename the CSV export column');
    expect(ex.calls[0]?.prompt).toContain('great, that works, thanks');
  });

  it('keeps the task open when the model says so', async () => {
    const out = await closer(replying(answer({ close: false, confidence: 0.95, reason: 'asked a question' }))).judge(
      input(),
    );
    expect(out).toMatchObject({ close: false, confidence: 0.95, fallback: null });
  });

  it('below the threshold → stays open (low_confidence); at the threshold → closes', async () => {
    expect(await closer(replying(answer({ confidence: 0.69 }))).judge(input())).toMatchObject({
      close: false,
      confidence: 0.69,
      fallback: 'low_confidence',
    });
    expect(await closer(replying(answer({ confidence: 0.7 }))).judge(input())).toMatchObject({
      close: true,
      fallback: null,
    });
  });

  it('invalid output → stays open (invalid_output) with the reject code', async () => {
    const out = await closer(replying('{"close": "yes", "confidence": 0.99, "reason": "done"}')).judge(input());
    expect(out).toMatchObject({ close: false, confidence: null, fallback: 'invalid_output', rejectCode: 'schema' });
    expect(out.rawOutput).toContain('"yes"');
  });

  it.each(ERROR_CLASSES.filter((c) => c !== 'timeout'))(
    'ExecutorError %s → stays open (executor_error)',
    async (cls: ErrorClass) => {
      expect(await closer(failing(cls)).judge(input())).toMatchObject({
        close: false,
        fallback: 'executor_error',
        errorClass: cls,
        rawOutput: null,
      });
    },
  );

  it('ExecutorError timeout and a non-ExecutorError', async () => {
    expect(await closer(failing('timeout')).judge(input())).toMatchObject({
      close: false,
      fallback: 'timeout',
      errorClass: 'timeout',
    });
    expect(await closer(throwingPlain()).judge(input())).toMatchObject({
      close: false,
      fallback: 'executor_error',
      errorClass: 'internal',
    });
  });

  it('slow and signal-deaf executors are cut off at timeoutMs', async () => {
    const ex = slow(5_000, answer({}));
    expect(await closer(ex, { timeoutMs: 50 }).judge(input())).toMatchObject({ close: false, fallback: 'timeout' });
    expect(ex.calls[0]?.signal.aborted).toBe(true);
    const started = Date.now();
    expect(await closer(deaf(3_000, answer({})), { timeoutMs: 50 }).judge(input())).toMatchObject({
      close: false,
      fallback: 'timeout',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('rethrows an abort of the caller', async () => {
    const ac = new AbortController();
    const pending = closer(slow(5_000, answer({}))).judge(input({ signal: ac.signal }));
    setTimeout(() => ac.abort(new Error('job canceled')), 20);
    await expect(pending).rejects.toThrow('job canceled');
  });

  it('keeps the end of a very long reply in the prompt', async () => {
    const ex = replying(answer({}));
    await closer(ex).judge(input({ lastAssistant: `${'log line\n'.repeat(5000)}Shall I also update the docs?` }));
    const prompt = ex.calls[0]?.prompt ?? '';
    expect(prompt).toContain('Shall I also update the docs?');
    expect(prompt.length).toBeLessThan(12_000);
  });
});
