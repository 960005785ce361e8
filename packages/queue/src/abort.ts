/** Why a running job was aborted; carried as the AbortSignal's reason. */
export type AbortCause = 'canceled' | 'timeout' | 'shutdown';

export class JobAbort extends Error {
  readonly abortCause: AbortCause;
  constructor(cause: AbortCause) {
    super(
      cause === 'canceled'
        ? 'canceled by the owner'
        : cause === 'timeout'
          ? 'the job ran past its timeout'
          : 'the service is shutting down',
    );
    this.name = 'JobAbort';
    this.abortCause = cause;
  }
}

export function abortCauseOf(signal: AbortSignal): AbortCause | null {
  return signal.aborted && signal.reason instanceof JobAbort ? signal.reason.abortCause : null;
}
