export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0..1: the delay is spread uniformly over ±jitter of itself, so retries of many jobs do not align. */
  jitter: number;
}

/** Exponential backoff before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelayMs(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(p.maxMs, p.initialMs * 2 ** Math.max(0, attempt - 1));
  const spread = base * Math.min(Math.max(p.jitter, 0), 1);
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}
