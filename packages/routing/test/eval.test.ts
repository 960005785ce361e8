import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CaseFileError, replayExecutor } from '@alter0/model-call';
import type { RoutingCase } from '../src/eval.js';
import { evaluateRouting, loadCases } from '../src/eval.js';
import { loadTemplate } from '../src/templates-router.js';

const A = 't_01j9zq3k8m4n5p6r7s8t9v0w1x';
const B = 't_01j9zq3k8m4n5p6r7s8t9v0w2y';
const openTasks = [
  { id: A, title: 'Fix OAuth login redirect loop', recent: [], updated_at: '2025-03-10T10:00:00Z' },
  {
    id: B,
    title: 'Plan garden beds',
    summary: 'cedar',
    recent: [{ role: 'user', content: 'soil?' }],
    updated_at: '2025-03-10T11:00:00Z',
  },
];
const ans = (decision: string, taskId: string | null, confidence = 0.9): string =>
  JSON.stringify({ decision, task_id: taskId, confidence, reason: 'r' });

function line(over: Record<string, unknown>): string {
  return JSON.stringify({
    id: 'c',
    category: 'follow_up',
    open_tasks: openTasks,
    message: { content: 'login loops again' },
    expect: { decision: 'existing', task_id: A },
    ...over,
  });
}

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'alter0-cases-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadCases', () => {
  it('reads every *.jsonl in a directory, skips blank lines, ignores unknown fields', () => {
    writeFileSync(join(dir, 'a.jsonl'), `${line({ id: 'a1', extra: 'ignored' })}\n\n${line({ id: 'a2' })}\n`);
    writeFileSync(join(dir, 'b.jsonl'), line({ id: 'b1', model_output: ans('existing', A) }));
    writeFileSync(join(dir, 'notes.txt'), 'not a case file');
    const cases = loadCases(dir);
    expect(cases.map((c) => c.id)).toEqual(['a1', 'a2', 'b1']);
    expect(cases[0]).not.toHaveProperty('extra');
    expect(cases[1]?.source).toBe(`${join(dir, 'a.jsonl')}:3`);
    expect(cases[0]?.open_tasks[0]?.summary).toBe('');
  });

  it('reports every bad line with file:line', () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      [
        line({ id: 'ok' }),
        '{not json',
        line({ id: 'x2', expect: { decision: 'maybe' } }),
        line({ id: 'x3', expect: { decision: 'existing' } }),
        line({ id: 'ok' }),
        line({ id: 'x5', open_tasks: [{ ...openTasks[0], updated_at: 'yesterday' }] }),
      ].join('\n'),
    );
    let err: unknown;
    try {
      loadCases(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CaseFileError);
    const problems = (err as CaseFileError).problems.map((p) => p.where);
    expect(problems).toEqual([`${file}:2`, `${file}:3`, `${file}:4`, `${file}:5`, `${file}:6`]);
    expect((err as CaseFileError).message).toContain(`${file}:5: case id ok already used at ${file}:1`);
  });

  it('fails clearly on a missing path or an empty directory', () => {
    expect(() => loadCases(join(dir, 'nope'))).toThrow(/cannot read/);
    expect(() => loadCases(dir)).toThrow(/no \*\.jsonl/);
  });
});

describe('evaluateRouting', () => {
  const template = loadTemplate('router', 'v1');
  const run = (cases: RoutingCase[], maxCandidates = 8) =>
    evaluateRouting(cases, {
      executorFor: (c) => replayExecutor(c.model_output),
      threshold: 0.55,
      maxCandidates,
      template,
    });

  function cases(lines: string[]): RoutingCase[] {
    writeFileSync(join(dir, 'c.jsonl'), lines.join('\n'));
    return loadCases(dir);
  }

  it('scores pass rates per category, wrong attaches and recall', async () => {
    const report = await run(
      cases([
        line({ id: 'right', model_output: ans('existing', A) }),
        line({ id: 'wrong', model_output: ans('existing', B) }),
        line({ id: 'new-ok', category: 'topic_jump', expect: { decision: 'new' }, model_output: ans('new', null) }),
        line({
          id: 'attached-instead-of-new',
          category: 'topic_jump',
          expect: { decision: 'new' },
          model_output: ans('existing', B),
        }),
        line({ id: 'no-output', category: 'malformed_output' }),
      ]),
    );
    expect(report.results.map((r) => [r.id, r.passed, r.wrongAttach])).toEqual([
      ['right', true, false],
      ['wrong', false, true],
      ['new-ok', true, false],
      ['attached-instead-of-new', false, true],
      ['no-output', false, false],
    ]);
    expect(report).toMatchObject({ total: 5, passed: 2, passRate: 0.4, wrongAttachRate: 0.4, recallAtK: 1, k: 8 });
    expect(report.byCategory).toEqual({
      follow_up: { total: 2, passed: 1, passRate: 0.5 },
      topic_jump: { total: 2, passed: 1, passRate: 0.5 },
      malformed_output: { total: 1, passed: 0, passRate: 0 },
    });
    expect(report.results[4]?.got).toMatchObject({ decision: 'new', fallback: 'executor_error', modelCalled: true });
  });

  it('checks optional fallback and reject_code expectations', async () => {
    const report = await run(
      cases([
        line({
          id: 'f1',
          expect: { decision: 'new', fallback: 'invalid_output', reject_code: 'no_json' },
          model_output: 'nope',
        }),
        line({
          id: 'f2',
          expect: { decision: 'new', fallback: 'invalid_output', reject_code: 'schema' },
          model_output: 'nope',
        }),
        line({
          id: 'f3',
          expect: { decision: 'new', fallback: 'low_confidence' },
          model_output: ans('existing', A, 0.2),
        }),
      ]),
    );
    expect(report.results.map((r) => r.passed)).toEqual([true, false, true]);
  });

  it('measures recall@K of the local ranking', async () => {
    // With K=1 the more recent garden task is ranked first only when the message shares no words with the login task.
    const report = await run(
      cases([line({ id: 'r1', message: { content: 'zzz' }, model_output: ans('existing', A) })]),
      1,
    );
    expect(report.recallAtK).toBe(0);
    expect(report.results[0]?.got).toMatchObject({ fallback: 'invalid_output', rejectCode: 'task_not_candidate' });
  });
});

describe('cases with recently closed candidates', () => {
  const closedA = {
    ...openTasks[0],
    state: 'closed',
    closed_at: '2025-03-09T18:00:00Z',
    close_reason: 'login works again',
  };

  it('reads a closed candidate into a CandidateTask marked closed', async () => {
    writeFileSync(
      join(dir, 'c.jsonl'),
      line({
        id: 'reopen',
        category: 'closed_task',
        open_tasks: [closedA, openTasks[1]],
        model_output: ans('existing', A),
      }),
    );
    const cases = loadCases(dir);
    expect(cases[0]?.open_tasks.map((t) => t.state)).toEqual(['closed', 'open']);
    const prompts: string[] = [];
    const evaluate = (version: string) =>
      evaluateRouting(cases, {
        executorFor: (c) => {
          const ex = replayExecutor(c.model_output);
          return { ...ex, run: (req) => (prompts.push(req.prompt), ex.run(req)) };
        },
        threshold: 0.55,
        maxCandidates: 8,
        template: loadTemplate('router', version),
      });
    const v2 = await evaluate('v2');
    expect(v2).toMatchObject({ passRate: 1, recallAtK: 1 });
    expect(prompts[0]).toContain(`task_id: ${A} [closed 2025-03-09: login works again]`);
    // router/v1 is never offered the closed task: the same answer names a task it did not offer.
    const v1 = await evaluate('v1');
    expect(v1).toMatchObject({ passRate: 0, recallAtK: 0 });
    expect(v1.results[0]?.got).toMatchObject({ rejectCode: 'task_not_candidate' });
    expect(prompts[1]).not.toContain(A);
  });

  it('refuses a closed candidate without closed_at, and closed_at on an open one', () => {
    const file = join(dir, 'bad.jsonl');
    const { closed_at: _dropped, ...undated } = closedA;
    writeFileSync(
      file,
      [
        line({ id: 'x1', open_tasks: [undated] }),
        line({ id: 'x2', open_tasks: [{ ...openTasks[0], closed_at: '2025-03-09T18:00:00Z' }] }),
        line({ id: 'x3', open_tasks: [{ ...openTasks[0], state: 'gone' }] }),
      ].join('\n'),
    );
    let err: unknown;
    try {
      loadCases(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CaseFileError);
    expect((err as CaseFileError).problems.map((p) => p.where)).toEqual([`${file}:1`, `${file}:2`, `${file}:3`]);
    expect((err as CaseFileError).message).toContain('"closed_at" goes with "state": "closed"');
  });
});
