import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, tempDir } from './harness.js';
import {
  DaemonProcess,
  MIN_SMALL_DISK_MB,
  NoAnswerError,
  diskFullMoment,
  emptyTally,
  heldReadMoment,
  heldWriteMoment,
  judgeDiskFull,
  judgeHold,
  parseOptions,
  prepareRun,
  smallDiskFeature,
  whyNoAnswer,
} from '@alter0/soak';
import type { DiskFullObservation, HoldObservation, SoakRun } from '@alter0/soak';

// The day profile's disk-full and held-database moments (tooling/soak/src/day/moments/disk.ts, db-hold.ts), once
// each with short durations, against the real `alter0 serve` on a real tmpfs; and every expectation shown able to
// fail, on observations that break exactly one of them.

const REQUIRE_TOOLS = process.env.ALTER0_REQUIRE_TOOLS === '1';
const AGENT = fileURLToPath(new URL('../../../tooling/soak/dist/agent.js', import.meta.url));
const missing =
  process.platform !== 'linux'
    ? 'tmpfs mounts need Linux'
    : process.getuid?.() !== 0
      ? 'mounting a tmpfs needs root'
      : !fs.existsSync('/usr/bin/sqlite3')
        ? 'the sqlite3 shell (/usr/bin/sqlite3) is not installed'
        : null;
if (missing !== null && !REQUIRE_TOOLS) console.warn(`soak-hostile-disk: the live moments are skipped: ${missing}`);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tally(over: Partial<ReturnType<typeof emptyTally>> = {}): ReturnType<typeof emptyTally> {
  return { ...emptyTally(), ...over };
}

/** A full disk that went as it should: every refusal 507, the status and log said so, recovery, nothing lost. */
function goodDiskFull(): DiskFullObservation {
  return {
    filledBytes: 100 << 20,
    freeWhenFull: 0,
    during: tally({
      sent: 10,
      storageRefused: 10,
      byAnswer: { '507 storage_full': 10 },
      messages: ["507 storage_full: the disk holding alter0's data directory is full; …"],
    }),
    daemonSurvived: true,
    logLines: 12,
    refusalLogLines: 10,
    statusWhileFull: { storage: 'down', storageError: 'the disk holding /d is full: 0 bytes free' },
    recoveredAfterMs: 800,
    storageBefore: 'degraded',
    storageAfter: 'degraded',
    unsettled: [],
    integrity: 'ok',
  };
}

function goodHold(kind: 'read' | 'write'): HoldObservation {
  const during =
    kind === 'read'
      ? tally({ sent: 5, accepted: 5, byAnswer: { '2xx': 5 }, ids: ['j1'] })
      : tally({
          sent: 5,
          storageRefused: 5,
          byAnswer: { '503 storage_busy': 5 },
          messages: ['503 storage_busy: the database is held by another program (SQLITE_BUSY); …'],
        });
  return {
    kind,
    holdError: null,
    holdMs: 8000,
    releasedAt: 1_000_000,
    during,
    statusSlowestMs: 5000,
    daemonSurvived: true,
    statusSeen: [],
    logLines: 3,
    recoveredAfterMs: 500,
    unsettled: [],
    walBefore: 0,
    walMax: 0,
    walAfter: 0,
    integrity: 'ok',
  };
}

/** The failures of a judged observation (empty when every expectation held). */
const failures = (list: { held: boolean; failure: string }[]): string[] =>
  list.filter((e) => !e.held).map((e) => e.failure);

describe('hostile moments: a request that got no answer says why', () => {
  it("a socket the daemon closed, and the harness's own time bound, read differently", async () => {
    // A server that drops the connection on every request, as one closing an idle keep-alive socket does.
    const server = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const err: unknown = await fetch(`http://127.0.0.1:${port}/api/jobs`, { method: 'POST', body: '{}' }).catch(
        (e: unknown) => e,
      );
      const why = whyNoAnswer(new NoAnswerError('cannot reach alter0', { cause: err }));
      expect(why).toMatch(/other side closed|socket hang up|ECONNRESET/);
      expect(why).not.toMatch(/fetch failed|cannot reach/);
    } finally {
      server.close();
    }
    const timedOut = new NoAnswerError('no answer within 15000 ms', {
      cause: new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    });
    expect(whyNoAnswer(timedOut)).toBe('no answer within 15000 ms');
  });
});

describe('hostile moments: every expectation can fail', () => {
  it('disk full: each broken expectation is reported, and only that one', () => {
    expect(failures(judgeDiskFull(goodDiskFull()))).toEqual([]);
    const broken: [string, (o: DiskFullObservation) => void, RegExp][] = [
      ['a 500', (o) => ((o.during.answered500 = 1), (o.during.byAnswer['500 internal'] = 1)), /answered 500/],
      [
        'no answer',
        (o) => ((o.during.noAnswer = 2), (o.during.byAnswer['no answer: other side closed [UND_ERR_SOCKET]'] = 2)),
        /2 request\(s\) got no answer while the disk was full \(2 × no answer: other side closed \[UND_ERR_SOCKET\]\)/,
      ],
      ['a crash', (o) => (o.daemonSurvived = false), /alter0 serve exited/],
      ['a 400 refusal', (o) => ((o.during.otherRefused = 1), (o.during.byAnswer['400 x'] = 1)), /expected 507/],
      ['all accepted', (o) => ((o.during.storageRefused = 0), (o.during.accepted = 10)), /expected 507/],
      ['a vague refusal', (o) => (o.during.messages = ['507 storage_full: try later']), /did not say the disk/],
      ['status ok', (o) => (o.statusWhileFull = { storage: 'ok', storageError: '' }), /status did not say/],
      ['status silent', (o) => (o.statusWhileFull = { storage: 'down', storageError: 'boom' }), /status did not say/],
      ['the log stopped', (o) => (o.logLines = 0), /the log stopped/],
      ['no refusal warning', (o) => (o.refusalLogLines = 0), /the log stopped/],
      ['no recovery', (o) => (o.recoveredAfterMs = null), /no new message was accepted/],
      ['storage stays down', (o) => (o.storageAfter = 'down'), /storage is down after/],
      ['a lost job', (o) => (o.unsettled = ['j_1 missing']), /j_1 missing/],
      ['a damaged database', (o) => (o.integrity = 'row 3 missing from index'), /integrity_check/],
    ];
    for (const [what, breakIt, want] of broken) {
      const o = goodDiskFull();
      breakIt(o);
      const f = failures(judgeDiskFull(o));
      expect(f, what).toHaveLength(1);
      expect(f[0], what).toMatch(want);
    }
  });

  it('held database: each broken expectation is reported, and only that one', () => {
    for (const kind of ['read', 'write'] as const) expect(failures(judgeHold(goodHold(kind)))).toEqual([]);
    const broken: ['read' | 'write', string, (o: HoldObservation) => void, RegExp][] = [
      ['write', 'no hold', (o) => (o.holdError = 'database is locked'), /could not hold/],
      ['write', 'a 500', (o) => (o.during.answered500 = 1), /answered 500/],
      [
        'read',
        'no answer',
        (o) => ((o.during.noAnswer = 1), (o.during.byAnswer['no answer: no answer within 15000 ms'] = 1)),
        /1 request\(s\) got no answer during the hold \(1 × no answer: no answer within 15000 ms\)/,
      ],
      ['write', 'a crash', (o) => (o.daemonSurvived = false), /exited/],
      ['read', 'a refusal under a reader', (o) => ((o.during.storageRefused = 1), (o.during.accepted = 4)), /reader/],
      [
        'write',
        'accepted under the lock',
        (o) => ((o.during.accepted = 1), (o.during.acceptedAt = [999_000])),
        /1 accepted while the lock was held/,
      ],
      ['write', 'a 404 refusal', (o) => ((o.during.otherRefused = 1), (o.during.byAnswer['404 x'] = 1)), /404 x/],
      [
        'write',
        'not felt',
        (o) => ((o.during.storageRefused = 0), (o.during.messages = []), (o.during.maxMs = 1500)),
        /not felt/,
      ],
      ['write', 'a vague refusal', (o) => (o.during.messages = ['503 storage_busy: later']), /did not say/],
      ['read', 'no recovery', (o) => (o.recoveredAfterMs = null), /after the release/],
      ['write', 'a stuck job', (o) => (o.unsettled = ['j_2 running']), /j_2 running/],
      ['read', 'a damaged database', (o) => (o.integrity = 'wrong # of entries'), /integrity_check/],
    ];
    for (const [kind, what, breakIt, want] of broken) {
      const o = goodHold(kind);
      breakIt(o);
      const f = failures(judgeHold(o));
      expect(f, what).toHaveLength(1);
      expect(f[0], what).toMatch(want);
    }
  });

  it('the small disk refuses a size alter0 cannot start on', async () => {
    const feature = smallDiskFeature({ sizeMb: 64, requireTools: false });
    await expect(feature.prepare({} as SoakRun)).rejects.toThrow(/at least 128 MB/);
  });
});

describe('hostile moments against the real alter0 serve on a real tmpfs', () => {
  if (REQUIRE_TOOLS && missing !== null)
    it('has what the live moments need (required with ALTER0_REQUIRE_TOOLS=1)', () => {
      throw new Error(`${missing}, and ALTER0_REQUIRE_TOOLS=1`);
    });

  (missing === null ? it : it.skip)(
    'disk full, a held read and a held write lock: refused clearly, never a 500 or a crash, recovered by itself',
    async () => {
      const out = tempDir('alter0-hostile-');
      dirs.push(out);
      const opts = parseOptions(
        ['--duration', '60s', '--out', path.join(out, 'r.md'), '--job-timeout', '6s', '--kill-every', '0'],
        BIN,
      );
      const logs: string[] = [];
      const ac = new AbortController();
      const run = prepareRun(opts, { agent: AGENT }, ac.signal, (l) => logs.push(l));
      const feature = smallDiskFeature({ sizeMb: MIN_SMALL_DISK_MB, requireTools: true });
      try {
        await feature.prepare(run);
        expect(feature.disk.dir).toBe(run.dataDir);
        expect(fs.statfsSync(run.dataDir).blocks * fs.statfsSync(run.dataDir).bsize).toBe(MIN_SMALL_DISK_MB << 20);
        run.daemon = await DaemonProcess.start(run.spec, 1, ac.signal);
        run.up = true;
        const disk = await diskFullMoment({ disk: feature.disk, fullMs: 4000, recoverMs: 20_000 }).run(run);
        const read = await heldReadMoment({ holdMs: 2500, recoverMs: 15_000 }).run(run);
        const write = await heldWriteMoment({ holdMs: 7000, everyMs: 1500, recoverMs: 20_000 }).run(run);
        const report = JSON.stringify({ disk, read, write, violations: run.result.violations, logs }, null, 1);
        if (process.env.SOAK_HOSTILE_REPORT) fs.writeFileSync(process.env.SOAK_HOSTILE_REPORT, report);
        expect(run.result.violations, report).toEqual([]);
        expect([disk.ok, read.ok, write.ok], report).toEqual([true, true, true]);
        expect(disk.observed.refused_storage as number, report).toBeGreaterThan(0);
        expect(disk.observed.status_while_full, report).toMatch(/storage down: .*full/);
        expect(write.observed.refused_storage_busy as number, report).toBeGreaterThan(0);
        expect(read.observed.accepted, report).toBe(read.observed.sent);
        expect(run.result.checks.hostile_outcome).toBe(10 + 6 + 8);

        // The write check fails on a live daemon when the lock is held for less than the busy timeout: requests
        // wait it out and are accepted, nothing is refused storage_busy and nothing waits ~5 s.
        const before = run.result.violations.length;
        const short = await heldWriteMoment({ holdMs: 1500, everyMs: 400, recoverMs: 15_000 }).run(run);
        expect(short.ok, JSON.stringify(short)).toBe(false);
        expect(run.result.violations.slice(before).map((v) => v.detail)).toEqual([
          expect.stringMatching(/^db_held_write: the write lock was not felt/),
        ]);
      } finally {
        await run.daemon?.stop(10_000);
        await feature.close();
        fs.rmSync(run.work, { recursive: true, force: true });
      }
    },
    90_000,
  );
});
