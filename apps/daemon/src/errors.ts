import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Alter0Error } from '@alter0/core';
import { ConflictError, LimitError, NotFoundError, UnavailableError, ValidationError } from '@alter0/core';

/** The API's one error shape: `{"error":{"code","message"}}`. */
function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export function sendError(c: Context, status: ContentfulStatusCode, code: string, message: string): Response {
  return c.json(errorBody(code, message), status);
}

export function statusFor(err: Alter0Error): ContentfulStatusCode {
  if (err instanceof ValidationError) return 400;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  // Too much work already waiting: the client should slow down and retry later.
  if (err instanceof LimitError) return 429;
  if (err instanceof UnavailableError) return 503;
  return 500;
}
