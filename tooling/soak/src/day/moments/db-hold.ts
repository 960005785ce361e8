import { setTimeout as sleep } from 'node:timers/promises';
import { checkDb } from '../../db-check.js';
import { encodePlan } from '../../plan.js';
import { fileSize } from '../../procs.js';
import type { SoakRun } from '../../run-state.js';
import type { HostileMoment, MomentRecord } from '../feature.js';
import type { Expectation } from './disk.js';
import { skippedRecord } from './disk.js';
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
import { SqliteHolder } from './sqlite-holder.js';

type HoldKind = 'read' | 'write';

/** What a held-database moment saw; judged by judgeHold (pure, so a test can show every check fail). */
export interface HoldObservation {
  kind: HoldKind;
  /** The sqlite3 shell held its transaction; otherwise why not (then nothing else was observed). */
  holdError: string | null;
  holdMs: number;
  /** When the sqlite3 shell let go. */
  releasedAt: number;
  during: Tally;
  /** The slowest GET /api/status during the hold (better-sqlite3 waits for a lock on the daemon's only thread). */
  statusSlowestMs: number;
  daemonSurvived: boolean;
  /** The queue's and storage's errors GET /api/status showed during the hold (distinct). */
  statusSeen: string[];
  logLines: number;
  recoveredAfterMs: number | null;
  /** Jobs in flight at the hold (a slow one running across it) and accepted during it that did not end. */
  unsettled: string[];
  walBefore: number;
  walMax: number;
  walAfter: number;
  integrity: string;
}

/** A request that waited at least this long waited on the held lock (the daemon's busy timeout is 5 s). */
const BUSY_FELT_MS = 4000;

/** Every expected outcome of a held database, held or not (each is one check). */
export function judgeHold(o: HoldObservation): Expectation[] {
  if (o.holdError !== null)
    return [{ held: false, failure: `the sqlite3 shell could not hold the database: ${o.holdError}` }];
  const d = o.during;
  const list: Expectation[] = [
    { held: d.answered500 === 0, failure: `${d.answered500} request(s) answered 500 during the hold` },
    {
      held: d.noAnswer === 0 && o.daemonSurvived,
      failure: o.daemonSurvived
        ? `${d.noAnswer} request(s) got no answer during the hold (${noAnswers(d)})`
        : 'alter0 serve exited (or was replaced) during the hold',
    },
  ];
  if (o.kind === 'read')
    list.push({
      held: d.storageRefused === 0 && d.otherRefused === 0 && d.accepted === d.sent,
      failure: `a reader must not stop writers (WAL), yet the answers were ${JSON.stringify(d.byAnswer)}`,
    });
  else {
    const early = d.acceptedAt.filter((t) => t < o.releasedAt).length;
    list.push(
      {
        held: d.otherRefused === 0 && early === 0,
        failure: `requests during the write lock must wait and then be refused 503 storage_busy or succeed after it; the answers were ${JSON.stringify(d.byAnswer)}, ${early} accepted while the lock was held`,
      },
      {
        held: d.storageRefused > 0 || d.maxMs >= BUSY_FELT_MS,
        failure: `the write lock was not felt: nothing was refused storage_busy and the slowest answer took ${d.maxMs} ms (the busy timeout is 5 s)`,
      },
      {
        held: d.messages.every((m) => /^503 storage_busy: .*held by another program/.test(m)),
        failure: `a refusal did not say the database is held: ${d.messages.join(' | ')}`,
      },
    );
  }
  list.push(
    {
      held: o.recoveredAfterMs !== null,
      failure: 'after the release, no new message was accepted and succeeded within the bound',
    },
    {
      held: o.unsettled.length === 0,
      failure: `jobs in flight across the hold or accepted during it did not end: ${o.unsettled.slice(0, 10).join(', ')}`,
    },
    { held: o.integrity === 'ok', failure: `PRAGMA integrity_check after the hold: ${o.integrity}` },
  );
  return list;
}

export interface HoldOptions {
  /** How long the transaction stays open (the write lock: longer than the daemon's 5 s busy timeout, e.g. 8–12 s). */
  holdMs: number;
  /** The bound on recovery after the release. */
  recoverMs?: number;
  /** Between two new messages during the hold (they are sent without waiting for each other). */
  everyMs?: number;
}

const SQL: Record<HoldKind, string> = {
  read: 'BEGIN; SELECT count(*) FROM jobs;',
  write: 'BEGIN IMMEDIATE;',
};

/** An owner's sqlite3 shell left in a read transaction: in WAL mode writers go on; checkpoints wait for it. */
export function heldReadMoment(o: HoldOptions): HostileMoment {
  return {
    name: 'db_held_read',
    expect:
      'a sqlite3 shell holding a read transaction stops nothing: every new message is accepted and runs, the WAL may grow until the release, the database is intact',
    run: (run) => runHold(run, 'db_held_read', 'read', o),
  };
}

/** An owner's sqlite3 shell holding the write lock past the daemon's 5 s busy timeout. */
export function heldWriteMoment(o: HoldOptions): HostileMoment {
  return {
    name: 'db_held_write',
    expect:
      'a sqlite3 shell holding the write lock: new messages wait the 5 s busy timeout and are refused 503 storage_busy saying so (never a 500, never a crash); jobs running across it finish, and after the release everything is accepted again',
    run: (run) => runHold(run, 'db_held_write', 'write', o),
  };
}

/** A job that runs across the hold: its outcome is written while (or just after) the database is held. */
function slowJobText(run: SoakRun, name: string, holdMs: number): string {
  const n = Math.max(500, Math.min(holdMs / 2, (run.opts.jobTimeoutS * 1000) / 3));
  const key = `hostile-${name.replace(/_/g, '-')}-${Date.now().toString(36)}`;
  return `${encodePlan({ key, exec: 'long', n: Math.round(n), route: 'ok', close: 'no' })} runs across the hold`;
}

async function runHold(run: SoakRun, name: string, kind: HoldKind, o: HoldOptions): Promise<MomentRecord> {
  const startedAt = Date.now();
  if (!SqliteHolder.available()) return skippedRecord(run, name, startedAt, 'the sqlite3 shell is not installed');
  const recoverMs = o.recoverMs ?? 30_000;
  const before = emptyTally();
  await probe(run, `${name} before`, before, 15_000, slowJobText(run, name, o.holdMs));
  // Give the slow job time to be claimed and started, so it is running when the database is taken.
  await sleep(1000, undefined, { signal: run.signal });
  const walBefore = fileSize(`${run.dbFile}-wal`);
  const held = await holdPeriod(run, name, kind, o);
  const { releasedAt } = held;
  const recoveredAfterMs = held.holdError === null ? await recovery(run, name, releasedAt, recoverMs) : null;
  const ids = [...before.ids, ...held.during.ids];
  const states = await settle(run, ids, Math.max(5000, releasedAt + recoverMs - Date.now()));
  const integrity = await checkDb(run.dbFile, true, run.signal).then(
    (c) => c.integrity ?? 'not checked',
    (e: unknown) => `the check failed: ${e instanceof Error ? e.message : String(e)}`,
  );
  const obs: HoldObservation = {
    ...held,
    kind,
    recoveredAfterMs,
    unsettled: unsettled(states),
    walBefore,
    walAfter: fileSize(`${run.dbFile}-wal`),
    integrity,
  };
  const ok = judgeHold(obs)
    .map((e) => expectThat(run, name, e.held, e.failure))
    .every(Boolean);
  return { name, startedAt, endedAt: Date.now(), ok, observed: observedOf(obs) };
}

type HoldPeriod = Pick<
  HoldObservation,
  | 'holdError'
  | 'holdMs'
  | 'releasedAt'
  | 'during'
  | 'statusSlowestMs'
  | 'daemonSurvived'
  | 'statusSeen'
  | 'logLines'
  | 'walMax'
>;

/** Holds the database for `holdMs` while new messages go out (not waiting for each other); always releases it. */
async function holdPeriod(run: SoakRun, name: string, kind: HoldKind, o: HoldOptions): Promise<HoldPeriod> {
  const d = run.daemon;
  const p: HoldPeriod = {
    ...{ holdError: null, holdMs: 0, releasedAt: Date.now(), during: emptyTally(), statusSlowestMs: 0 },
    ...{ daemonSurvived: false, statusSeen: [], logLines: 0, walMax: fileSize(`${run.dbFile}-wal`) },
  };
  let holder: SqliteHolder;
  try {
    holder = await SqliteHolder.start(run.dbFile, SQL[kind], 10_000, run.signal);
  } catch (e) {
    return { ...p, holdError: e instanceof Error ? e.message : String(e), daemonSurvived: sameDaemon(run, d) };
  }
  const heldAt = Date.now();
  // Another program's write lock keeps the daemon from writing anything (timeouts, expiries) until it is released.
  const outage = { from: heldAt, to: null as number | null };
  if (kind === 'write') run.writeOutages.push(outage);
  const lines = countLines(d, /storage_busy|SQLITE_BUSY/);
  const sent: Promise<unknown>[] = [];
  try {
    const end = heldAt + o.holdMs;
    let lastStatus = 0;
    while (Date.now() < end && !run.signal.aborted) {
      sent.push(probe(run, name, p.during, 15_000));
      if (Date.now() - lastStatus >= 2000) {
        lastStatus = Date.now();
        // Not awaited: the daemon may answer only after its own wait for the lock, and the hold ends on time.
        sent.push(statusDuringHold(run, p));
      }
      p.walMax = Math.max(p.walMax, fileSize(`${run.dbFile}-wal`));
      await sleep(Math.min(o.everyMs ?? 1000, Math.max(0, end - Date.now())), undefined, { signal: run.signal });
    }
  } finally {
    const err = await holder.release();
    p.releasedAt = Date.now();
    outage.to = p.releasedAt;
    if (err) run.log(`hostile moment ${name}: sqlite3 said: ${err.slice(0, 300)}`);
    await Promise.allSettled(sent);
    p.logLines = lines.stop().lines;
  }
  p.holdMs = p.releasedAt - heldAt;
  p.walMax = Math.max(p.walMax, fileSize(`${run.dbFile}-wal`));
  p.daemonSurvived = sameDaemon(run, d);
  return p;
}

/** One GET /api/status during the hold: how long it took, and the queue's error while it is not ok. */
async function statusDuringHold(run: SoakRun, p: HoldPeriod): Promise<void> {
  const t0 = Date.now();
  const s = await storageStatus(run);
  p.statusSlowestMs = Math.max(p.statusSlowestMs, Date.now() - t0);
  // A last_error stays after its component is ok again: only the components in trouble now count.
  if (s && s.queue !== 'ok' && p.statusSeen.length < 5) p.statusSeen.push(`queue ${s.queue}: ${s.queueError}`);
}

function observedOf(o: HoldObservation): MomentRecord['observed'] {
  const d = o.during;
  return {
    held_ms: o.holdMs,
    status_slowest_ms: o.statusSlowestMs,
    hold_error: o.holdError ?? '',
    sent: d.sent,
    accepted: d.accepted,
    refused_storage_busy: d.storageRefused,
    answered_500: d.answered500,
    other_refused: d.otherRefused,
    no_answer: d.noAnswer,
    slowest_answer_ms: d.maxMs,
    answers: JSON.stringify(d.byAnswer),
    refusal_message: d.messages[0] ?? '',
    daemon_survived: o.daemonSurvived,
    status_seen: o.statusSeen.join(' | '),
    log_lines_during_hold: o.logLines,
    recovered_after_ms: o.recoveredAfterMs ?? 'not within the bound',
    unsettled_jobs: o.unsettled.length,
    wal_bytes_before: o.walBefore,
    wal_bytes_max: o.walMax,
    wal_bytes_after: o.walAfter,
    integrity: o.integrity,
  };
}
