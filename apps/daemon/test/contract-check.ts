import fs from 'node:fs';
import * as v from 'valibot';
import { expect } from 'vitest';
import { ErrorEnvelope } from '@alter0/api';

/** Checks of live answers against @alter0/api's schemas, and the endpoint table of docs/api.md. */

/** `METHOD /path/{param}` for every row of the "Endpoints" table of docs/api.md. */
export function documentedEndpoints(file: string): string[] {
  const rows = fs.readFileSync(file, 'utf8').matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|/gm);
  return [...rows].map((m) => `${m[1]} ${m[2]}`);
}

/** The same form for what a hono app serves (`:id` → `{id}`); middleware and catch-alls are not endpoints. */
export function servedEndpoints(routes: readonly { method: string; path: string }[]): string[] {
  const out = routes
    .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
    .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
  return [...new Set(out)];
}

/**
 * Keys the value has that its schema does not name (the schemas strip unknown keys, so parsing alone would not
 * notice a field the server sends and the contract does not have).
 */
function unknownKeys(schema: v.GenericSchema, value: unknown, at = ''): string[] {
  const s = schema as v.GenericSchema & {
    wrapped?: v.GenericSchema;
    entries?: v.ObjectEntries;
    item?: v.GenericSchema;
    options?: v.GenericSchema[];
  };
  if ((s.type === 'nullable' || s.type === 'optional') && s.wrapped)
    return value == null ? [] : unknownKeys(s.wrapped, value, at);
  if (s.type === 'array' && s.item && Array.isArray(value))
    return value.flatMap((x, i) => unknownKeys(s.item!, x, `${at}[${i}]`));
  if (s.type === 'union' && s.options) {
    const match = s.options.find((o) => v.is(o, value));
    return match ? unknownKeys(match, value, at) : [];
  }
  if (s.type === 'object' && s.entries && typeof value === 'object' && value !== null) {
    const entries = s.entries;
    return Object.entries(value).flatMap(([k, x]) => {
      const sub = entries[k];
      const p = at ? `${at}.${k}` : k;
      return sub ? unknownKeys(sub, x, p) : [p];
    });
  }
  return [];
}

/** Asserts the status, and that the JSON body matches the schema exactly (no missing, wrong or extra field). */
export async function expectAnswer<S extends v.GenericSchema>(
  res: Response,
  status: number,
  schema: S,
  what: string,
): Promise<v.InferOutput<S>> {
  const text = await res.text();
  expect(res.status, `${what}: ${text.slice(0, 300)}`).toBe(status);
  expect(res.headers.get('content-type'), what).toContain('application/json');
  const json = JSON.parse(text) as unknown;
  const r = v.safeParse(schema, json);
  const issues = r.success ? [] : r.issues.map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`);
  expect(issues, `${what}: ${text.slice(0, 500)}`).toEqual([]);
  expect(unknownKeys(schema, json), `${what}: fields the contract does not have`).toEqual([]);
  return (r as v.SafeParseResult<S> & { success: true }).output;
}

/** An error answer: the status, the envelope, the code. */
export async function expectError(res: Response, status: number, code: string, what: string): Promise<string> {
  const body = await expectAnswer(res, status, ErrorEnvelope, what);
  expect(body.error.code, what).toBe(code);
  return body.error.message;
}
