import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkDb } from '../../db-check.js';
import type { SoakRun } from '../../run-state.js';
import type { HostileMoment, MomentRecord } from '../feature.js';
import type { SmallDisk } from '../small-disk.js';
import type { Tally } from './probe.js';
import {
  countLines,
  emptyTally,
  expectThat,
  noAnswers,
  probe,
  recovery,
  sameDaemon,
  settle,
  storageStatus,
  unsettled,
} from './probe.js';

/** What the disk-full moment saw; judged by judgeDiskFull (a pure function, so a test can show every check fail). */
export interface DiskFullObservation {
  /** Bytes the filler took; free bytes left once it hit ENOSPC. */
  filledBytes: number;
  freeWhenFull: number;
  during: Tally;
  /** The daemon serving at the start was still serving, alive, when the disk was freed. */
  daemonSurvived: boolean;
  /** Log lines written while the disk was full, and how many were the refusal warning. */
  logLines: number;
  refusalLogLines: number;
  /** The storage component while full: its state and last error (the last status read). */
  statusWhileFull: { storage: string; storageError: string } | null;
  /** Free → a new message accepted and succeeded; null when it did not within the bound. */
  recoveredAfterMs: number | null;
  /** The storage component after recovery, and what it was before the moment. */
  storageBefore: string;
  storageAfter: string;
  /** Jobs accepted before the fill and during it that did not end (id and state), within the bound. */
  unsettled: string[];
  integrity: string;
}

export interface Expectation {
  held: boolean;
  failure: string;
}

/** Every expected outcome of a full disk, held or not (each is one check). */
export function judgeDiskFull(o: DiskFullObservation): Expectation[] {
  const d = o.during;
  const err = o.statusWhileFull?.storageError ?? '';
  return [
    { held: d.answered500 === 0, failure: `${d.answered500} request(s) answered 500 while the disk was full` },
    {
      held: d.noAnswer === 0 && o.daemonSurvived,
      failure: o.daemonSurvived
        ? `${d.noAnswer} request(s) got no answer while the disk was full (${noAnswers(d)})`
        : 'alter0 serve exited (or was replaced) while the disk was full',
    },
    {
      held: d.otherRefused === 0 && (d.storageRefused > 0 || d.sent === 0),
      failure: `while the disk was full, the answers were ${JSON.stringify(d.byAnswer)}: expected 507 storage_full (or 503 storage_*) refusals and nothing else`,
    },
    {
      // The message itself, not its code: `507 storage_full: <message>`.
      held: d.messages.every((m) => /full|space|disk/i.test(m.replace(/^\d+ \S+: /, ''))),
      failure: `a refusal did not say the disk is full: ${d.messages.join(' | ')}`,
    },
    {
      held: o.statusWhileFull !== null && o.statusWhileFull.storage !== 'ok' && /full|free|space/i.test(err),
      failure: `GET /api/status did not say the disk is full: storage ${o.statusWhileFull?.storage ?? 'unanswered'} (${err || 'no error'})`,
    },
    {
      held: o.logLines > 0 && (d.storageRefused === 0 || o.refusalLogLines > 0),
      failure: `the log stopped while the disk was full: ${o.logLines} line(s), ${o.refusalLogLines} refusal warning(s) for ${d.storageRefused} refusal(s)`,
    },
    {
      held: o.recoveredAfterMs !== null,
      failure: 'once the disk was freed, no new message was accepted and succeeded within the bound',
    },
    {
      held: o.storageAfter === 'ok' || o.storageAfter === o.storageBefore,
      failure: `storage is ${o.storageAfter} after the disk was freed (it was ${o.storageBefore} before)`,
    },
    {
      held: o.unsettled.length === 0,
      failure: `jobs accepted before or during the full disk did not end: ${o.unsettled.slice(0, 10).join(', ')}`,
    },
    { held: o.integrity === 'ok', failure: `PRAGMA integrity_check after the full disk: ${o.integrity}` },
  ];
}

const CHUNK = Buffer.alloc(1 << 20, 0x5a);
const SMALL = Buffer.alloc(4096, 0x5a);

/** Appends to the filler until the file system says ENOSPC; returns the bytes written (bounded by the disk). */
function fillUp(fd: number): number {
  let n = 0;
  for (const buf of [CHUNK, SMALL]) {
    for (;;) {
      try {
        n += fs.writeSync(fd, buf);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw e;
      }
    }
  }
  return n;
}

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

export interface DiskFullOptions {
  /** The small file system (smallDiskFeature's `disk`); the moment is skipped when it has none. */
  disk: SmallDisk;
  /** How long the disk stays full while messages keep coming (e.g. 60 s in a 2 h run, 10 s in a short one). */
  fullMs: number;
  /** The bound on recovery once the disk is freed. */
  recoverMs?: number;
  /** Between two messages while full. */
  everyMs?: number;
}

const NAME = 'disk_full';
const REFUSAL_LOG = /request refused: the database did not take the write/;

/**
 * The disk holding the data directory fills up (a filler file written until ENOSPC, topped up while full) for
 * `fullMs` while new messages keep coming; then the filler goes and alter0 must recover by itself.
 */
export function diskFullMoment(o: DiskFullOptions): HostileMoment {
  return {
    name: NAME,
    expect:
      'while the disk is full new messages are refused 507 storage_full saying so (never a 500, never a crash), the status says the disk is full and the log goes on; once space is free alter0 takes messages again by itself, nothing accepted is lost, the database is intact',
    run: (run) => runDiskFull(run, o),
  };
}

/** A moment that could not run here, and why (it is not counted as a check). */
export function skippedRecord(run: SoakRun, name: string, startedAt: number, why: string): MomentRecord {
  run.log(`hostile moment ${name} skipped: ${why}`);
  return { name, startedAt, endedAt: Date.now(), ok: true, observed: { skipped: why } };
}

async function runDiskFull(run: SoakRun, o: DiskFullOptions): Promise<MomentRecord> {
  const startedAt = Date.now();
  const dir = o.disk.dir;
  if (dir === null) return skippedRecord(run, NAME, startedAt, o.disk.skipped ?? 'no small disk was prepared');
  const recoverMs = o.recoverMs ?? 30_000;
  const before = emptyTally();
  for (let i = 0; i < 2; i++) await probe(run, `${NAME} before`, before);
  const storageBefore = (await storageStatus(run))?.storage ?? 'unanswered';
  const full = await fullPeriod(run, dir, o);
  const freedAt = Date.now();
  run.log(
    `hostile moment ${NAME}: disk freed after ${freedAt - startedAt} ms; ${JSON.stringify(full.during.byAnswer)}`,
  );
  const recoveredAfterMs = await recovery(run, NAME, freedAt, recoverMs);
  const storageAfter = await storageBackTo(run, storageBefore, freedAt + recoverMs);
  const ids = [...before.ids, ...full.during.ids];
  const states = await settle(run, ids, Math.max(5000, freedAt + recoverMs - Date.now()));
  const integrity = await checkDb(run.dbFile, true, run.signal).then(
    (c) => c.integrity ?? 'not checked',
    (e: unknown) => `the check failed: ${e instanceof Error ? e.message : String(e)}`,
  );
  const obs: DiskFullObservation = {
    ...full,
    recoveredAfterMs,
    storageBefore,
    storageAfter,
    unsettled: unsettled(states),
    integrity,
  };
  const ok = judgeDiskFull(obs)
    .map((e) => expectThat(run, NAME, e.held, e.failure))
    .every(Boolean);
  return { name: NAME, startedAt, endedAt: Date.now(), ok, observed: observedOf(obs) };
}

type FullPeriod = Omit<
  DiskFullObservation,
  'recoveredAfterMs' | 'storageBefore' | 'storageAfter' | 'unsettled' | 'integrity'
>;

/** Fills the disk, keeps it full for `fullMs` while sending messages and reading the status; always frees it. */
async function fullPeriod(run: SoakRun, dir: string, o: DiskFullOptions): Promise<FullPeriod> {
  const d = run.daemon;
  const filler = path.join(dir, 'soak-filler');
  const outage = { from: Date.now(), to: null as number | null };
  run.writeOutages.push(outage);
  const fd = fs.openSync(filler, 'w');
  const during = emptyTally();
  let lines = countLines(null, REFUSAL_LOG);
  try {
    const filledBytes = fillUp(fd);
    const freeWhenFull = freeBytes(dir);
    lines = countLines(d, REFUSAL_LOG);
    let statusWhileFull: FullPeriod['statusWhileFull'] = null;
    const end = Date.now() + o.fullMs;
    let lastStatus = 0;
    while (Date.now() < end && !run.signal.aborted) {
      // Space freed meanwhile (a WAL truncated, a backup pruned) is taken again: the disk stays full.
      fillUp(fd);
      await probe(run, NAME, during, Math.max(2000, end - Date.now()));
      if (Date.now() - lastStatus >= 2000) {
        lastStatus = Date.now();
        statusWhileFull = (await storageStatus(run)) ?? statusWhileFull;
      }
      await sleep(Math.min(o.everyMs ?? 500, Math.max(0, end - Date.now())), undefined, { signal: run.signal });
    }
    const counted = lines.stop();
    return {
      filledBytes,
      freeWhenFull,
      during,
      daemonSurvived: sameDaemon(run, d),
      logLines: counted.lines,
      refusalLogLines: counted.matching,
      statusWhileFull,
    };
  } finally {
    lines.stop();
    fs.closeSync(fd);
    fs.rmSync(filler, { force: true });
    outage.to = Date.now();
  }
}

/** Waits (until `end`) for the storage component to be ok or back to what it was before; returns what it is. */
async function storageBackTo(run: SoakRun, before: string, end: number): Promise<string> {
  for (;;) {
    const s = (await storageStatus(run))?.storage ?? 'unanswered';
    if (s === 'ok' || s === before || Date.now() >= end) return s;
    await sleep(500, undefined, { signal: run.signal });
  }
}

function observedOf(o: DiskFullObservation): MomentRecord['observed'] {
  const d = o.during;
  return {
    filled_mb: Math.round(o.filledBytes / 2 ** 20),
    free_bytes_when_full: o.freeWhenFull,
    sent: d.sent,
    accepted: d.accepted,
    refused_storage: d.storageRefused,
    answered_500: d.answered500,
    other_refused: d.otherRefused,
    no_answer: d.noAnswer,
    answers: JSON.stringify(d.byAnswer),
    refusal_message: d.messages[0] ?? '',
    daemon_survived: o.daemonSurvived,
    log_lines_while_full: o.logLines,
    refusal_log_lines: o.refusalLogLines,
    status_while_full: o.statusWhileFull
      ? `storage ${o.statusWhileFull.storage}: ${o.statusWhileFull.storageError}`
      : 'unanswered',
    recovered_after_ms: o.recoveredAfterMs ?? 'not within the bound',
    storage_before: o.storageBefore,
    storage_after: o.storageAfter,
    unsettled_jobs: o.unsettled.length,
    integrity: o.integrity,
  };
}
