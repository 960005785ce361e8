import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApiContractError } from '@alter0/api';
import type { DaemonProcess, DaemonSpec } from './daemon.js';
import type { SoakFeature } from './day/feature.js';
import { MaintenancePool } from '@alter0/maintenance';
import { daySets } from './day/profile.js';
import { RunDb } from './run-db.js';
import { Api } from './http.js';
import type { JobView } from './http.js';
import type { SoakOptions } from './options.js';
import type { MessagePlan } from './plan.js';
import { emptyResult } from './result.js';
import type { SoakResult, ViolationKind } from './result.js';
import { createRng } from './rng.js';
import type { Rng } from './rng.js';

export const POLL_MS = 1000;
const MAX_VIOLATIONS_KEPT = 500;
const MAX_DISTINCT_DRIFTS = 100;

export interface Chain {
  plan: MessagePlan;
  jobs: string[];
  /** A job of the chain was running when the daemon was killed: its fault counter and attempts are disturbed. */
  killed: boolean;
  /** The harness asked to cancel a job of the chain. */
  canceled: boolean;
}

export interface Tracked {
  id: string;
  chain: Chain;
  isRetry: boolean;
  acceptedGen: number;
  state: JobView['state'];
  attempt: number;
  errorClass: string | null;
  timeoutS: number;
  /** When this harness first saw the current attempt running (during this daemon lifetime). */
  runningSeen: { attempt: number; gen: number; at: number } | null;
  stuckReported: boolean;
  retried: boolean;
}

/** Everything one soak run shares between its phases: where it runs, what it tracks, and what it found. */
export interface SoakRun {
  opts: SoakOptions;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Separate streams (see prepareRun). */
  rng: Rng;
  killRng: Rng;
  reactRng: Rng;
  runId: string;
  work: string;
  dataDir: string;
  agentLog: string;
  dbFile: string;
  syncWaitMs: number;
  spec: DaemonSpec;
  result: SoakResult;
  api: Api;
  /** The distinct contract drifts reported so far (each is one violation). */
  driftsSeen: Set<string>;
  jobs: Map<string, Tracked>;
  nonTerminal: Set<string>;
  tasks: string[];
  inflight: Set<Promise<void>>;
  gen: number;
  daemon: DaemonProcess | null;
  /** The current daemon answers (false from a kill until the next one is ready). */
  up: boolean;
  /** New load is sent (false once the drain is over). */
  loadOn: boolean;
  /** Failed jobs are retried the way an owner would (false once the load phase ends). */
  retriesOn: boolean;
  keySeq: number;
  agentLogOffset: number;
  lastSample: number;
  /** The harness's read-only view of the database (quick reads on the restart path). */
  db: RunDb;
  /** The thread `db verify` runs on after each restart (kept for the run: a thread per check would cost more). */
  verifyPool: MaintenancePool;
  /**
   * Windows in which a hostile moment made writes impossible (a full disk, another program's write lock): the
   * daemon cannot record a timeout or an expiry then, so the clocks of "stuck" and "overdue" stop (see
   * `writeOutageMs`). `to` is null while the window is open.
   */
  writeOutages: { from: number; to: number | null }[];
  /** The restart under way (restarts are serialized: see requestRestart). */
  restarting: Promise<void> | null;
  /** Checks running beside the load after restarts (database, orphans, features); awaited at the end. */
  checks: Set<Promise<void>>;
  /** Database checks after restarts run one at a time, in this chain; how many wait in it. */
  dbCheckChain: Promise<void>;
  dbChecksQueued: number;
  /** The day profile's features (channels, approvals, schedules, hostile moments); empty in the classic soak. */
  features: SoakFeature[];
}

/** Prepares a run: its random streams, work and data directories, the daemon's spec, and an empty result. */
export function prepareRun(
  opts: SoakOptions,
  paths: { agent: string },
  signal: AbortSignal,
  log: (line: string) => void,
): SoakRun {
  const runId = `soak-${opts.seed}-${process.pid}-${Date.now().toString(36)}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-soak-'));
  const dataDir = opts.data ?? path.join(work, 'data');
  const stateDir = path.join(work, 'state');
  const agentLog = path.join(work, 'agent.jsonl');
  fs.mkdirSync(stateDir, { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const run: SoakRun = {
    opts,
    signal,
    log,
    // Separate streams, so the plan of the n-th message and the kill times do not depend on how many retries or
    // cancels timing happened to interleave: the same seed gives the same messages and the same kill schedule.
    rng: createRng(opts.seed),
    killRng: createRng(opts.seed ^ 0x5bd1e995),
    reactRng: createRng(opts.seed ^ 0x27d4eb2f),
    runId,
    work,
    dataDir,
    agentLog,
    dbFile: path.join(dataDir, 'alter0.db'),
    syncWaitMs: Math.min(2000, Math.round((opts.jobTimeoutS * 1000) / 4)),
    spec: daemonSpec(opts, { agent: paths.agent, runId, dataDir, agentLog, stateDir }),
    result: emptyResult(opts, runId, dataDir),
    api: new Api(
      () => run.daemon?.client ?? null,
      signal,
      (e) => drift(run, e),
    ),
    driftsSeen: new Set(),
    jobs: new Map(),
    nonTerminal: new Set(),
    tasks: [],
    inflight: new Set(),
    gen: 1,
    daemon: null,
    up: false,
    loadOn: true,
    retriesOn: true,
    keySeq: 0,
    agentLogOffset: 0,
    lastSample: 0,
    features: [],
    db: new RunDb(path.join(dataDir, 'alter0.db')),
    verifyPool: new MaintenancePool({ idleTimeoutMs: 600_000 }),
    writeOutages: [],
    restarting: null,
    checks: new Set(),
    dbCheckChain: Promise.resolve(),
    dbChecksQueued: 0,
  };
  return run;
}

function daemonSpec(
  opts: SoakOptions,
  p: { agent: string; runId: string; dataDir: string; agentLog: string; stateDir: string },
): DaemonSpec {
  return {
    bin: opts.bin,
    data: p.dataDir,
    command: [process.execPath, p.agent, '--soak-run', p.runId].map((a) => JSON.stringify(a)).join(' '),
    sets: [
      `queue.job_timeout_s=${opts.jobTimeoutS}`,
      `queue.max_attempts=${opts.maxAttempts}`,
      `queue.interactive_workers=${opts.interactiveWorkers}`,
      `queue.background_workers=${opts.backgroundWorkers}`,
      // Shorter backoff than the defaults so retries happen within a short soak; the policy is what is tested.
      'queue.backoff_initial_ms=500',
      'queue.backoff_max_ms=5000',
      `router.timeout_s=${opts.jobTimeoutS}`,
      `closer.timeout_s=${opts.jobTimeoutS}`,
      // The day profile compresses maintenance (day/profile.ts); the classic soak keeps it out of the way.
      ...(opts.profile === 'day'
        ? daySets(opts)
        : [
            'log.file=false',
            // Backups copy the database: a 24 h soak should see one, not one per restart.
            'backup.interval=12h',
          ]),
    ],
    env: {
      SOAK_AGENT_LOG: p.agentLog,
      SOAK_DB: path.join(p.dataDir, 'alter0.db'),
      SOAK_STATE_DIR: p.stateDir,
      SOAK_HANG_MAX_MS: String(Math.max(60_000, opts.jobTimeoutS * 4000)),
    },
  };
}

export function violate(run: SoakRun, kind: ViolationKind, detail: string): void {
  const { violations } = run.result;
  if (violations.length < MAX_VIOLATIONS_KEPT) violations.push({ kind, at: Date.now(), detail });
  else if (violations.length === MAX_VIOLATIONS_KEPT)
    violations.push({ kind, at: Date.now(), detail: 'further violations not listed' });
  run.log(`VIOLATION ${kind}: ${detail}`);
}

/** An answer that breaks the API contract: counted every time, a violation once per distinct drift. */
function drift(run: SoakRun, e: ApiContractError): void {
  run.result.contractDrifts++;
  if (run.driftsSeen.has(e.message) || run.driftsSeen.size >= MAX_DISTINCT_DRIFTS) return;
  run.driftsSeen.add(e.message);
  violate(run, 'contract_drift', e.message);
}

export function harnessError(run: SoakRun, what: string, err: unknown): void {
  const msg = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  if (run.result.harnessErrors.length < 50) run.result.harnessErrors.push(msg);
}

/** After a write outage ends, this long more is the daemon's to write what waited (retries with backoff). */
const WRITE_OUTAGE_GRACE_MS = 15_000;

/** How much of [from, to] fell in a write outage (each window with its grace after it). */
export function writeOutageMs(run: Pick<SoakRun, 'writeOutages'>, from: number, to: number): number {
  let ms = 0;
  for (const w of run.writeOutages) {
    const end = (w.to ?? to) + WRITE_OUTAGE_GRACE_MS;
    ms += Math.max(0, Math.min(to, end) - Math.max(from, w.from));
  }
  return ms;
}
