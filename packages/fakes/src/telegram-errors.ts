/** Telegram's error envelope, and the refusals the fake answers with it. */

export interface ErrorEnvelope {
  ok: false;
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/** Thrown by a method handler; answered as `{ok:false,error_code,description,parameters?}` with that HTTP status. */
export class TelegramApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: ErrorEnvelope['parameters'],
  ) {
    super(`${code}: ${description}`);
    this.name = 'TelegramApiError';
  }

  envelope(): ErrorEnvelope {
    return {
      ok: false,
      error_code: this.code,
      description: this.description,
      ...(this.parameters ? { parameters: this.parameters } : {}),
    };
  }
}

export function badRequest(detail: string): TelegramApiError {
  return new TelegramApiError(400, `Bad Request: ${detail}`);
}

export function unauthorized(): TelegramApiError {
  return new TelegramApiError(401, 'Unauthorized');
}

export function methodNotFound(): TelegramApiError {
  return new TelegramApiError(404, 'Not Found: method not found');
}

export function conflict(): TelegramApiError {
  return new TelegramApiError(
    409,
    'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  );
}

export function rateLimited(retryAfter: number): TelegramApiError {
  return new TelegramApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
}

const SERVER_ERRORS: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function serverError(status: number): TelegramApiError {
  return new TelegramApiError(status, SERVER_ERRORS[status] ?? 'Internal Server Error');
}

/** What nginx in front of the Bot API answers when the backend is away. */
export function serverErrorHtml(status: number): string {
  return `<html><body><h1>${status} ${SERVER_ERRORS[status] ?? 'Internal Server Error'}</h1></body></html>`;
}
