/** An Error as it appears in a log record. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError | string;
  [extra: string]: unknown;
}

const MAX_DEPTH = 3;

/**
 * name, message, code and stack, plus the error's own primitive fields (e.g. ExecutorError's
 * errorClass and exitCode) and its cause, a few levels deep.
 */
export function serializeError(err: Error, depth = 0): SerializedError {
  const out: SerializedError = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = String(code);
  if (err.stack !== undefined) out.stack = err.stack;
  for (const [k, v] of Object.entries(err)) {
    if (k in out || k === 'cause') continue;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  if (err.cause !== undefined) {
    out.cause =
      err.cause instanceof Error && depth < MAX_DEPTH ? serializeError(err.cause, depth + 1) : causeText(err.cause);
  }
  return out;
}

/**
 * JSON for a log record that never throws: Errors are serialized, bigints become strings,
 * cycles become "[Circular]". `redact`, when given, cleans every string value (messages, fields, error
 * messages and stacks) before it is written.
 */
export function toJsonLine(record: Record<string, unknown>, redact?: (text: string) => string): string {
  const ancestors: object[] = [];
  return JSON.stringify(record, function (this: unknown, _key, value: unknown) {
    if (typeof value === 'string') return redact === undefined ? value : redact(value);
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return serializeError(value);
    if (typeof value !== 'object' || value === null) return value;
    // `this` is the object holding `value`; drop ancestors that are no longer on the path.
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(value)) return '[Circular]';
    ancestors.push(value);
    return value;
  });
}

/** A non-Error cause as text: its JSON where it has one (not "[object Object]"), else its string form. */
function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  try {
    return JSON.stringify(cause) ?? typeof cause;
  } catch {
    return Object.prototype.toString.call(cause);
  }
}
