import * as v from 'valibot';
import type { Context } from 'hono';
import { ValidationError } from '@alter0/core';

/** Reading a request: the schemas are the contract's (@alter0/api); the 400 wording is the daemon's. */

/** Validates with a message that names each bad field (`invalid <what>: field: problem; …`). */
export function parseInput<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const r = v.safeParse(schema, value);
  if (r.success) return r.output;
  const problems = r.issues.map((i) => {
    const p = v.getDotPath(i);
    return p ? `${p}: ${i.message}` : i.message;
  });
  throw new ValidationError(`invalid ${what}: ${problems.join('; ')}`);
}

/** The JSON body; an empty body is `fallback` where the endpoint allows one (`{}` for cancel, retry, close, reopen). */
export async function readJson(c: Context, fallback?: unknown): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (fallback !== undefined) return fallback;
    throw new ValidationError('the request body is empty; send a JSON object');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ValidationError(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}
