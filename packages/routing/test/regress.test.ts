import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateRouting, loadCases } from '../src/eval.js';
import { replayExecutor } from '@alter0/model-call';
import { loadTemplate } from '../src/templates-router.js';

const dir = fileURLToPath(new URL('../../../testdata/regress/routing/', import.meta.url));
const CATEGORIES = ['follow_up', 'topic_jump', 'cross_task', 'explicit_ref', 'malformed_output', 'closed_task'];

describe('committed routing regression set', () => {
  const cases = loadCases(dir);

  it('has at least 15 cases in each required category', () => {
    for (const cat of CATEGORIES)
      expect(cases.filter((c) => c.category === cat).length, cat).toBeGreaterThanOrEqual(15);
  });

  it('has closed-task cases of both kinds: a message that continues a closed task, and one that only looks similar', () => {
    const closedIds = (c: (typeof cases)[number]) =>
      new Set(c.open_tasks.filter((t) => t.state === 'closed').map((t) => t.id));
    const closedCases = cases.filter((c) => c.category === 'closed_task');
    const reopens = closedCases.filter((c) => closedIds(c).has(c.expect.task_id ?? ''));
    const lookalikes = closedCases.filter((c) => c.expect.decision === 'new' && closedIds(c).size > 0);
    expect(reopens.length).toBeGreaterThanOrEqual(7);
    expect(lookalikes.length).toBeGreaterThanOrEqual(7);
  });

  it('replays at 100% with the shipped template and default settings', async () => {
    const report = await evaluateRouting(cases, {
      executorFor: (c) => replayExecutor(c.model_output),
      threshold: 0.55,
      maxCandidates: 8,
      template: loadTemplate('router', 'v2'),
    });
    expect(report.results.filter((r) => !r.passed)).toEqual([]);
    expect(report.passRate).toBe(1);
    expect(report.wrongAttachRate).toBe(0);
    expect(report.recallAtK).toBe(1);
    expect(Object.keys(report.byCategory).sort()).toEqual([...CATEGORIES].sort());
  });

  it('router/v1 still replays the categories from before closed tasks at 100%, and is never offered a closed task', async () => {
    const older = cases.filter((c) => c.category !== 'closed_task');
    const report = await evaluateRouting(older, {
      executorFor: (c) => replayExecutor(c.model_output),
      threshold: 0.55,
      maxCandidates: 8,
      template: loadTemplate('router', 'v1'),
    });
    expect(report.results.filter((r) => !r.passed)).toEqual([]);
    const reopens = cases.filter((c) => c.category === 'closed_task' && c.expect.decision === 'existing');
    const v1 = await evaluateRouting(reopens, {
      executorFor: (c) => replayExecutor(c.model_output),
      threshold: 0.55,
      maxCandidates: 8,
      template: loadTemplate('router', 'v1'),
    });
    expect(v1.results.filter((r) => r.passed).map((r) => r.id)).toEqual(['cl-17']);
  });
});
