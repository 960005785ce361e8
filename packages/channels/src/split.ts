/** Telegram's limit on one message's text, in UTF-16 code units (what JavaScript's `length` counts). */
export const TELEGRAM_MAX_CHARS = 4096;

/**
 * Splits `text` into parts of at most `max` UTF-16 code units, at the last paragraph break, else line break, else
 * space in the second half of a part, else anywhere but inside a surrogate pair. Joining the parts gives `text`
 * back, but for the whitespace a break was made at; no part is only whitespace unless the whole text is.
 */
export function splitText(text: string, max = TELEGRAM_MAX_CHARS): string[] {
  if (max < 2) throw new RangeError('max must be at least 2');
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const cut = cutAt(rest, max);
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^[ \t]*\n?/, '');
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  // A part of only whitespace (more of it at the start or end of the text than a break takes) would be a message
  // Telegram refuses as empty; only a text with nothing else in it stays as it is.
  const kept = parts.filter((p) => p.trim().length > 0);
  return kept.length > 0 ? kept : parts.slice(0, 1);
}

function cutAt(s: string, max: number): number {
  const window = s.slice(0, max);
  const floor = Math.floor(max / 2);
  for (const sep of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(sep);
    if (at >= floor) return at + sep.length;
  }
  // A high surrogate as the last unit would be cut from its pair.
  const last = s.charCodeAt(max - 1);
  return last >= 0xd800 && last <= 0xdbff ? max - 1 : max;
}
