import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { summarize, titleFrom } from '../src/summarize.js';
import { listTemplates, loadTemplate } from '../src/templates-closer.js';

describe('titleFrom', () => {
  it.each([
    ['Fix the login redirect loop', 'Fix the login redirect loop'],
    ['\n\n  # Deploy   the blog\nmore details here', 'Deploy the blog'],
    ['```\ncode first\n```', 'code first'],
    ['', 'Untitled task'],
    ['   \n  ', 'Untitled task'],
  ])('%j → %j', (msg, want) => {
    expect(titleFrom(msg)).toBe(want);
  });

  it('cuts long first lines on a word boundary near 80 chars', () => {
    const t = titleFrom(
      'Please look into why the nightly backup job to the NAS keeps failing with a permission error since Tuesday',
    );
    expect(t.length).toBeLessThanOrEqual(80);
    expect(t.endsWith('…')).toBe(true);
    expect(t).toMatch(/^Please look into why the nightly backup job to the NAS keeps failing with a\b/);
  });
});

describe('summarize', () => {
  it('adds one gist line per turn, dropping code and keeping first sentences', () => {
    const s1 = summarize(
      '',
      'Rename amt to amount in the CSV export. It confuses the accountant.',
      'Done. I changed export.py:\n```py\ncols["amount"]=...\n```',
    );
    expect(s1).toBe('U: Rename amt to amount in the CSV export. → A: Done.');
    const s2 = summarize(s1, 'also the PDF export', 'The PDF export now uses "amount" as well.');
    expect(s2.split('\n')).toEqual([s1, 'U: also the PDF export → A: The PDF export now uses "amount" as well.']);
  });

  it('keeps the first line and the newest turns within maxChars', () => {
    let s = '';
    for (let i = 0; i < 40; i++) s = summarize(s, `step ${i} of the migration`, `finished step ${i}`, 300);
    expect(s.length).toBeLessThanOrEqual(300);
    const lines = s.split('\n');
    expect(lines[0]).toContain('step 0 ');
    expect(lines.at(-1)).toContain('step 39 ');
  });

  it('never exceeds maxChars for any input', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.string(),
        fc.integer({ min: 0, max: 800 }),
        (prev, u, a, max) => summarize(prev, u, a, max).length <= max,
      ),
      { numRuns: 300 },
    );
  });
});

describe('closer templates', () => {
  it('ships closer/v1', () => {
    const t = loadTemplate('closer', 'v1');
    expect(t).toMatchObject({ id: 'closer', version: 'v1' });
    expect(t.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(listTemplates()).toEqual([{ id: 'closer', version: 'v1', hash: t.hash }]);
    expect(() => loadTemplate('router', 'v1')).toThrow(/unknown prompt template id/);
  });
});
