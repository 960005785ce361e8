import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateRouting, loadCases } from '../src/eval.js';
import { replayExecutor } from '@alter0/model-call';
import { loadTemplate } from '../src/templates-router.js';

const dir = fileURLToPath(new URL('../../../testdata/regress/routing/', import.meta.url));
const CATEGORIES = ['follow_up', 'topic_jump', 'cross_task', 'explicit_ref', 'malformed_output'];

describe('committed routing regression set', () => {
  const cases = loadCases(dir);

  it('has at least 15 cases in each required category', () => {
    for (const cat of CATEGORIES)
      expect(cases.filter((c) => c.category === cat).length, cat).toBeGreaterThanOrEqual(15);
  });

  it('replays at 100% with the shipped template and default settings', async () => {
    const report = await evaluateRouting(cases, {
      executorFor: (c) => replayExecutor(c.model_output),
      threshold: 0.55,
      maxCandidates: 8,
      template: loadTemplate('router', 'v1'),
    });
    expect(report.results.filter((r) => !r.passed)).toEqual([]);
    expect(report.passRate).toBe(1);
    expect(report.wrongAttachRate).toBe(0);
    expect(report.recallAtK).toBe(1);
    expect(Object.keys(report.byCategory).sort()).toEqual([...CATEGORIES].sort());
  });
});
