/** The client's typed failures: the daemon said no, its answer broke the contract, or it could not be reached. */

/** The daemon answered with an error envelope (`{"error":{"code","message"}}`) and a 4xx/5xx status. */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** An answer (or event) that does not match its schema: the daemon and this client disagree about the contract. */
export class ApiContractError extends Error {
  override readonly name = 'ApiContractError';
  constructor(
    /** `GET /api/jobs/{id}`, or `event job` for the event stream. */
    readonly endpoint: string,
    /** Dot paths of the offending fields ('' for the whole answer), with what was wrong there. */
    readonly issues: readonly { path: string; message: string }[],
    readonly status: number | null = null,
  ) {
    super(
      `${endpoint}: the answer does not match the API contract (docs/api.md): ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`,
    );
  }
}

/** The request never got an answer: nothing listens at the URL, the connection broke, or it timed out. */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
  constructor(
    readonly url: string,
    options: { cause: unknown },
  ) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `cannot reach alter0 at ${url} (${why}): is \`alter0 serve\` running at ${originOf(url)}? Start it, or point the client at the address it listens on (--addr or ALTER0_URL for the CLI).`,
      options,
    );
  }
}

/** The daemon's address for the message; a relative URL (the console's same-origin base '') is the page's origin. */
function originOf(url: string): string {
  try {
    // `location` exists in the browser only; this package is also compiled without the DOM library (Node tests).
    const page = (globalThis as { location?: { href: string } }).location;
    return new URL(url, page?.href).origin;
  } catch {
    return url;
  }
}
