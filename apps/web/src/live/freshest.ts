/**
 * A fetch that started before a live event can answer after it with older data. These keep whichever
 * copy of a record changed last, so a slow response never rolls the screen back.
 */
interface Versioned {
  id: string;
  updated_at: string;
}

export function newer<T extends Versioned>(a: T | null | undefined, b: T): T {
  if (!a || a.id !== b.id) return b;
  return a.updated_at > b.updated_at ? a : b;
}

export function mergeList<T extends Versioned>(prev: readonly T[] | null, next: T[]): T[] {
  if (!prev) return next;
  const known = new Map(prev.map((x) => [x.id, x]));
  return next.map((x) => newer(known.get(x.id), x));
}
