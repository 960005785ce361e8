import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findFaketime } from '@alter0/soak';
import { cli, tempDir } from './harness.js';

// The short version of `alter0 soak --profile day` (docs/soak.md "The day profile"): the same parts — every
// channel, approvals, schedules, the watchdog, the small disk, libfaketime — and four of the six hostile moments,
// compressed into 130 s of load ending in a storm of kill -9s; under 3 minutes in all. The 2-hour run is in
// docs/soak-results/.

const REQUIRE_TOOLS = process.env.ALTER0_REQUIRE_TOOLS === '1';
const missing =
  process.platform !== 'linux'
    ? 'the day profile needs Linux (tmpfs, /proc)'
    : process.getuid?.() !== 0
      ? 'the day profile mounts a tmpfs: run it as root'
      : !fs.existsSync('/usr/bin/sqlite3')
        ? 'the sqlite3 shell is missing: apt-get install sqlite3'
        : findFaketime() === null
          ? 'libfaketime is missing: apt-get install libfaketime'
          : null;
if (missing !== null && !REQUIRE_TOOLS) console.warn(`soak-day: skipped: ${missing}`);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const MOMENTS = ['disk_full', 'db_held_write', 'clock_jumps', 'sigstop_beyond_watchdog'];

interface DayReport {
  commit: string;
  kills: number;
  accepted: number;
  lost: number;
  duplicates: number;
  orphans: number;
  violations: number;
  passed: boolean;
  restarts: { watchdog: number };
  checks: Record<string, number>;
  moments: { name: string; ok: boolean }[];
  features: Record<string, Record<string, number>>;
  hours: unknown[];
  summary: { violation_list: { kind: string; detail: string }[]; harness_error_list: string[] };
}

describe.skipIf(missing !== null && !REQUIRE_TOOLS)('alter0 soak --profile day (short)', () => {
  it('runs every part and every hostile moment, then a storm of kill -9s, with no violation', async () => {
    if (missing !== null) throw new Error(`ALTER0_REQUIRE_TOOLS=1 but ${missing}`);
    const dir = tempDir('alter0-soak-day-');
    dirs.push(dir);
    const json = path.join(dir, 'day.json');
    const r = await cli(
      [
        'soak',
        '--profile',
        'day',
        '--duration',
        '130s',
        '--calm',
        '0.75',
        '--job-timeout',
        '8s',
        '--kills',
        '10',
        // The other two have tests of their own (soak-hostile-disk, soak-hostile-time); all six do not fit in 3 minutes.
        '--moments',
        MOMENTS.join(','),
        '--seed',
        '20261202',
        '--out',
        path.join(dir, 'day.md'),
        '--json',
        json,
      ],
      { ALTER0_REQUIRE_TOOLS: '1' },
    );
    expect(fs.existsSync(json), `exit ${r.code}\n${r.stderr.slice(-3000)}`).toBe(true);
    const d = JSON.parse(fs.readFileSync(json, 'utf8')) as DayReport;
    const context = `exit ${r.code}\n${JSON.stringify(d.summary.violation_list.slice(0, 10), null, 1)}\n${d.summary.harness_error_list.join('\n')}\n${r.stderr.slice(-2000)}`;
    expect(r.code, context).toBe(0);
    expect({ violations: d.violations, lost: d.lost, duplicates: d.duplicates, orphans: d.orphans }, context).toEqual({
      violations: 0,
      lost: 0,
      duplicates: 0,
      orphans: 0,
    });
    expect(d.commit).toMatch(/^[0-9a-f]{40}$/);
    // Every moment ran and went as expected; the watchdog restarted the daemon stopped beyond WatchdogSec.
    expect(d.moments.filter((m) => MOMENTS.includes(m.name)).map((m) => [m.name, m.ok])).toEqual(
      MOMENTS.map((m) => [m, true]),
    );
    expect(d.restarts.watchdog).toBeGreaterThanOrEqual(1);
    expect(d.kills, context).toBeGreaterThanOrEqual(5);
    // Every channel carried traffic and its invariants were checked.
    const f = d.features;
    expect(f.telegram?.updates_sent).toBeGreaterThan(0);
    expect(f.telegram?.stored).toBe(f.telegram?.acknowledged);
    expect(f.webhooks?.delivered).toBeGreaterThan(0);
    expect(f.approvals?.approvals).toBeGreaterThan(0);
    expect(f.schedules?.fired).toBeGreaterThan(0);
    expect(f.cli?.accepted).toBeGreaterThan(0);
    expect(f.watchdog?.pings).toBeGreaterThan(0);
    for (const c of ['lost_message', 'reexecuted', 'verify', 'integrity', 'orphan_process', 'notification_lost'])
      expect(d.checks[c], c).toBeGreaterThan(0);
    expect(d.hours.length).toBe(24);
  }, 420_000);
});
