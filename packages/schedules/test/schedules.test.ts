import { describe, expect, it } from 'vitest';
import { ValidationError } from '@alter0/core';
import { describeSchedule, nextSlot, parseSchedule, planFiring, rebase } from '../src/index.js';
import type { Timing } from '../src/index.js';

const NOW = Date.parse('2026-12-02T10:00:00Z');
const MIN = 60_000;

function err(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('parseSchedule', () => {
  it('takes a cron pattern with a zone and finds its slots there', () => {
    const spec = parseSchedule({ cron: '0 9 * * 1-5', tz: 'Europe/Berlin' }, NOW);
    expect(spec).toEqual({ kind: 'cron', expr: '0 9 * * 1-5', tz: 'Europe/Berlin' });
    // Wednesday 2 Dec 10:00 UTC is 11:00 in Berlin: the next 09:00 Berlin is Thursday 08:00 UTC.
    expect(new Date(nextSlot({ spec, anchorMs: NOW }, NOW) ?? 0).toISOString()).toBe('2026-12-03T08:00:00.000Z');
  });

  it('refuses bad input with errors that say what to write', () => {
    expect(err(() => parseSchedule({ cron: '61 * * * *' }, NOW))).toMatch(
      /invalid cron pattern "61 \* \* \* \*".*minute.*five fields/,
    );
    expect(err(() => parseSchedule({ cron: '*/5 * * * * *' }, NOW))).toMatch(/more often than every 10s/);
    expect(err(() => parseSchedule({ cron: '0 9 * * *', tz: 'Mars/Base' }, NOW))).toMatch(
      /unknown time zone "Mars\/Base"/,
    );
    expect(err(() => parseSchedule({ every: '5s' }, NOW))).toMatch(/too short.*10s/);
    expect(err(() => parseSchedule({ every: 'soon' }, NOW))).toMatch(/invalid period "soon"/);
    expect(err(() => parseSchedule({ every: '1h', tz: 'UTC' }, NOW))).toMatch(/tz applies to cron and at/);
    expect(err(() => parseSchedule({}, NOW))).toMatch(/say when/);
    expect(err(() => parseSchedule({ every: '1h', at: '+1h' }, NOW))).toMatch(/only one of.*every and at/);
    expect(err(() => parseSchedule({ at: '2020-01-01T00:00Z' }, NOW))).toMatch(/has passed/);
    expect(err(() => parseSchedule({ at: 'tomorrow' }, NOW))).toMatch(/invalid time "tomorrow"/);
  });

  it('reads the forms of --at', () => {
    expect(parseSchedule({ at: '+10m' }, NOW).expr).toBe(String(NOW + 10 * MIN));
    expect(parseSchedule({ at: '2026-12-24T09:00:00+01:00' }, NOW).expr).toBe(
      String(Date.parse('2026-12-24T08:00:00Z')),
    );
    expect(parseSchedule({ at: '2026-12-24T09:00', tz: 'Europe/Berlin' }, NOW).expr).toBe(
      String(Date.parse('2026-12-24T08:00:00Z')),
    );
    // 09:30 UTC has passed at 10:00: the next one is tomorrow's.
    expect(parseSchedule({ at: '09:30', tz: 'UTC' }, NOW).expr).toBe(String(Date.parse('2026-12-03T09:30:00Z')));
  });

  it('describes a schedule in one line', () => {
    expect(describeSchedule(parseSchedule({ every: '600s' }, NOW))).toBe('every 10m');
    expect(describeSchedule(parseSchedule({ cron: '0 9 * * *', tz: 'UTC' }, NOW))).toBe('cron 0 9 * * * (UTC)');
    expect(describeSchedule(parseSchedule({ at: '+1h' }, NOW))).toBe('once at 2026-12-02T11:00:00.000Z');
  });
});

describe('slots and firing', () => {
  const every10m: Timing = { spec: parseSchedule({ every: '10m' }, NOW), anchorMs: NOW };

  it('counts an every-period from when the schedule was made', () => {
    expect(nextSlot(every10m, NOW)).toBe(NOW + 10 * MIN);
    expect(nextSlot(every10m, NOW - 5 * MIN)).toBe(NOW + 10 * MIN);
    expect(nextSlot(every10m, NOW + 10 * MIN)).toBe(NOW + 20 * MIN);
    expect(nextSlot(every10m, NOW + 25 * MIN)).toBe(NOW + 30 * MIN);
  });

  it('fires a slot on time, once', () => {
    const due = NOW + 10 * MIN;
    expect(planFiring(every10m, due, due + 2_000, 'once')).toEqual({
      fire: { slotAt: due, catchUp: false },
      missed: 0,
      nextRunAt: due + 10 * MIN,
    });
  });

  it('after downtime runs one catch-up (once) or none (skip), never a burst', () => {
    const due = NOW + 10 * MIN;
    const back = NOW + 55 * MIN; // slots at 10, 20, 30, 40, 50 passed
    expect(planFiring(every10m, due, back, 'once')).toEqual({
      fire: { slotAt: NOW + 50 * MIN, catchUp: true },
      missed: 4,
      nextRunAt: NOW + 60 * MIN,
    });
    expect(planFiring(every10m, due, back, 'skip')).toEqual({ fire: null, missed: 5, nextRunAt: NOW + 60 * MIN });
  });

  it('a one-shot is done after its firing, or missed', () => {
    const at: Timing = { spec: parseSchedule({ at: '+1h' }, NOW), anchorMs: NOW };
    const due = NOW + 60 * MIN;
    expect(planFiring(at, due, due + 1_000, 'skip')).toEqual({
      fire: { slotAt: due, catchUp: false },
      missed: 0,
      nextRunAt: null,
    });
    expect(planFiring(at, due, due + 10 * MIN, 'skip')).toEqual({ fire: null, missed: 1, nextRunAt: null });
    expect(planFiring(at, due, due + 10 * MIN, 'once').fire).toEqual({ slotAt: due, catchUp: true });
  });

  it('waits for the right slot again when the clock went back', () => {
    const next = NOW + 10 * MIN;
    expect(rebase(every10m, next, NOW + 1 * MIN)).toBeNull();
    // The clock jumped back a day: waiting for `next` would leave it silent for a day.
    expect(rebase(every10m, NOW + 24 * 60 * MIN, NOW + 1 * MIN)).toBe(next);
  });
});
