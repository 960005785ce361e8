import { errorMessage } from '@alter0/core';

/**
 * What a failed fetch says, with its cause: fetch's own error says only "fetch failed", while the cause
 * (ECONNREFUSED, a reset, a refused redirect, a timeout) is what helps the owner.
 */
export function fetchFailure(e: unknown): string {
  const cause = e instanceof Error ? e.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${errorMessage(e)} (${typeof code === 'string' ? `${code}: ` : ''}${cause.message})`;
  }
  return errorMessage(e);
}
