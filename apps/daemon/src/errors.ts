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

/** SQLite's refusals that are about the storage, not the request: what the client is told, and how. */
interface StorageRefusal {
  status: ContentfulStatusCode;
  code: string;
  message: string;
}

/**
 * A write the database refused for a reason of its storage — locked by another program past the busy timeout, the
 * disk full, an I/O error, a read-only file — as a clear answer instead of a 500. The transaction was rolled back:
 * nothing of the request was kept, so the client may send it again. Null for any other error.
 */
export function storageRefusal(err: unknown): StorageRefusal | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return null;
  const kept = 'nothing of this request was kept; send it again';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return {
      status: 503,
      code: 'storage_busy',
      message: `the database is held by another program (${code}); ${kept} in a moment, and find what holds alter0.db (a sqlite3 shell, a long db verify) if it lasts`,
    };
  }
  if (code === 'SQLITE_FULL') {
    return {
      status: 507,
      code: 'storage_full',
      message: `the disk holding alter0's data directory is full; ${kept} once space is free (alter0 status shows the free space)`,
    };
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN') {
    return {
      status: 503,
      code: 'storage_unavailable',
      message: `the database could not be written (${code}); ${kept} later, and look at the service log and the disk`,
    };
  }
  return null;
}
