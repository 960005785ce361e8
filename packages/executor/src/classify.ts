import type { ErrorClass, ExecutorKind } from '@alter0/core';

/** An error the CLI reported in its own structured output (claude's result object, codex's events). */
export interface ErrorPayload {
  /** HTTP status of the failed model API call, when the CLI reports one. */
  status?: number | null;
  /** Provider error type, e.g. "authentication_error", "rate_limit_error", "overloaded_error". */
  type?: string | null;
  message?: string | null;
}

/** What a failed run left behind: the evidence classification works from. */
export interface FailureEvidence {
  exitCode: number | null;
  stderr: string;
  payload?: ErrorPayload | null;
}

const AUTH_TYPES = new Set(['authentication_error', 'permission_error', 'invalid_api_key']);
const RATE_TYPES = new Set(['rate_limit_error', 'rate_limit_exceeded']);
const UNAVAILABLE_TYPES = new Set(['overloaded_error', 'api_error', 'server_error', 'timeout_error']);

const AUTH_TEXT =
  /(?:status|error|http)[: ]+40[13]\b|\(40[13]\)|unauthori[sz]ed|authentication[_ ](?:error|failed)|invalid[ _-](?:x-)?api[ _-]?key|api key (?:is )?(?:invalid|missing|not set|refused)|not logged in|please run \/login|\blogin required|missing environment variable: `?\w+|forbidden/i;
const RATE_TEXT = /(?:status|error|http)[: ]+429\b|\(429\)|rate[ _-]?limit|too many requests/i;
const UNAVAILABLE_TEXT =
  /overloaded|(?:status|error|http|api error)[: ]+5\d\d\b|\(5\d\d\)|\b5\d\d (?:internal|bad gateway|service unavailable|gateway timeout)|internal server error|service unavailable|bad gateway|gateway timeout|high demand|at capacity|\btimed out\b|idle timeout|econnrefused|econnreset|etimedout|enotfound|eai_again|socket hang up|fetch failed|connection (?:error|refused|reset|failed|closed)|stream disconnected|network (?:error|is unreachable)|waiting for network|empty or malformed response/i;

/** Exit codes a shell uses for "command not found" (127) and "found but not executable" (126). */
const SHELL_NOT_FOUND = new Set([126, 127]);

/**
 * Map the evidence of a failed run to its error class (docs/architecture.md, "Executors"). Structured payloads win
 * over text; within text, auth beats rate limits beats unavailability, because a refused key
 * can surface alongside retry noise and retrying it never helps.
 */
export function classifyFailure(ev: FailureEvidence): ErrorClass {
  const p = ev.payload ?? null;
  if (p !== null) {
    const byStatus = classifyStatus(p.status ?? null);
    if (byStatus !== null) return byStatus;
    const t = (p.type ?? '').toLowerCase();
    if (AUTH_TYPES.has(t)) return 'auth';
    if (RATE_TYPES.has(t)) return 'rate_limited';
    if (UNAVAILABLE_TYPES.has(t)) return 'unavailable';
  }
  const text = `${p?.message ?? ''}\n${ev.stderr}`;
  if (AUTH_TEXT.test(text)) return 'auth';
  if (RATE_TEXT.test(text)) return 'rate_limited';
  if (UNAVAILABLE_TEXT.test(text)) return 'unavailable';
  if (ev.exitCode !== null && SHELL_NOT_FOUND.has(ev.exitCode)) return 'not_found';
  return 'exit';
}

export function classifyStatus(status: number | null): ErrorClass | null {
  if (status === null) return null;
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status === 408 || status >= 500) return 'unavailable';
  return null;
}

/** The program's name plus what to do about each class, so every error message says both. */
export function failureMessage(
  kind: ExecutorKind,
  label: string,
  cls: ErrorClass,
  detail: string,
  exitCode: number | null,
): string {
  const what = detail.trim() === '' ? '' : ` (${oneLine(detail)})`;
  switch (cls) {
    case 'auth':
      return `${label} is not logged in or its credentials were refused${what}; ${loginHint(kind)}`;
    case 'rate_limited':
      return `${label} was rate limited by its model provider${what}; the job is retried with backoff, and if this persists check the account's usage limits`;
    case 'unavailable':
      return `${label} could not get an answer from its model provider (network error, overload or server error)${what}; the job is retried with backoff, and if this persists check the network and the provider's status`;
    case 'not_found':
      return `${label} could not find a program it needs${what}${exitCode === null ? '' : ` (exit ${exitCode})`}; check that the configured program and what it calls are installed and on PATH`;
    case 'bad_output':
      return `${label} produced output alter0 cannot use${what}; see the stderr tail, and check that the CLI version is supported`;
    case 'exit':
      return `${label} failed with exit code ${exitCode ?? 'none'}${what}; see the stderr tail for the cause`;
    case 'timeout':
      return `${label} timed out${what}; raise the timeout if the work needs longer`;
    case 'canceled':
      return `${label} run was canceled${what}`;
    case 'internal':
      return `${label} failed inside alter0${what}; this is a bug, please report it with the log`;
  }
}

function loginHint(kind: ExecutorKind): string {
  switch (kind) {
    case 'claude':
      return 'run `claude` once interactively to log in (or set ANTHROPIC_API_KEY for the service)';
    case 'codex':
      return 'run `codex login` once (or set OPENAI_API_KEY for the service)';
    case 'command':
      return 'check the credentials the configured program uses';
  }
}

/** First meaningful line of a message, bounded, for embedding in another message. */
export function oneLine(text: string, max = 300): string {
  const line =
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** The last non-empty lines of stderr, as the detail of an error when nothing better exists. */
export function stderrDetail(stderr: string, maxLines = 3): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.slice(-maxLines).join(' | ');
}
