import os from 'node:os';
import path from 'node:path';
import { RawConfigSchema, PATH_KEYS } from './schema.js';
import { checkLeaf, describeSchema, type LeafIssue, type Located, type SchemaNode, unknownKeyMessage } from './tree.js';
import type { Origin, Problems } from './problems.js';

/** One setting from one source, before it is merged with the others. */
export interface Assignment {
  path: string[];
  value: unknown;
  origin: Origin;
  /** The record (e.g. executor.env) this is one entry of. */
  record?: Located['record'];
}

export function isTable(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Flattens a parsed config file into assignments, reporting unknown keys and non-table sections. */
export function tableAssignments(table: unknown, origin: Origin, problems: Problems): Assignment[] {
  const out: Assignment[] = [];
  const walk = (node: SchemaNode, value: unknown, at: string[]): void => {
    const key = at.join('.');
    if (node.kind === 'section') {
      if (!isTable(value)) {
        problems.add(origin.label, key, `expected a table, got ${describeValue(value)}`);
        return;
      }
      for (const [k, val] of Object.entries(value)) {
        const next = node.entries.get(k);
        if (next === undefined) {
          problems.add(origin.label, [...at, k].join('.'), unknownKeyMessage(k, [...node.entries.keys()]));
          continue;
        }
        walk(describeSchema(next), val, [...at, k]);
      }
      return;
    }
    if (node.kind === 'record') {
      if (!isTable(value)) {
        problems.add(origin.label, key, `expected a table of strings, got ${describeValue(value)}`);
        return;
      }
      for (const [k, val] of Object.entries(value)) {
        out.push({ path: [...at, k], value: val, origin, record: { path: at, key: node.key, value: node.value } });
      }
      return;
    }
    out.push({ path: at, value, origin });
  };
  walk(describeSchema(RawConfigSchema), table, []);
  return out;
}

/**
 * Validates one assignment against its piece of the schema and returns the value to merge
 * (the schema's output, with paths made absolute), or records the problems.
 */
export function checkAssignment(
  a: Assignment,
  problems: Problems,
  env: NodeJS.ProcessEnv,
): { ok: true; value: unknown } | { ok: false } {
  const key = a.path.join('.');
  const schemaIssues: LeafIssue[] = [];
  let value: unknown = a.value;
  if (a.record !== undefined) {
    const entryKey = a.path[a.path.length - 1] ?? '';
    const k = checkLeaf(a.record.key, entryKey);
    if (!k.ok) {
      for (const i of k.issues)
        problems.add(a.origin.label, key, `bad name: ${i.message} (got ${JSON.stringify(entryKey)})`);
      return { ok: false };
    }
    const r = checkLeaf(a.record.value, a.value);
    if (r.ok) value = r.output;
    else schemaIssues.push(...r.issues);
  } else {
    const node = locateLeaf(a.path);
    if (node === null) {
      problems.add(a.origin.label, key, 'unknown key');
      return { ok: false };
    }
    const r = checkLeaf(node.schema, a.value);
    if (r.ok) value = r.output;
    else schemaIssues.push(...r.issues);
  }
  if (schemaIssues.length > 0) {
    for (const i of schemaIssues) {
      problems.add(
        a.origin.label,
        i.subPath === '' ? key : `${key}.${i.subPath}`,
        `${i.message} (got ${describeValue(a.value)})`,
      );
    }
    return { ok: false };
  }
  if (PATH_KEYS.has(key) && typeof value === 'string' && value !== '') {
    value = resolvePath(value, a.origin.baseDir, env);
  }
  return { ok: true, value };
}

function locateLeaf(p: readonly string[]): Extract<SchemaNode, { kind: 'leaf' }> | null {
  let node = describeSchema(RawConfigSchema);
  for (const seg of p) {
    if (node.kind !== 'section') return null;
    const next = node.entries.get(seg);
    if (next === undefined) return null;
    node = describeSchema(next);
  }
  return node.kind === 'leaf' ? node : null;
}

/** `~/x` uses the owner's home; relative paths resolve against the source's folder. */
function resolvePath(p: string, baseDir: string, env: NodeJS.ProcessEnv): string {
  if (p === '~' || p.startsWith('~/')) return path.join(env.HOME ?? os.homedir(), p.slice(1));
  return path.resolve(baseDir, p);
}

function describeValue(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 80 ? `${x.slice(0, 77)}...` : x);
  if (Array.isArray(x)) return 'an array';
  if (x === null) return 'null';
  if (typeof x === 'object') return x instanceof Date ? 'a date' : 'a table';
  return typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint' ? String(x) : typeof x;
}
