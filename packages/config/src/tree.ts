import * as v from 'valibot';

/*
 * Reads the shape of the valibot schema at run time, so the file, environment and flag layers are
 * checked key by key against the same schema the final parse uses (one definition, no copies).
 */

type Schema = v.GenericSchema;

export type SchemaNode =
  | { kind: 'section'; entries: ReadonlyMap<string, Schema> }
  | { kind: 'record'; key: Schema; value: Schema }
  | { kind: 'leaf'; schema: Schema; base: LeafBase };

/** How a text value (environment, --set) is turned into this leaf's type before validation. */
type LeafBase = 'string' | 'number' | 'boolean' | 'array';

function isSchema(x: unknown): x is Schema {
  return (
    typeof x === 'object' &&
    x !== null &&
    'kind' in x &&
    x.kind === 'schema' &&
    'type' in x &&
    typeof x.type === 'string'
  );
}

function prop(s: Schema, name: string): unknown {
  return (s as unknown as Record<string, unknown>)[name];
}

function unwrapOptional(s: Schema): Schema {
  const wrapped = prop(s, 'wrapped');
  return s.type === 'optional' && isSchema(wrapped) ? unwrapOptional(wrapped) : s;
}

export function describeSchema(schema: Schema): SchemaNode {
  const s = unwrapOptional(schema);
  const entries = prop(s, 'entries');
  if ((s.type === 'strict_object' || s.type === 'object') && typeof entries === 'object' && entries !== null) {
    const map = new Map<string, Schema>();
    for (const [k, e] of Object.entries(entries)) if (isSchema(e)) map.set(k, e);
    return { kind: 'section', entries: map };
  }
  const key = prop(s, 'key');
  const value = prop(s, 'value');
  if (s.type === 'record' && isSchema(key) && isSchema(value)) return { kind: 'record', key, value };
  const base: LeafBase = s.type === 'number' || s.type === 'boolean' || s.type === 'array' ? s.type : 'string';
  return { kind: 'leaf', schema: s, base };
}

export interface Located {
  path: string[];
  node: SchemaNode;
  /** Set when the path goes through a record: the record's own path. */
  record?: { path: string[]; key: Schema; value: Schema };
}

/**
 * Follows `segments` from the root. Inside a record every remaining segment is one key (joined
 * with `joiner`), kept in its original case. Returns the known keys of the level where the walk
 * failed, for error messages.
 */
export function locate(
  root: Schema,
  segments: readonly string[],
  opts: { lowercase: boolean; joiner: string },
): { ok: true; at: Located } | { ok: false; failedAt: string[]; known: string[] } {
  let node = describeSchema(root);
  const walked: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const raw = segments[i] ?? '';
    if (node.kind === 'record') {
      const key = segments.slice(i).join(opts.joiner);
      return {
        ok: true,
        at: {
          path: [...walked, key],
          node: { kind: 'leaf', schema: node.value, base: 'string' },
          record: { path: walked, key: node.key, value: node.value },
        },
      };
    }
    const seg = opts.lowercase ? raw.toLowerCase() : raw;
    if (node.kind === 'leaf') return { ok: false, failedAt: [...walked, seg], known: [] };
    const next = node.entries.get(seg);
    if (next === undefined) return { ok: false, failedAt: [...walked, seg], known: [...node.entries.keys()] };
    walked.push(seg);
    node = describeSchema(next);
  }
  return { ok: true, at: { path: walked, node } };
}

/** Closest known key within edit distance 2, for "did you mean" hints. */
function suggest(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  if (known.length === 0) return 'unknown key';
  const hint = suggest(key.split('.').pop() ?? key, known);
  return hint !== null ? `unknown key; did you mean "${hint}"?` : `unknown key; known keys here: ${known.join(', ')}`;
}

export interface LeafIssue {
  /** Dotted path below the checked value ('' for the value itself). */
  subPath: string;
  message: string;
}

/** Validates `value` against one piece of the schema: its output, or every issue. */
export function checkLeaf(
  schema: Schema,
  value: unknown,
): { ok: true; output: unknown } | { ok: false; issues: LeafIssue[] } {
  const r = v.safeParse(schema, value);
  if (r.success) return { ok: true, output: r.output };
  return { ok: false, issues: r.issues.map((i) => ({ subPath: v.getDotPath(i) ?? '', message: i.message })) };
}
