/**
 * Tokens for lexical ranking: lowercase, accents folded, split on anything that is not a letter,
 * digit or underscore (so `parse_config` stays one token but `src/app.ts` splits), stop words and
 * one-letter tokens dropped, a plural `s` stripped so "tests" meets "test".
 */
const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have he her his how i if in ' +
    'into is it its just me my no not now of on or our please so some than that the their them then there ' +
    'these they this to too up us was we were what when where which who why will with would you your ' +
    'also again about any all get got make let lets ok okay thanks thank yes hi hello hey'
  ).split(' '),
);

export function tokenize(text: string): string[] {
  const out: string[] = [];
  // Folding is the slow part; most text is ASCII and needs none.
  const ascii = !/[\u0080-\uffff]/.test(text);
  const parts = ascii
    ? text.toLowerCase().split(/[^a-z0-9_]+/)
    : text
        .normalize('NFKD')
        .replace(/\p{M}+/gu, '')
        .toLowerCase()
        .split(/[^\p{L}\p{N}_]+/u);
  for (const raw of parts) {
    if (raw.length < 2 || STOP_WORDS.has(raw)) continue;
    out.push(raw.length > 3 && raw.endsWith('s') && !raw.endsWith('ss') ? raw.slice(0, -1) : raw);
  }
  return out;
}
