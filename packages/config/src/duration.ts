import { ConfigError } from '@alter0/core';

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/**
 * Parses a duration such as `500ms`, `30s`, `15m`, `24h`, `14d` or `2w` into milliseconds.
 * One number and one unit; a bare number is refused because its unit would be a guess.
 */
export function parseDuration(s: string): number {
  const m = DURATION_RE.exec(s.trim());
  const unit = m?.[2];
  const amount = m?.[1];
  if (unit === undefined || amount === undefined) {
    throw new ConfigError(
      `invalid duration ${JSON.stringify(s)}: write a number followed by one unit of ms, s, m, h, d, w (e.g. "30s", "14d")`,
    );
  }
  const ms = Number(amount) * (UNIT_MS[unit] ?? Number.NaN);
  if (!Number.isSafeInteger(Math.round(ms))) {
    throw new ConfigError(`invalid duration ${JSON.stringify(s)}: too large`);
  }
  return Math.round(ms);
}

/** True when `s` parses as a duration (for schema checks that report their own message). */
export function isDuration(s: string): boolean {
  try {
    parseDuration(s);
    return true;
  } catch {
    return false;
  }
}
