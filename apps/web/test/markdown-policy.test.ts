// The link and collapse rules of the console's Markdown, as pure functions (the browser side is markdown.test.ts).
import { describe, expect, it } from 'vitest';
import { COLLAPSE_CHARS, COLLAPSE_LINES, collapsePreview, safeHref } from '../src/ui/markdown-policy.js';

describe('safeHref', () => {
  it('keeps absolute http, https and mailto URLs (normalised)', () => {
    expect(safeHref('https://example.com/a?b=1#c')).toBe('https://example.com/a?b=1#c');
    expect(safeHref('http://Example.COM')).toBe('http://example.com/');
    expect(safeHref('  https://example.com/x  ')).toBe('https://example.com/x');
    expect(safeHref('mailto:owner@example.com')).toBe('mailto:owner@example.com');
    expect(safeHref('HTTPS://example.com/')).toBe('https://example.com/');
  });

  it('refuses script, data, file and other schemes, however they are spelled', () => {
    for (const url of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      '\u0000javascript:alert(1)',
      'vbscript:msgbox(1)',
      'data:text/html,<script>alert(1)</script>',
      'file:///etc/passwd',
      'blob:https://example.com/uuid',
      'ftp://example.com/',
      'ws://example.com/',
      'mailto:',
    ]) {
      expect(safeHref(url), url).toBeNull();
    }
  });

  it('refuses relative URLs and fragments (they would hit the daemon or steer the console router)', () => {
    for (const url of ['/api/tasks', 'api/tasks', '../x', '#/tasks/t_1', '?q=1', '//evil.example/x', '', '   ']) {
      expect(safeHref(url), url).toBeNull();
    }
    expect(safeHref(null)).toBeNull();
    expect(safeHref(undefined)).toBeNull();
  });
});

describe('collapsePreview', () => {
  it('leaves short replies whole', () => {
    expect(collapsePreview('one line')).toBeNull();
    expect(collapsePreview(Array.from({ length: COLLAPSE_LINES }, () => 'x').join('\n'))).toBeNull();
    expect(collapsePreview('x'.repeat(COLLAPSE_CHARS))).toBeNull();
  });

  it('cuts a reply with many lines at a line end', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join('\n');
    const p = collapsePreview(text);
    expect(p?.totalLines).toBe(100);
    expect(p?.text.startsWith('line 1\nline 2\n')).toBe(true);
    expect(p?.text.endsWith('line 24')).toBe(true);
  });

  it('cuts a reply with few but long lines by characters', () => {
    const text = Array.from({ length: 10 }, (_, i) => `${i}`.repeat(500)).join('\n');
    const p = collapsePreview(text);
    expect(p).not.toBeNull();
    expect(p?.text.length).toBeLessThanOrEqual(2_000);
    expect(p?.text.endsWith('\n')).toBe(false);
    expect(p?.text.split('\n').every((l) => l.length === 500)).toBe(true);
    // One huge line is cut where it must be.
    expect(collapsePreview('y'.repeat(10_000))?.text).toHaveLength(2_000);
  });
});
