import { describe, expect, it } from 'vitest';
import { splitText, TELEGRAM_MAX_CHARS } from '../src/split.js';

const isWhitespace = (s: string): boolean => /^\s*$/.test(s);
const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/**
 * Whether `parts` are `text` in order with only whitespace between, before and after them (the whitespace a break
 * was made at). Returns the reason when they are not.
 */
function misassembly(text: string, parts: readonly string[]): string | null {
  let pos = 0;
  for (const [i, part] of parts.entries()) {
    let at = pos;
    while (!text.startsWith(part, at)) {
      if (at >= text.length || !isWhitespace(text.charAt(at))) return `part ${i} is not found after ${pos}`;
      at += 1;
    }
    pos = at + part.length;
  }
  return isWhitespace(text.slice(pos)) ? null : `text after ${pos} is missing`;
}

/** A deterministic PRNG (mulberry32), so a failing case is found again on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Words, spaces, tabs, line and paragraph breaks and emoji (surrogate pairs), in random runs. */
function randomText(random: () => number, length: number): string {
  const pieces = ['a', 'bc', 'word', ' ', '  ', '\t', '\n', '\n\n', '😀', '👍🏽', 'é', '\u00a0'];
  let s = '';
  while (s.length < length) s += pieces[Math.floor(random() * pieces.length)] ?? '';
  // Cut at a code point boundary so the input itself is well formed.
  let end = length;
  if (isHigh(s.charCodeAt(end - 1))) end -= 1;
  return s.slice(0, end);
}

function expectWellSplit(text: string, parts: readonly string[], max: number): void {
  expect(parts.length).toBeGreaterThan(0);
  for (const part of parts) {
    expect(part.length).toBeLessThanOrEqual(max);
    expect(isHigh(part.charCodeAt(part.length - 1))).toBe(false);
    expect(isLow(part.charCodeAt(0))).toBe(false);
  }
  expect(misassembly(text, parts)).toBeNull();
}

describe('splitText', () => {
  it('keeps a text of up to 4096 characters as one message', () => {
    expect(TELEGRAM_MAX_CHARS).toBe(4096);
    expect(splitText('hello')).toEqual(['hello']);
    const full = 'x'.repeat(4096);
    expect(splitText(full)).toEqual([full]);
  });

  it('gives one empty part for an empty text', () => {
    expect(splitText('')).toEqual(['']);
  });

  it('splits a 10 000-character reply into messages of at most 4096 that together are the reply', () => {
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`);
    const text = words.join(' ').slice(0, 10_000);
    expect(text).toHaveLength(10_000);
    const parts = splitText(text);
    expect(parts.length).toBe(3);
    expectWellSplit(text, parts, 4096);
    expect(parts.join(' ')).toBe(text);
  });

  it('breaks at the last paragraph break in the second half, even when a line break or space comes later', () => {
    const para = 'a'.repeat(3000);
    const text = `${para}\n\n${'b'.repeat(500)}\n${'c'.repeat(300)} ${'d'.repeat(500)}`;
    expect(splitText(text)).toEqual([para, `${'b'.repeat(500)}\n${'c'.repeat(300)} ${'d'.repeat(500)}`]);
  });

  it('breaks at a line break when the second half has no paragraph break', () => {
    const text = `${'a'.repeat(1000)}\n\n${'b'.repeat(2500)}\n${'c'.repeat(300)} ${'d'.repeat(500)}`;
    expect(splitText(text)).toEqual([
      `${'a'.repeat(1000)}\n\n${'b'.repeat(2500)}`,
      `${'c'.repeat(300)} ${'d'.repeat(500)}`,
    ]);
  });

  it('breaks at a space when the second half has no line break', () => {
    const text = `${'a'.repeat(1000)}\n${'b'.repeat(2500)} ${'c'.repeat(300)} ${'d'.repeat(500)}`;
    expect(splitText(text)).toEqual([`${'a'.repeat(1000)}\n${'b'.repeat(2500)} ${'c'.repeat(300)}`, 'd'.repeat(500)]);
  });

  it('cuts hard at the limit when the only breaks are in the first half', () => {
    const text = `${'a'.repeat(1000)}\n\n${'b'.repeat(4000)}`;
    const parts = splitText(text);
    expect(parts).toEqual([`${'a'.repeat(1000)}\n\n${'b'.repeat(3094)}`, 'b'.repeat(906)]);
  });

  it('cuts a text without any spaces hard at the limit', () => {
    const text = 'x'.repeat(10_000);
    expect(splitText(text).map((p) => p.length)).toEqual([4096, 4096, 1808]);
    expect(splitText(text).join('')).toBe(text);
  });

  it('never cuts an emoji in half at the limit', () => {
    const text = `${'x'.repeat(4095)}😀${'y'.repeat(10)}`;
    const parts = splitText(text);
    expect(parts).toEqual(['x'.repeat(4095), `😀${'y'.repeat(10)}`]);
    const emoji = '😀'.repeat(3000);
    const emojiParts = splitText(emoji);
    expect(emojiParts.join('')).toBe(emoji);
    for (const p of emojiParts) expect([...p].every((c) => c === '😀')).toBe(true);
  });

  it('never sends a message that is only whitespace, whatever the text starts or ends with', () => {
    expect(splitText(`${' '.repeat(4096)}hello`)).toEqual(['hello']);
    expect(splitText(`${'\n'.repeat(3000)}${'x'.repeat(2000)}`)).toEqual(['x'.repeat(2000)]);
    expect(splitText(`${'x'.repeat(4096)} \n\n\n`)).toEqual(['x'.repeat(4096)]);
    expect(splitText(`${'x'.repeat(4094)}\n\n\n\n\n\n`)).toEqual(['x'.repeat(4094)]);
  });

  it('splits any text into short enough parts, in order, losing only whitespace at the breaks (property)', () => {
    const random = prng(0xa17e40);
    for (let run = 0; run < 2000; run++) {
      const max = 2 + Math.floor(random() * 60);
      const text = randomText(random, Math.floor(random() * 400));
      const parts = splitText(text, max);
      expectWellSplit(text, parts, max);
      if (parts.length > 1) for (const p of parts) expect(isWhitespace(p)).toBe(false);
    }
    // 2000 runs: about a second alone, several on two cores shared with the rest of the suite.
  }, 30_000);

  it('splits long random replies at the Telegram limit (property)', () => {
    const random = prng(4096);
    for (let run = 0; run < 30; run++) {
      const text = randomText(random, 4000 + Math.floor(random() * 12_000));
      const parts = splitText(text);
      expectWellSplit(text, parts, TELEGRAM_MAX_CHARS);
      for (const p of parts) expect(isWhitespace(p)).toBe(false);
    }
  });

  it('refuses a limit below 2 (an emoji would never fit)', () => {
    expect(() => splitText('abc', 1)).toThrow(RangeError);
  });
});
