/**
 * What a fake model server does with the next model request. Both fakes (Anthropic, OpenAI)
 * speak the same script; each renders it in its own wire format.
 */
export type Behaviour =
  | {
      kind: 'reply';
      text: string;
      /** Wait this long before the response headers. */
      delayMs: number;
      /** Split the text into this many stream deltas (streaming requests only). */
      chunks: number;
      /** Wait this long between stream events. */
      chunkDelayMs: number;
    }
  | {
      kind: 'http_error';
      status: number;
      /** Sent as `retry-after` (seconds) when set. */
      retryAfterS: number | null;
      message: string | null;
      delayMs: number;
    }
  /**
   * The model calls one of the CLI's tools (Anthropic `tool_use` block; OpenAI `function_call`
   * item); the CLI runs it and sends the result in its next request.
   */
  | { kind: 'tool_call'; name: string; input: Record<string, unknown> }
  /** 200 and a stream whose event data is not JSON. */
  | { kind: 'malformed' }
  /** 200 and a stream cut (socket destroyed) after the first text delta. */
  | { kind: 'truncated' }
  /** 200, the stream starts, then an in-stream error event (`error` / `response.failed`). */
  | { kind: 'stream_error'; errorType: StreamErrorType }
  /** Never answers (headers=false) or answers 200 and never sends an event (headers=true), until closed. */
  | { kind: 'hang'; headers: boolean };

export type StreamErrorType = 'overloaded' | 'rate_limited' | 'server_error';

export function reply(
  text: string,
  opts: { delayMs?: number; chunks?: number; chunkDelayMs?: number } = {},
): Behaviour {
  return {
    kind: 'reply',
    text,
    delayMs: opts.delayMs ?? 0,
    chunks: Math.max(1, opts.chunks ?? 2),
    chunkDelayMs: opts.chunkDelayMs ?? 0,
  };
}

export function httpError(
  status: number,
  opts: { retryAfterS?: number; message?: string; delayMs?: number } = {},
): Behaviour {
  return {
    kind: 'http_error',
    status,
    retryAfterS: opts.retryAfterS ?? null,
    message: opts.message ?? null,
    delayMs: opts.delayMs ?? 0,
  };
}

export const toolCall = (name: string, input: Record<string, unknown>): Behaviour => ({
  kind: 'tool_call',
  name,
  input,
});
export const rateLimited = (retryAfterS = 1): Behaviour => httpError(429, { retryAfterS });
export const serverError = (): Behaviour => httpError(500);
/** Anthropic answers 529 when overloaded; the OpenAI fake renders this status as 503. */
export const overloaded = (): Behaviour => httpError(529);
export const unauthorized = (): Behaviour => httpError(401);
export const badRequest = (message?: string): Behaviour => httpError(400, message === undefined ? {} : { message });
export const malformed = (): Behaviour => ({ kind: 'malformed' });
export const truncated = (): Behaviour => ({ kind: 'truncated' });
export const streamError = (errorType: StreamErrorType = 'overloaded'): Behaviour => ({
  kind: 'stream_error',
  errorType,
});
export const hang = (opts: { headers?: boolean } = {}): Behaviour => ({ kind: 'hang', headers: opts.headers ?? false });

/** Splits `text` into `n` non-empty pieces (fewer when the text is shorter). */
export function splitText(text: string, n: number): string[] {
  if (text.length === 0) return [''];
  const count = Math.min(Math.max(1, n), text.length);
  const size = Math.ceil(text.length / count);
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}
