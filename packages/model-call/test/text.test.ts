import { describe, expect, it } from 'vitest';
import { clip, clipMiddle, truncateUtf8 } from '../src/text.js';

describe('truncateUtf8', () => {
  it('keeps short text and never splits a character', () => {
    expect(truncateUtf8('abc', 10)).toBe('abc');
    expect(truncateUtf8('aé', 2)).toBe('a');
    expect(truncateUtf8('😀😀', 5)).toBe('😀');
    expect(Buffer.byteLength(truncateUtf8('ü'.repeat(5000), 4096))).toBeLessThanOrEqual(4096);
  });
});

describe('clip', () => {
  it('cuts on a word boundary with an ellipsis', () => {
    expect(clip('the quick brown fox jumps', 16)).toBe('the quick brown…');
    expect(clip('short', 16)).toBe('short');
    expect(clip('x'.repeat(30), 10)).toBe(`${'x'.repeat(9)}…`);
  });
  it('keeps head and tail of long text', () => {
    const s = `${'a'.repeat(500)}${'z'.repeat(500)}`;
    const c = clipMiddle(s, 200);
    expect(c.length).toBeLessThanOrEqual(200);
    expect(c.startsWith('a')).toBe(true);
    expect(c.endsWith('z')).toBe(true);
  });
});
