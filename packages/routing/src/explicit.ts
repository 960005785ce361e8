/**
 * Explicit task references: `#t_<ulid>` in a message pins it to that task without asking a model.
 * Matching is case-insensitive (people retype ids); results are lowercased like stored ids.
 */
const REF_RE = /(?<![\p{L}\p{N}_])#(t_[0-9a-hjkmnp-tv-z]{26})(?![\p{L}\p{N}_])/giu;

/** Every distinct task reference in `text`, in order of first appearance. */
export function findExplicitTaskRefs(text: string): string[] {
  const seen = new Set<string>();
  for (const m of text.matchAll(REF_RE)) seen.add((m[1] ?? '').toLowerCase());
  return [...seen];
}

/** The first task reference in `text`, or null. */
export function findExplicitTaskRef(text: string): string | null {
  return findExplicitTaskRefs(text)[0] ?? null;
}
