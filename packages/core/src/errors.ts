import type { ErrorClass } from './domain.js';
import { isRetryable } from './domain.js';

/**
 * Base of every error alter0 raises on purpose. `code` is stable and machine-readable
 * (the HTTP API returns it); `message` says what failed and what to do.
 */
export class Alter0Error extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input from a user or client: a 4xx, never a crash. */
export class ValidationError extends Alter0Error {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid_request', message, options);
  }
}

export class NotFoundError extends Alter0Error {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} does not exist`);
  }
}

/** The request is valid but the current state does not allow it (e.g. cancel a finished job). */
export class ConflictError extends Alter0Error {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** Configuration is wrong; the process should exit with status 78 (EX_CONFIG). */
export class ConfigError extends Alter0Error {
  constructor(message: string, options?: ErrorOptions) {
    super('config', message, options);
  }
}

/** Another process owns the data directory. */
export class LockHeldError extends Alter0Error {
  readonly holderPid: number | null;
  constructor(message: string, holderPid: number | null) {
    super('locked', message);
    this.holderPid = holderPid;
  }
}

/** The database schema is newer than this code knows. */
export class SchemaTooNewError extends Alter0Error {
  constructor(message: string) {
    super('schema_too_new', message);
  }
}

/** The database failed its quick_check when opened: nothing was migrated or written. */
export class DatabaseDamagedError extends Alter0Error {
  constructor(message: string) {
    super('database_damaged', message);
  }
}

/** An executor (agent CLI) run failed; `errorClass` decides whether to retry. */
export class ExecutorError extends Alter0Error {
  readonly errorClass: ErrorClass;
  readonly stderrTail: string;
  readonly exitCode: number | null;
  constructor(
    errorClass: ErrorClass,
    message: string,
    details: { stderrTail?: string; exitCode?: number | null; cause?: unknown } = {},
  ) {
    super(`executor_${errorClass}`, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.errorClass = errorClass;
    this.stderrTail = details.stderrTail ?? '';
    this.exitCode = details.exitCode ?? null;
  }
  get retryable(): boolean {
    return isRetryable(this.errorClass);
  }
}

/** Service is shutting down or otherwise not accepting work. */
export class UnavailableError extends Alter0Error {
  constructor(message: string) {
    super('unavailable', message);
  }
}

/** A bounded resource is at its limit (queued jobs, open event streams): refused now, fine to retry later. */
export class LimitError extends Alter0Error {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
