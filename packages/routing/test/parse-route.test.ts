import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseRouteOutput } from '../src/parse-route.js';

const T1 = 't_01j9zq3k8m4n5p6r7s8t9v0w1x';
const T2 = 't_01j9zq3k8m4n5p6r7s8t9v0w2y';
const candidates = new Set([T1, T2]);
const good = { decision: 'existing', task_id: T1, confidence: 0.9, reason: 'same bug' };
const goodJson = JSON.stringify(good);

describe('parseRouteOutput accepts', () => {
  it.each([
    ['bare JSON', goodJson],
    ['a json code fence', `\`\`\`json\n${goodJson}\n\`\`\``],
    ['a bare fence with prose around', `Sure! Here is my answer:\n\`\`\`\n${goodJson}\n\`\`\`\nLet me know.`],
    ['prose with stray braces before', `The set {a, b} matters. ${goodJson}`],
    ['the same object twice', `${goodJson}\n\nAgain: ${goodJson}`],
    [
      'the same object twice with keys reordered',
      `${goodJson} ${JSON.stringify({ reason: 'same bug', confidence: 0.9, task_id: T1, decision: 'existing' })}`,
    ],
    ['an unrelated object next to the answer', `Example: {"foo": 1}\n${goodJson}`],
    ['braces inside strings', JSON.stringify({ ...good, reason: 'mentions } and { in text' })],
  ])('%s', (_, raw) => {
    const r = parseRouteOutput(raw, candidates);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).toMatchObject({ decision: 'existing', taskId: T1, confidence: 0.9 });
  });

  it('a new decision, dropping any task id it carries', () => {
    const r = parseRouteOutput(
      JSON.stringify({ decision: 'new', task_id: T2, confidence: 0.8, reason: 'different topic' }),
      candidates,
    );
    expect(r).toEqual({
      ok: true,
      value: { decision: 'new', taskId: null, confidence: 0.8, reason: 'different topic' },
    });
  });

  it('boundary confidences 0 and 1', () => {
    for (const confidence of [0, 1]) {
      expect(parseRouteOutput(JSON.stringify({ ...good, confidence }), candidates).ok).toBe(true);
    }
  });
});

describe('parseRouteOutput rejects', () => {
  it.each([
    ['empty output', '', 'no_json'],
    ['plain prose', 'I think it belongs to the first task.', 'no_json'],
    ['truncated JSON', '{"decision": "existing", "task_id": "' + T1 + '", "confid', 'no_json'],
    ['single-quoted pseudo JSON', "{'decision': 'new', 'confidence': 0.9, 'reason': 'x'}", 'no_json'],
    ['trailing comma', '{"decision": "new", "confidence": 0.9, "reason": "x",}', 'no_json'],
    ['a JSON array of scalars', '[1, 2, 3]', 'no_json'],
    ['only unrelated objects', '{"answer": 42}', 'no_json'],
    [
      'two different answers',
      `${goodJson}\n${JSON.stringify({ ...good, task_id: T2 })}`,
      'multiple_conflicting_objects',
    ],
    ['confidence as a string', JSON.stringify({ ...good, confidence: '0.9' }), 'schema'],
    ['missing reason', JSON.stringify({ decision: 'new', confidence: 0.9 }), 'schema'],
    ['decision as a number', JSON.stringify({ ...good, decision: 1 }), 'schema'],
    ['task id as a number', JSON.stringify({ ...good, task_id: 7 }), 'schema'],
    ['unknown decision', JSON.stringify({ ...good, decision: 'merge' }), 'unknown_decision'],
    ['decision in other case', JSON.stringify({ ...good, decision: 'Existing' }), 'unknown_decision'],
    ['task not offered', JSON.stringify({ ...good, task_id: 't_01j9zq3k8m4n5p6r7s8t9v0w3z' }), 'task_not_candidate'],
    [
      'existing without task id',
      JSON.stringify({ decision: 'existing', confidence: 0.9, reason: 'x' }),
      'missing_task_id',
    ],
    ['existing with null task id', JSON.stringify({ ...good, task_id: null }), 'missing_task_id'],
    ['existing with blank task id', JSON.stringify({ ...good, task_id: ' ' }), 'missing_task_id'],
    ['confidence above 1', JSON.stringify({ ...good, confidence: 1.2 }), 'confidence_out_of_range'],
    ['confidence in percent', JSON.stringify({ ...good, confidence: 85 }), 'confidence_out_of_range'],
    ['negative confidence', JSON.stringify({ ...good, confidence: -0.1 }), 'confidence_out_of_range'],
    ['infinite confidence', `{"decision":"new","confidence":1e999,"reason":"x"}`, 'confidence_out_of_range'],
    ['empty reason', JSON.stringify({ ...good, reason: '' }), 'empty_reason'],
    ['blank reason', JSON.stringify({ ...good, reason: '  \n ' }), 'empty_reason'],
  ])('%s → %s', (_, raw, code) => {
    const r = parseRouteOutput(raw, candidates);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  it('summarizes schema issues with their paths', () => {
    const r = parseRouteOutput(JSON.stringify({ ...good, confidence: 'high' }), candidates);
    expect(r).toMatchObject({ ok: false, code: 'schema' });
    if (!r.ok) expect(r.detail).toContain('confidence');
  });

  it('stays fast on adversarial brace soup', () => {
    const started = performance.now();
    const r = parseRouteOutput('{'.repeat(50_000) + '"' + '}'.repeat(10), candidates);
    expect(r.ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('parseRouteOutput properties', () => {
  const validAnswer = fc.oneof(
    fc.record({
      decision: fc.constant('existing' as const),
      task_id: fc.constantFrom(T1, T2),
      confidence: fc.double({ min: 0, max: 1, noNaN: true }),
      reason: fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''),
    }),
    fc.record({
      decision: fc.constant('new' as const),
      task_id: fc.constant(null),
      confidence: fc.double({ min: 0, max: 1, noNaN: true }),
      reason: fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''),
    }),
  );
  // Prose without braces: a brace in prose could legitimately form a second object.
  const prose = fc.string().map((s) => s.replace(/[{}]/g, ''));

  function isValidDecision(r: ReturnType<typeof parseRouteOutput>): boolean {
    if (!r.ok) return r.detail.length > 0;
    const v = r.value;
    const inRange = v.confidence >= 0 && v.confidence <= 1 && v.reason.trim() !== '';
    return inRange && (v.decision === 'new' ? v.taskId === null : v.taskId !== null && candidates.has(v.taskId));
  }

  it('never throws and never yields an invalid decision on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => isValidDecision(parseRouteOutput(s, candidates))),
      { numRuns: 500 },
    );
  });

  // Review: a reply nested a few thousand levels deep failed the message with "Maximum call stack size exceeded".
  it('never throws on deeply nested, huge or prototype-keyed JSON, and rejects it with a code', () => {
    const nest = fc.record({
      depth: fc.integer({ min: 33, max: 20_000 }),
      key: fc.constantFrom('decision', 'task_id', 'confidence', 'reason', 'x', '__proto__'),
      open: fc.constantFrom('[', '{"a":'),
    });
    fc.assert(
      fc.property(nest, prose, ({ depth, key, open }, around) => {
        const close = open === '[' ? ']' : '}';
        const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
        // The deep key comes last, so it wins over a valid value of the same name.
        const reply = `${around}{"decision":"new","confidence":1,"reason":"r","${key}":${deep}}${around}`;
        const r = parseRouteOutput(reply, candidates);
        return isValidDecision(r) && !r.ok;
      }),
      { numRuns: 60 },
    );
    // Two deep answers side by side, a huge flat one, and prototype keys next to a valid answer.
    const deep = `{"decision":${'['.repeat(5000)}${']'.repeat(5000)},"confidence":1,"reason":"x"}`;
    expect(parseRouteOutput(deep + deep, candidates)).toMatchObject({ ok: false, code: 'no_json' });
    const huge = `{"decision":"new","confidence":1,"reason":"${'r'.repeat(1_000_000)}"}`;
    expect(isValidDecision(parseRouteOutput(huge, candidates))).toBe(true);
    const proto = `{"__proto__":{"decision":"existing"},"constructor":{"prototype":1},"decision":"new","confidence":0.9,"reason":"fresh"}`;
    expect(parseRouteOutput(proto, candidates)).toMatchObject({ ok: true, value: { decision: 'new', taskId: null } });
    expect(({} as Record<string, unknown>).decision).toBeUndefined();
  });

  it('never throws and never yields an invalid decision on arbitrary JSON', () => {
    const mutated = fc.record(
      {
        decision: fc.oneof(fc.constantFrom('existing', 'new', 'other'), fc.jsonValue()),
        task_id: fc.oneof(fc.constantFrom(T1, T2, 't_x', null), fc.jsonValue()),
        confidence: fc.oneof(fc.double(), fc.jsonValue()),
        reason: fc.oneof(fc.string(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), mutated), prose, (value, around) => {
        const json = JSON.stringify(value) ?? 'null';
        return isValidDecision(parseRouteOutput(`${around}${json}${around}`, candidates));
      }),
      { numRuns: 500 },
    );
  });

  it('parses any valid answer embedded in prose or fences to itself', () => {
    fc.assert(
      fc.property(validAnswer, prose, prose, fc.boolean(), (answer, before, after, fenced) => {
        const body = JSON.stringify(answer, null, fenced ? 2 : 0);
        const raw = fenced ? `${before}\n\`\`\`json\n${body}\n\`\`\`\n${after}` : `${before} ${body} ${after}`;
        const r = parseRouteOutput(raw, candidates);
        return (
          r.ok &&
          r.value.decision === answer.decision &&
          r.value.taskId === answer.task_id &&
          r.value.confidence === answer.confidence &&
          r.value.reason === answer.reason.trim()
        );
      }),
      { numRuns: 300 },
    );
  });
});
