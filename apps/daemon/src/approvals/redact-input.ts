import type { Redact } from '@alter0/config';
import { REDACTED, isSecretName, redactText } from '@alter0/config';

const MAX_DEPTH = 8;
const MAX_STRING = 4000;

/**
 * A tool's input as it is stored and shown: values under secret-looking names hidden, every string passed through
 * the one redactor and the shape rules `--print-config` uses (tokens, auth headers, URL passwords), long strings
 * cut. Only this copy is kept; the agent keeps its own.
 */
export function redactInput(input: unknown, redact: Redact, depth = 0): unknown {
  if (typeof input === 'string') {
    const cut = input.length > MAX_STRING ? `${input.slice(0, MAX_STRING)}…` : input;
    return redactText(redact(cut), { deep: true });
  }
  if (input === null || typeof input !== 'object') return input;
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(input)) return input.slice(0, 200).map((x) => redactInput(x, redact, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(input as Record<string, unknown>).slice(0, 200)) {
    out[k] = isSecretName(k) && val !== null && val !== '' ? REDACTED : redactInput(val, redact, depth + 1);
  }
  return out;
}
