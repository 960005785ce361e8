import type { ScheduleSpec } from './spec.js';
import { cronOf } from './spec.js';

/** A stored schedule's timing: its spec and the time its slots count from (an `every` period's anchor). */
export interface Timing {
  spec: ScheduleSpec;
  anchorMs: number;
}

/** Guard against a runaway count: a schedule's missed slots are only counted this far. */
const MAX_COUNTED = 100_000;

/** The first slot strictly after `afterMs`, or null when there is none (a one-shot that is past). */
export function nextSlot(t: Timing, afterMs: number): number | null {
  const { spec } = t;
  if (spec.kind === 'at') {
    const at = Number(spec.expr);
    return at > afterMs ? at : null;
  }
  if (spec.kind === 'every') {
    const period = Number(spec.expr);
    // Slots are anchor + k·period, k ≥ 1: the first one is a period after the schedule was made.
    if (afterMs < t.anchorMs) return t.anchorMs + period;
    return t.anchorMs + (Math.floor((afterMs - t.anchorMs) / period) + 1) * period;
  }
  return cronOf(spec.expr, spec.tz).nextRun(new Date(afterMs))?.getTime() ?? null;
}

/** How late a firing may start and still count as on time: half the gap to the slot after it, at most a minute. */
export function graceFor(t: Timing, slot: number): number {
  const after = nextSlot(t, slot);
  return after === null ? 60_000 : Math.min(60_000, Math.max(1_000, (after - slot) / 2));
}

export type MissedPolicy = 'once' | 'skip';

/** What a due schedule does now. */
export interface FiringPlan {
  /** Start a job now, for this slot (the fence: a slot fires at most once). */
  fire: { slotAt: number; catchUp: boolean } | null;
  /** Slots that passed while nothing ran (downtime), not counting one fired as a catch-up. */
  missed: number;
  /** The schedule's next slot after this firing (null: a one-shot that is done). */
  nextRunAt: number | null;
}

/**
 * Decides a due schedule's firing at `now`: on time (within the grace) it fires its slot; late, after downtime,
 * it fires one catch-up run for the latest missed slot (`once`) or none (`skip`) — never a burst. Either way the
 * next slot is the first one after `now`.
 */
export function planFiring(t: Timing, dueAt: number, now: number, policy: MissedPolicy): FiringPlan {
  const nextRunAt = nextSlot(t, now);
  if (now - dueAt <= graceFor(t, dueAt)) return { fire: { slotAt: dueAt, catchUp: false }, missed: 0, nextRunAt };
  let latest = dueAt;
  let count = 1;
  for (let s = nextSlot(t, dueAt); s !== null && s <= now && count < MAX_COUNTED; s = nextSlot(t, s)) {
    latest = s;
    count++;
  }
  if (policy === 'skip') return { fire: null, missed: count, nextRunAt };
  return { fire: { slotAt: latest, catchUp: true }, missed: count - 1, nextRunAt };
}

/**
 * The clock went back (or the schedule's slot is otherwise further away than its spec allows): the slot to wait
 * for now, or null when `nextRunAt` still stands.
 */
export function rebase(t: Timing, nextRunAt: number, now: number): number | null {
  if (t.spec.kind === 'at') return null;
  const expected = nextSlot(t, now);
  return expected !== null && expected < nextRunAt ? expected : null;
}
