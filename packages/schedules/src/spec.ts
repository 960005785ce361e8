import { Cron } from 'croner';
import { ValidationError } from '@alter0/core';
import { parseDuration } from '@alter0/config';

/** The shortest period a schedule may have: a firing starts an agent session, not a health probe. */
export const MIN_PERIOD_MS = 10_000;

/** What the owner asked for, as the API and the CLI take it: exactly one of cron, every, at. */
export interface ScheduleRequest {
  cron?: string | undefined;
  /** IANA zone of `cron`, or of a zone-less `at` (default: the daemon's). */
  tz?: string | undefined;
  /** A period: "10s" or more. */
  every?: string | undefined;
  /** A time: ISO 8601 ("2026-12-24T09:00", zone optional), "HH:MM" (the next one), or "+DURATION" from now. */
  at?: string | undefined;
}

/** A checked schedule, as stored: `expr` is the cron pattern, the period in ms, or the time in epoch ms. */
export type ScheduleSpec =
  | { kind: 'cron'; expr: string; tz: string | null }
  | { kind: 'every'; expr: string; tz: null }
  | { kind: 'at'; expr: string; tz: string | null };

function checkZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz;
  } catch {
    throw new ValidationError(
      `unknown time zone ${JSON.stringify(tz)}: use an IANA name such as "Europe/Berlin" or "UTC"`,
    );
  }
}

/** A croner job that never runs: only its pattern arithmetic is used. */
export function cronOf(pattern: string, tz: string | null): Cron {
  return new Cron(pattern, { paused: true, ...(tz === null ? {} : { timezone: tz }) });
}

function checkCron(pattern: string, tz: string | null, now: number): ScheduleSpec {
  let runs: Date[];
  try {
    runs = cronOf(pattern, tz).nextRuns(2, new Date(now));
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
    throw new ValidationError(
      `invalid cron pattern ${JSON.stringify(pattern)}: ${why}; write five fields "minute hour day month weekday" (e.g. "0 9 * * 1-5"), or six with seconds first`,
    );
  }
  const [a, b] = runs;
  if (a === undefined) throw new ValidationError(`the cron pattern ${JSON.stringify(pattern)} never fires again`);
  if (b !== undefined && b.getTime() - a.getTime() < MIN_PERIOD_MS) {
    throw new ValidationError(
      `the cron pattern ${JSON.stringify(pattern)} fires more often than every ${MIN_PERIOD_MS / 1000}s; schedules start agent sessions, so the shortest period is ${MIN_PERIOD_MS / 1000}s`,
    );
  }
  return { kind: 'cron', expr: pattern, tz };
}

function checkEvery(every: string): ScheduleSpec {
  let ms: number;
  try {
    ms = parseDuration(every);
  } catch {
    throw new ValidationError(
      `invalid period ${JSON.stringify(every)}: write a number and one unit of s, m, h, d, w (e.g. "10m", "24h")`,
    );
  }
  if (ms < MIN_PERIOD_MS) {
    throw new ValidationError(
      `the period ${JSON.stringify(every)} is too short: the shortest period is ${MIN_PERIOD_MS / 1000}s`,
    );
  }
  return { kind: 'every', expr: String(ms), tz: null };
}

const HH_MM = /^([01]?\d|2[0-3]):([0-5]\d)$/;
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const ISO_ZONED = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The time of a one-shot, epoch ms. */
function atTime(at: string, tz: string | null, now: number): number {
  const s = at.trim();
  if (s.startsWith('+')) {
    try {
      return now + parseDuration(s.slice(1));
    } catch {
      throw new ValidationError(`invalid time ${JSON.stringify(at)}: "+" takes a duration such as "+10m" or "+2h"`);
    }
  }
  const hm = HH_MM.exec(s);
  if (hm) return cronOf(`${hm[2]} ${hm[1]} * * *`, tz).nextRun(new Date(now))?.getTime() ?? Number.NaN;
  if (ISO_ZONED.test(s)) return Date.parse(s.replace(' ', 'T'));
  if (ISO_LOCAL.test(s)) {
    // croner reads a zone-less ISO time in the job's zone (the daemon's when none is given).
    const iso = s.replace(' ', 'T') + (s.length === 16 ? ':00' : '');
    return (
      cronOf(iso, tz)
        .nextRun(new Date(now - 1))
        ?.getTime() ?? Date.parse(iso)
    );
  }
  throw new ValidationError(
    `invalid time ${JSON.stringify(at)}: write an ISO time ("2026-12-24T09:00", zone optional), "HH:MM" for the next one, or "+10m" from now`,
  );
}

function checkAt(at: string, tz: string | null, now: number): ScheduleSpec {
  const t = atTime(at, tz, now);
  if (!Number.isFinite(t)) throw new ValidationError(`invalid time ${JSON.stringify(at)}: not a date`);
  if (t <= now) throw new ValidationError(`the time ${JSON.stringify(at)} has passed; give a time in the future`);
  return { kind: 'at', expr: String(t), tz };
}

/** Checks a request (clear errors for the API's 400 and the CLI) and returns what is stored. */
export function parseSchedule(req: ScheduleRequest, now: number): ScheduleSpec {
  const given = (['cron', 'every', 'at'] as const).filter((k) => req[k] !== undefined);
  if (given.length !== 1) {
    throw new ValidationError(
      given.length === 0
        ? 'say when: give one of cron (a pattern), every (a period such as "1h") or at (a time)'
        : `give only one of cron, every and at (got ${given.join(' and ')})`,
    );
  }
  const tz = req.tz === undefined ? null : checkZone(req.tz);
  if (req.cron !== undefined) return checkCron(req.cron.trim(), tz, now);
  if (req.every !== undefined) {
    if (tz !== null) throw new ValidationError('tz applies to cron and at, not to every (a period has no zone)');
    return checkEvery(req.every.trim());
  }
  return checkAt(req.at ?? '', tz, now);
}
