import { RawConfigSchema } from './schema.js';
import type { Assignment } from './assign.js';
import { isTable } from './assign.js';
import type { Origin, Problems } from './problems.js';
import { locate, unknownKeyMessage } from './tree.js';

/*
 * Settings given as text (environment variables, --set key=value) are turned into the type the
 * schema expects at that key: numbers, booleans, JSON arrays, and JSON objects for tables of strings.
 */

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function textAssignments(
  segments: readonly string[],
  text: string,
  origin: Origin,
  problems: Problems,
  opts: { lowercase: boolean; joiner: string; sectionHint: (key: string) => string },
): Assignment[] {
  const found = locate(RawConfigSchema, segments, opts);
  if (!found.ok) {
    const key = found.failedAt.join('.');
    const last = found.failedAt[found.failedAt.length - 1] ?? '';
    problems.add(origin.label, key, unknownKeyMessage(last, found.known));
    return [];
  }
  const { at } = found;
  const key = at.path.join('.');
  const node = at.node;
  if (node.kind === 'section') {
    problems.add(origin.label, key, `is a section, not a setting; ${opts.sectionHint(key)}`);
    return [];
  }
  if (node.kind === 'record') {
    // A whole table of strings in one value: a JSON object.
    const parsed = parseJson(text);
    if (!isTable(parsed)) {
      problems.add(
        origin.label,
        key,
        `expected a JSON object of strings such as {"NAME":"value"}, got ${JSON.stringify(text)}`,
      );
      return [];
    }
    return Object.entries(parsed).map(([k, val]) => ({
      path: [...at.path, k],
      value: val,
      origin,
      record: { path: at.path, key: node.key, value: node.value },
    }));
  }
  const coerced = coerce(text, node.base);
  if (!coerced.ok) {
    problems.add(origin.label, key, `${coerced.message}, got ${JSON.stringify(text)}`);
    return [];
  }
  return [{ path: at.path, value: coerced.value, origin, ...(at.record !== undefined ? { record: at.record } : {}) }];
}

function coerce(
  text: string,
  base: 'string' | 'number' | 'boolean' | 'array',
): { ok: true; value: unknown } | { ok: false; message: string } {
  switch (base) {
    case 'string':
      return { ok: true, value: text };
    case 'number':
      return NUMBER_RE.test(text.trim())
        ? { ok: true, value: Number(text) }
        : { ok: false, message: 'expected a number' };
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (TRUE.has(t)) return { ok: true, value: true };
      if (FALSE.has(t)) return { ok: true, value: false };
      return { ok: false, message: 'expected true or false (also 1/0, yes/no, on/off)' };
    }
    case 'array': {
      const parsed = parseJson(text);
      return Array.isArray(parsed)
        ? { ok: true, value: parsed }
        : { ok: false, message: 'expected a JSON array such as ["a","b"]' };
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
