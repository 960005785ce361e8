import { clip, collapseWhitespace } from '@alter0/model-call';

/** Characters kept of each side of a turn in the rolling summary. */
const GIST_CHARS = 140;
const UNTITLED = 'Untitled task';

/** The gist of a message: code blocks dropped, first sentence or line, clipped. */
function gist(text: string, maxChars: number): string {
  const noCode = text.replace(/```[\s\S]*?(```|$)/g, ' [code] ');
  const firstLine =
    noCode
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '' && l !== '[code]') ?? '';
  const sentence = /^(.+?[.!?])(\s|$)/u.exec(firstLine)?.[1] ?? firstLine;
  return clip(collapseWhitespace(sentence.replace(/^[#>*\-\s]+/, '')), maxChars);
}

/**
 * A cheap rolling summary (no model call) the daemon stores on a task after each turn, used by the
 * router's candidate view. One line per turn, `U: … → A: …`; when it outgrows `maxChars`, the oldest
 * lines go first but the first line (the task's original ask) is kept while it fits.
 */
export function summarize(previousSummary: string, lastUser: string, lastAssistant: string, maxChars = 600): string {
  if (maxChars <= 0) return '';
  const u = gist(lastUser, GIST_CHARS);
  const a = gist(lastAssistant, GIST_CHARS);
  const turn = u === '' && a === '' ? '' : `U: ${u || '…'} → A: ${a || '…'}`;
  const lines = previousSummary
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (turn !== '') lines.push(turn);
  const fits = (ls: readonly string[]): boolean => ls.join('\n').length <= maxChars;
  while (lines.length > 2 && !fits(lines)) lines.splice(1, 1);
  if (!fits(lines)) lines.splice(0, lines.length - 1);
  const out = lines.join('\n');
  return out.length <= maxChars ? out : clip(out, maxChars);
}

/** A task title from its first message: the first non-empty line, about 80 chars cut on a word boundary. */
export function titleFrom(message: string, maxChars = 80): string {
  const line = message
    .split('\n')
    .map((l) => collapseWhitespace(l.replace(/^[#>*\-\s]+/, '')))
    .find((l) => l !== '' && !l.startsWith('```'));
  return line === undefined ? UNTITLED : clip(line, maxChars);
}
