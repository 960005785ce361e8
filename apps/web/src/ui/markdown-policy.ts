// What the console lets a model's Markdown do: pure functions, unit-tested on their own (test/markdown-policy.test.ts).

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/**
 * The href a link in a reply may have: an absolute http(s) or mailto URL, normalised by the URL parser (which also
 * strips the tabs and newlines that could hide a `javascript:`). Anything else (javascript:, data:, file:, relative
 * paths and #fragments, which would steer the console's own hash router) gives null: the link is shown as text.
 */
export function safeHref(url: string | null | undefined): string | null {
  if (typeof url !== 'string' || url.trim() === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  if (!SAFE_PROTOCOLS.has(parsed.protocol)) return null;
  // A mailto: needs an address; http(s) needs a host (the parser already refuses `http:` without one).
  if (parsed.protocol === 'mailto:' && parsed.pathname === '') return null;
  return parsed.href;
}

/** Replies longer than this (lines or characters) start collapsed behind "Show all". */
export const COLLAPSE_LINES = 40;
export const COLLAPSE_CHARS = 3_000;
/** How much of a collapsed reply is shown. */
const PREVIEW_LINES = 24;
const PREVIEW_CHARS = 2_000;

export interface Preview {
  /** The start of the reply, cut at a line end where there is one. */
  text: string;
  /** Lines of the reply in all. */
  totalLines: number;
}

/** The start of a long reply to show collapsed; null when the reply is short enough to show whole. */
export function collapsePreview(text: string): Preview | null {
  const lines = text.split('\n');
  if (lines.length <= COLLAPSE_LINES && text.length <= COLLAPSE_CHARS) return null;
  let preview = lines.slice(0, PREVIEW_LINES).join('\n');
  if (preview.length > PREVIEW_CHARS) {
    const lastBreak = preview.lastIndexOf('\n', PREVIEW_CHARS);
    preview = preview.slice(0, lastBreak > 0 ? lastBreak : PREVIEW_CHARS);
  }
  return { text: preview, totalLines: lines.length };
}
