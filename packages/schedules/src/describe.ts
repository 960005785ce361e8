import type { ScheduleSpec } from './spec.js';

const UNITS: readonly (readonly [number, string])[] = [
  [604_800_000, 'w'],
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'm'],
  [1_000, 's'],
];

/** A period in the largest unit that divides it: 600000 → "10m", 90000 → "90s". */
export function formatPeriod(ms: number): string {
  for (const [size, unit] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** One line for people: "every 10m", "cron 0 9 * * 1-5 (Europe/Berlin)", "once at 2026-12-24T08:00:00.000Z". */
export function describeSchedule(spec: ScheduleSpec): string {
  const zone = spec.tz === null ? '' : ` (${spec.tz})`;
  if (spec.kind === 'every') return `every ${formatPeriod(Number(spec.expr))}`;
  if (spec.kind === 'cron') return `cron ${spec.expr}${zone}`;
  return `once at ${new Date(Number(spec.expr)).toISOString()}${zone}`;
}
