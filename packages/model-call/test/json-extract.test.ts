import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_ANSWER_DEPTH,
  canonicalJson,
  extractJsonObjects,
  nestsWithin,
  pickAnswerObject,
} from '../src/json-extract.js';

/** `{"k": … }` nested `depth` levels deep (the outer object is level 1; the scalar inside adds none). */
function nested(depth: number, open: '[' | '{"a":'): string {
  const close = open === '[' ? ']' : '}';
  return `{"k":${open.repeat(depth - 1)}1${close.repeat(depth - 1)}}`;
}

describe('extractJsonObjects', () => {
  it('finds objects in prose and fences, resuming inside braces that are not JSON', () => {
    expect(extractJsonObjects('say {not json {"a":1} } and ```json\n{"b":[2]}\n```')).toEqual([{ a: 1 }, { b: [2] }]);
    expect(extractJsonObjects('no braces')).toEqual([]);
    expect(extractJsonObjects('["top-level array"]')).toEqual([]);
  });

  it(`keeps an object exactly ${MAX_ANSWER_DEPTH} levels deep and drops one a level deeper`, () => {
    expect(extractJsonObjects(nested(MAX_ANSWER_DEPTH, '['))).toHaveLength(1);
    expect(extractJsonObjects(nested(MAX_ANSWER_DEPTH + 1, '['))).toEqual([]);
    expect(extractJsonObjects(nested(MAX_ANSWER_DEPTH + 1, '{"a":'))).toEqual([]);
  });

  it('never throws and never returns anything nested beyond the cap, at any depth', { timeout: 30_000 }, () => {
    const input = fc.record({
      depth: fc.integer({ min: 1, max: 20_000 }),
      open: fc.constantFrom('[' as const, '{"a":' as const),
      around: fc.string(),
    });
    fc.assert(
      fc.property(input, ({ depth, open, around }) => {
        const found = extractJsonObjects(`${around}${nested(depth, open)}${around}`);
        return (
          found.every((o) => nestsWithin(o, MAX_ANSWER_DEPTH)) &&
          (depth <= MAX_ANSWER_DEPTH || found.every((o) => !('k' in o)))
        );
      }),
      { numRuns: 80 },
    );
  });

  // 500 random texts: about 1 s alone, but CI once needed more than vitest's default 5 s on two shared, busy cores.
  it('never throws on arbitrary text and returns only plain objects', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) =>
        extractJsonObjects(s).every((o) => typeof o === 'object' && o !== null && !Array.isArray(o)),
      ),
      { numRuns: 500 },
    );
  });

  it('stays fast on adversarial brace soup', () => {
    const started = performance.now();
    expect(extractJsonObjects('{'.repeat(50_000) + '"' + '}'.repeat(10))).toEqual([]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('nestsWithin', () => {
  it('counts arrays and objects as levels and scalars as none', () => {
    expect(nestsWithin(1, 0)).toBe(true);
    expect(nestsWithin({ a: [1] }, 2)).toBe(true);
    expect(nestsWithin({ a: [1] }, 1)).toBe(false);
  });
});

describe('pickAnswerObject', () => {
  const keys = ['decision', 'reason'];

  it('ignores objects without an answer key and counts identical answers once, whatever their key order', () => {
    const r = pickAnswerObject('{"example":1} {"decision":"x","reason":"r"} {"reason":"r","decision":"x"}', keys);
    expect(r).toEqual({ ok: true, object: { decision: 'x', reason: 'r' } });
  });

  it('reports no answer and conflicting answers with their codes', () => {
    expect(pickAnswerObject('nothing', keys)).toMatchObject({ ok: false, code: 'no_json' });
    expect(pickAnswerObject('{"other":1}', keys)).toMatchObject({
      ok: false,
      code: 'no_json',
      detail: expect.stringContaining('decision, reason'),
    });
    expect(pickAnswerObject('{"decision":"a"} {"decision":"b"}', keys)).toMatchObject({
      ok: false,
      code: 'multiple_conflicting_objects',
    });
  });

  it('compares answers by canonical JSON (sorted keys)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        return canonicalJson(o) === canonicalJson(reversed);
      }),
      { numRuns: 200 },
    );
  });
});
