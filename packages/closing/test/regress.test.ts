import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { replayExecutor } from '@alter0/model-call';
import { evaluateClosing, loadCloseCases } from '../src/eval.js';
import { loadTemplate } from '../src/templates-closer.js';

const dir = fileURLToPath(new URL('../../../testdata/regress/closing/', import.meta.url));
const CATEGORIES = ['completed', 'partial', 'needs_follow_up', 'boundary', 'malformed_output'];

describe('committed closing regression set', () => {
  const cases = loadCloseCases(dir);

  it('has at least 15 cases in each required category', () => {
    for (const cat of CATEGORIES)
      expect(cases.filter((c) => c.category === cat).length, cat).toBeGreaterThanOrEqual(15);
  });

  it('replays at 100% with the shipped template and default threshold', async () => {
    const report = await evaluateClosing(cases, {
      executorFor: (c) => replayExecutor(c.model_output),
      threshold: 0.7,
      template: loadTemplate('closer', 'v1'),
    });
    expect(report.results.filter((r) => !r.passed)).toEqual([]);
    expect(report).toMatchObject({ passRate: 1, falseCloseRate: 0, missedCloseRate: 0 });
    expect(Object.keys(report.byCategory).sort()).toEqual([...CATEGORIES].sort());
  });
});
