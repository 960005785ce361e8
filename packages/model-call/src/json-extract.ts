/**
 * Pulls JSON objects out of a model reply that may wrap them in prose or code fences.
 * It never repairs JSON (no trailing-comma or quote fixing): what does not parse is not an answer.
 */

/** Replies longer than this are only scanned up to here; router/closer answers are a few hundred chars. */
const MAX_SCAN_CHARS = 65_536;
/** Upper bound on brace-matching steps, so adversarial input like "{{{{..." stays linear-ish. */
const MAX_SCAN_STEPS = 4_000_000;
/**
 * Objects and arrays nested deeper than this are never an answer (a router or closer answer is two levels deep).
 * They are dropped as soon as they are parsed, so nothing downstream (canonical JSON, validation, logging)
 * recurses into a value a model printed thousands of levels deep.
 */
export const MAX_ANSWER_DEPTH = 32;

export type JsonObject = Record<string, unknown>;

function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when `v` nests no deeper than `max` levels; iterative, so it cannot overflow the stack itself. */
export function nestsWithin(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (depth > max) return false;
    for (const child of Array.isArray(x) ? x : Object.values(x)) stack.push([child, depth + 1]);
  }
  return true;
}

/** Index of the `}` closing the `{` at `start` (string-aware), or -1; `steps` counts work done. */
function matchBrace(text: string, start: number, budget: { steps: number }): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    if (--budget.steps < 0) return -1;
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
    } else if (ch === '{') {
      depth++;
    } else if (ch === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * Every top-level JSON object found in `raw`, left to right. When an outer `{...}` does not parse
 * (prose braces), scanning resumes just after its `{`, so an object nested in it can still be found.
 */
export function extractJsonObjects(raw: string): JsonObject[] {
  const text = raw.length > MAX_SCAN_CHARS ? raw.slice(0, MAX_SCAN_CHARS) : raw;
  const found: JsonObject[] = [];
  const budget = { steps: MAX_SCAN_STEPS };
  let i = text.indexOf('{');
  while (i !== -1 && budget.steps > 0) {
    const end = matchBrace(text, i, budget);
    let next = i + 1;
    if (end !== -1) {
      try {
        const parsed: unknown = JSON.parse(text.slice(i, end + 1));
        if (isPlainObject(parsed)) {
          // Too deep to be an answer: skipped whole (not scanned inside: its inner objects are just as deep).
          if (nestsWithin(parsed, MAX_ANSWER_DEPTH)) found.push(parsed);
          next = end + 1;
        }
      } catch {
        // Not JSON: keep scanning inside it.
      }
    }
    i = text.indexOf('{', next);
  }
  return found;
}

/** JSON text with object keys sorted, so that key order does not make two answers "different" (depth-bounded input). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export type PickResult =
  { ok: true; object: JsonObject } | { ok: false; code: 'no_json' | 'multiple_conflicting_objects'; detail: string };

/**
 * The one answer object in `raw`. Objects sharing no key with `answerKeys` (examples, unrelated
 * JSON the model echoed) are ignored; identical answers repeated are one answer; different ones conflict.
 */
export function pickAnswerObject(raw: string, answerKeys: readonly string[]): PickResult {
  const all = extractJsonObjects(raw);
  if (all.length === 0) return { ok: false, code: 'no_json', detail: 'no JSON object found in the model output' };
  const relevant = all.filter((o) => answerKeys.some((k) => Object.hasOwn(o, k)));
  if (relevant.length === 0) {
    return {
      ok: false,
      code: 'no_json',
      detail: `found ${all.length} JSON object(s) but none has any of the keys ${answerKeys.join(', ')}`,
    };
  }
  const distinct = new Map<string, JsonObject>();
  for (const o of relevant) distinct.set(canonicalJson(o), o);
  if (distinct.size > 1) {
    const shown = [...distinct.keys()].slice(0, 3).map((s) => (s.length > 200 ? `${s.slice(0, 200)}…` : s));
    return {
      ok: false,
      code: 'multiple_conflicting_objects',
      detail: `${distinct.size} different answer objects: ${shown.join(' | ')}`,
    };
  }
  const [only] = distinct.values();
  if (only === undefined) return { ok: false, code: 'no_json', detail: 'no JSON object found in the model output' };
  return { ok: true, object: only };
}
