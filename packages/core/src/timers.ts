/**
 * Node's timers hold a signed 32-bit millisecond count: anything above ~24.8 days fires at once (with a
 * TimeoutOverflowWarning). Every timer in alter0 takes its delay through `clampTimerMs`.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay safe for setTimeout: finite, at least 0, at most MAX_TIMER_MS (a longer wait simply re-arms later). */
export function clampTimerMs(ms: number): number {
  if (!Number.isFinite(ms)) return ms > 0 ? MAX_TIMER_MS : 0;
  return Math.min(MAX_TIMER_MS, Math.max(0, Math.round(ms)));
}

/** The longest any duration setting may be (7 days): long enough for any agent run, far inside the timer range. */
export const MAX_DURATION_S = 7 * 24 * 3600;
