/** Small text helpers for the router's and the closer's prompts and records. */

/** `s` cut to at most `maxBytes` UTF-8 bytes, never splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= maxBytes) return s;
  let end = Math.max(0, maxBytes);
  // Back up to the start of a character: continuation bytes look like 10xxxxxx.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** Whitespace runs (including newlines) collapsed to one space, ends trimmed. */
export function collapseWhitespace(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * `s` cut to at most `maxChars` characters on a word boundary when one is reasonably close,
 * with an ellipsis when anything was cut.
 */
export function clip(s: string, maxChars: number): string {
  const chars = Array.from(s);
  if (chars.length <= maxChars) return s;
  if (maxChars <= 1) return chars.slice(0, Math.max(0, maxChars)).join('');
  const head = chars.slice(0, maxChars - 1).join('');
  // The head already ends at a word boundary when the next character is a space.
  if (/\s/.test(chars[maxChars - 1] ?? '')) return `${head.trimEnd()}…`;
  const lastSpace = head.lastIndexOf(' ');
  // Only back up to a space if that keeps most of the text; one very long word is cut mid-word.
  const cut = lastSpace >= head.length * 0.6 ? head.slice(0, lastSpace) : head;
  return `${cut.trimEnd()}…`;
}

/** Keeps the start and the end of a long text (the end of a reply often holds its conclusion). */
export function clipMiddle(s: string, maxChars: number): string {
  if (s.length <= maxChars) return s;
  const chars = Array.from(s);
  if (chars.length <= maxChars) return s;
  const marker = '\n[… middle omitted …]\n';
  const room = Math.max(0, maxChars - marker.length);
  const headLen = Math.floor(room * 0.4);
  return `${chars.slice(0, headLen).join('')}${marker}${chars.slice(chars.length - (room - headLen)).join('')}`;
}
