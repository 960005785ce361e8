import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CaseFileError, replayExecutor } from '@alter0/model-call';
import { evaluateClosing, loadCloseCases } from '../src/eval.js';
import { loadTemplate } from '../src/templates-closer.js';

const task = { id: 't_01j9zq3k8m4n5p6r7s8t9v0w1x', title: 'Rename column', recent: [] };
const line = (over: Record<string, unknown>): string =>
  JSON.stringify({
    id: 'c',
    category: 'completed',
    task,
    last_user: 'thanks',
    last_assistant: 'done',
    expect: { close: true },
    ...over,
  });
const ans = (close: boolean, confidence: number): string => JSON.stringify({ close, confidence, reason: 'r' });

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'alter0-close-cases-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadCloseCases', () => {
  it('ignores unknown fields and reports bad lines with file:line', () => {
    const file = join(dir, 'x.jsonl');
    writeFileSync(file, [line({ id: 'a', extra: 1 }), line({ id: 'b', expect: { close: 'yes' } }), 'nope'].join('\n'));
    const err = (() => {
      try {
        loadCloseCases(file);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CaseFileError);
    expect((err as CaseFileError).problems.map((p) => p.where)).toEqual([`${file}:2`, `${file}:3`]);
    writeFileSync(file, line({ id: 'a', extra: 1 }));
    expect(loadCloseCases(dir)[0]).not.toHaveProperty('extra');
  });
});

describe('evaluateClosing', () => {
  it('scores pass rate, false closes and missed closes', async () => {
    writeFileSync(
      join(dir, 'c.jsonl'),
      [
        line({ id: 'ok-close', model_output: ans(true, 0.9) }),
        line({ id: 'missed', model_output: ans(true, 0.5) }),
        line({ id: 'false-close', category: 'partial', expect: { close: false }, model_output: ans(true, 0.95) }),
        line({ id: 'ok-open', category: 'partial', expect: { close: false }, model_output: ans(false, 0.9) }),
        line({ id: 'no-output', category: 'partial', expect: { close: false, fallback: 'executor_error' } }),
      ].join('\n'),
    );
    const report = await evaluateClosing(loadCloseCases(dir), {
      executorFor: (c) => replayExecutor(c.model_output),
      threshold: 0.7,
      template: loadTemplate('closer', 'v1'),
    });
    expect(report.results.map((r) => [r.id, r.passed, r.falseClose])).toEqual([
      ['ok-close', true, false],
      ['missed', false, false],
      ['false-close', false, true],
      ['ok-open', true, false],
      ['no-output', true, false],
    ]);
    expect(report).toMatchObject({ total: 5, passed: 3, passRate: 0.6, falseCloseRate: 1 / 3, missedCloseRate: 0.5 });
    expect(report.byCategory).toEqual({
      completed: { total: 2, passed: 1, passRate: 0.5 },
      partial: { total: 3, passed: 2, passRate: 2 / 3 },
    });
  });
});
