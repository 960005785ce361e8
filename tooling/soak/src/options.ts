import { parseArgs } from 'node:util';
import { randomInt } from 'node:crypto';
import { FAULT_KINDS } from './plan.js';
import type { FaultKind } from './plan.js';

/** Where a limit on resource growth applies; each is stated in the report next to what was measured. */
export interface Bounds {
  /**
   * Growth of the daemon's memory outside its V8 heaps (RSS less both isolates' committed heaps: SQLite, buffers,
   * the allocator, addons) within a lifetime, after warm-up.
   */
  nativeSlopeMbPerH: number;
  /** V8 heap in use (its floor) within a lifetime, after warm-up: where a JavaScript leak shows. */
  heapSlopeMbPerH: number;
  /** Open file descriptors growth within a lifetime, after warm-up. */
  fdSlopePerH: number;
  /** Queue depth growth over the whole run (the queue survives restarts). */
  queueSlopePerH: number;
  /** WAL growth over the whole run. */
  walSlopeMbPerH: number;
  maxRssMb: number;
  maxFds: number;
  maxWalMb: number;
  /** Database bytes per accepted job at the end (everything is kept: retention is 30 days). */
  maxDbKbPerJob: number;
  /** Slopes are only judged over at least this much post-warm-up observation (shorter runs are too noisy). */
  minSlopeWindowMs: number;
  /** Each lifetime's first part is left out of slopes (start-up allocation, JIT, caches). */
  warmupMs: number;
}

type Profile = 'classic' | 'day';

export interface SoakOptions {
  /** `classic`: the load with a kill every --kill-every. `day`: a day compressed into --duration (docs/soak.md). */
  profile: Profile;
  /** Day profile: kill -9s to land in the storm phase (spread over it, adapting to the restart time). */
  kills: number;
  /** Day profile: the share of the load phase before the storm (hostile moments, long lifetimes for slopes). */
  calmShare: number;
  /** Day profile: the hostile moments to run, by name; null: all of them. */
  moments: string[] | null;
  /** The machine-readable report (JSON), or null. */
  json: string | null;
  durationMs: number;
  out: string;
  /** Raw samples as CSV, or null. */
  samples: string | null;
  seed: number;
  /** Mean arrivals per second (Poisson). */
  rate: number;
  /** Mean interval between kill -9s; 0 disables them. Actual intervals are uniform in [0.5, 1.5] × this. */
  killEveryMs: number;
  /** Existing data directory to use (kept); null = a temp dir removed at the end. */
  data: string | null;
  keepData: boolean;
  jobTimeoutS: number;
  /** Mean execute time of the async long jobs. */
  longMs: number;
  maxAttempts: number;
  faults: Record<FaultKind, number>;
  sampleEveryMs: number;
  drainTimeoutMs: number;
  interactiveWorkers: number;
  backgroundWorkers: number;
  /** The alter0 entry point to run (`alter0 serve`). */
  bin: string;
  bounds: Bounds;
}

const DEFAULT_FAULTS: Record<FaultKind, number> = {
  slow: 0.1,
  hang: 0.02,
  rate_limited: 0.04,
  unavailable: 0.04,
  auth: 0.02,
  malformed_route: 0.04,
  malformed_close: 0.04,
};

/** The day profile's defaults, placed before the given flags (the last value of a flag wins). */
const DAY_FLAGS = [
  '--rate',
  '0.4',
  '--workers',
  '2,3',
  '--kill-every',
  '0',
  '--job-timeout',
  '20s',
  '--long',
  '4s',
  '--faults',
  'slow=0.08,hang=0.03,rate_limited=0.07,unavailable=0.07,auth=0.05,malformed_route=0.05,malformed_close=0.05',
  '--warmup',
  '20m',
  '--min-slope-window',
  '15m',
];

export const USAGE = `alter0 soak: run the real \`alter0 serve\` under a mixed, fault-injecting workload with kill -9s, check
the invariants continuously, and write a report.

  --duration D        how long to generate load (e.g. 90s, 2h, 24h)                    required
  --out FILE          the report (Markdown, with a JSON summary block)                 required
  --samples FILE      also write every resource sample as CSV
  --seed N            workload and fault plan seed                                    random (reported)
  --rate R            mean messages per second                                        0.5
  --kill-every D      mean time between kill -9s of the daemon (0: never)             1h
  --data DIR          data directory to use and keep                                  a temp dir, removed
  --keep-data         keep the temp data directory
  --job-timeout D     job timeout (hangs last this long)                              30s
  --long D            mean execute time of the async long jobs                        5s
  --max-attempts N    queue.max_attempts                                              3
  --faults LIST       fault rates per message, e.g. slow=0.1,hang=0.02,rate_limited=0.04,
                      unavailable=0.04,auth=0.02,malformed_route=0.04,malformed_close=0.04
  --sample-every D    resource and invariant sampling interval                        5s
  --drain-timeout D   final wait for the queue without progress (8× in all) (attempts × (timeout + backoff)) + 60s
  --workers I,B       interactive,background workers                                  2,2
  --warmup D          left out of each daemon lifetime's slopes                       15m
  --min-slope-window D  slopes are judged only over this much observation            2h
  --max-native-slope MB/h, --max-heap-slope MB/h, --max-fd-slope N/h, --max-queue-slope N/h, --max-wal-slope MB/h,
  --max-rss MB, --max-fds N, --max-wal MB, --max-db-kb-per-job KB   resource bounds (defaults in the report)
  --bin FILE          the alter0 entry point                                          apps/cli/bin/alter0.js
  --json FILE         also write the machine-readable report (JSON)

  --profile day       a day compressed into --duration: every channel, approvals, schedules, hostile moments
                      in a calm phase, then a storm of kill -9s; maintenance intervals scaled (docs/soak.md).
                      Its defaults come first, so any flag above still overrides them:
                      ${DAY_FLAGS.join(' ')}
  --kills N           day: kill -9s in the storm phase                     1050 per 2 hours of --duration
  --calm F            day: share of the load before the storm (0–0.9)                               0.5
  --moments LIST      day: the hostile moments to run (disk_full, db_held_read, db_held_write,
                      sigstop_within_watchdog, sigstop_beyond_watchdog, clock_jumps), or "none"       all
`;

/**
 * How the run kills the daemon, for the log and the report: the day profile's storm, or a mean wait between kills
 * (the day profile has no mean wait, so its kills are counted, not spaced).
 */
export function killPlan(opts: SoakOptions): string {
  if (opts.profile === 'day')
    return `${opts.kills} kill -9s in the storm after the calm ${Math.round(opts.calmShare * 100)} % (spread over it)`;
  return opts.killEveryMs > 0 ? `kill -9 every ~${opts.killEveryMs / 1000}s mean (uniform 0.5–1.5×)` : 'no kill -9';
}

/** A usage problem: the message names the flag and what it expects. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "1h30m", "250ms" → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    if (/^\d+$/.test(text) && Number(text) === 0) return 0;
    throw new UsageError(`--${flag} ${JSON.stringify(text)}: expected a duration such as 90s, 10m, 24h or 1h30m`);
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (UNITS[p[2] ?? 'ms'] ?? 1), 0);
}

function positive(text: string, flag: string, integer = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag} ${JSON.stringify(text)}: expected a positive ${integer ? 'whole ' : ''}number`);
  }
  return n;
}

export function parseFaults(text: string): Record<FaultKind, number> {
  const out = { ...DEFAULT_FAULTS };
  for (const item of text.split(',').filter(Boolean)) {
    const [k, v] = item.split('=');
    const kind = FAULT_KINDS.find((f) => f === k);
    const p = Number(v);
    if (kind === undefined)
      throw new UsageError(`--faults: unknown fault ${JSON.stringify(k)}; known: ${FAULT_KINDS.join(', ')}`);
    if (!Number.isFinite(p) || p < 0 || p > 1)
      throw new UsageError(`--faults ${k}=${v}: expected a rate between 0 and 1`);
    out[kind] = p;
  }
  const execShare = out.slow + out.hang + out.rate_limited + out.unavailable + out.auth;
  if (execShare > 1)
    throw new UsageError(
      `--faults: the execute-stage rates (slow, hang, rate_limited, unavailable, auth) add up to ${execShare}, more than 1`,
    );
  return out;
}

/** The flags `soak` takes, with their defaults. */
const FLAGS = {
  profile: { type: 'string', default: 'classic' },
  kills: { type: 'string' },
  calm: { type: 'string', default: '0.5' },
  moments: { type: 'string' },
  json: { type: 'string' },
  duration: { type: 'string' },
  out: { type: 'string' },
  samples: { type: 'string' },
  seed: { type: 'string' },
  rate: { type: 'string', default: '0.5' },
  'kill-every': { type: 'string', default: '1h' },
  data: { type: 'string' },
  'keep-data': { type: 'boolean', default: false },
  'job-timeout': { type: 'string', default: '30s' },
  long: { type: 'string', default: '5s' },
  'max-attempts': { type: 'string', default: '3' },
  faults: { type: 'string', default: '' },
  'sample-every': { type: 'string', default: '5s' },
  'drain-timeout': { type: 'string' },
  workers: { type: 'string', default: '2,2' },
  warmup: { type: 'string', default: '15m' },
  'min-slope-window': { type: 'string', default: '2h' },
  'max-native-slope': { type: 'string', default: '10' },
  'max-heap-slope': { type: 'string', default: '5' },
  'max-fd-slope': { type: 'string', default: '5' },
  'max-queue-slope': { type: 'string', default: '10' },
  'max-wal-slope': { type: 'string', default: '8' },
  'max-rss': { type: 'string', default: '512' },
  'max-fds': { type: 'string', default: '256' },
  'max-wal': { type: 'string', default: '64' },
  'max-db-kb-per-job': { type: 'string', default: '32' },
  bin: { type: 'string' },
} as const;

type FlagValues = ReturnType<typeof parseArgs<{ args: string[]; strict: true; options: typeof FLAGS }>>['values'];

export function parseOptions(argv: string[], defaultBin: string): SoakOptions {
  const profile = profileOf(argv);
  const args = profile === 'day' ? [...DAY_FLAGS, ...argv] : argv;
  const { values } = parseArgs({ args, strict: true, options: FLAGS });
  if (values.duration === undefined) throw new UsageError('--duration is required (e.g. --duration 24h)');
  if (values.out === undefined) throw new UsageError('--out FILE is required: where to write the report');
  const durationMs = parseDuration(values.duration, 'duration');
  if (durationMs <= 0) throw new UsageError('--duration must be more than 0');
  const jobTimeoutMs = parseDuration(values['job-timeout'], 'job-timeout');
  if (jobTimeoutMs < 2000)
    throw new UsageError('--job-timeout must be at least 2s (the daemon counts it in whole seconds)');
  const maxAttempts = positive(values['max-attempts'], 'max-attempts', true);
  const [iw, bw] = values.workers.split(',').map((w) => positive(w, 'workers', true));
  if (iw === undefined || bw === undefined)
    throw new UsageError('--workers: expected two numbers: interactive,background (e.g. 2,2)');
  const jobTimeoutS = Math.round(jobTimeoutMs / 1000);
  // Backoff is shortened for the soak (see daemonArgs); each attempt can take the whole timeout.
  const drainDefault = maxAttempts * (jobTimeoutS * 1000 + 5000) + 60_000;
  const seed = values.seed === undefined ? randomInt(1, 2 ** 31 - 1) : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed ${values.seed}: expected a whole number`);
  const calmShare = Number(values.calm);
  if (!Number.isFinite(calmShare) || calmShare < 0 || calmShare > 0.9)
    throw new UsageError(`--calm ${values.calm}: expected a share of the load between 0 and 0.9`);
  return {
    profile,
    kills:
      values.kills === undefined
        ? Math.ceil((1050 * durationMs) / 7_200_000)
        : Math.round(positive(values.kills, 'kills', true)),
    calmShare,
    moments:
      values.moments === undefined ? null : values.moments === 'none' ? [] : values.moments.split(',').filter(Boolean),
    json: values.json ?? null,
    durationMs,
    out: values.out,
    samples: values.samples ?? null,
    seed,
    rate: positive(values.rate, 'rate'),
    killEveryMs: parseDuration(values['kill-every'], 'kill-every'),
    data: values.data ?? null,
    keepData: values['keep-data'],
    jobTimeoutS,
    longMs: parseDuration(values.long, 'long'),
    maxAttempts,
    faults: parseFaults(values.faults),
    sampleEveryMs: Math.max(500, parseDuration(values['sample-every'], 'sample-every')),
    drainTimeoutMs:
      values['drain-timeout'] === undefined ? drainDefault : parseDuration(values['drain-timeout'], 'drain-timeout'),
    interactiveWorkers: iw,
    backgroundWorkers: bw,
    bin: values.bin ?? defaultBin,
    bounds: boundsOf(values),
  };
}

function profileOf(argv: string[]): Profile {
  const i = argv.lastIndexOf('--profile');
  const v = i >= 0 ? argv[i + 1] : (argv.findLast((a) => a.startsWith('--profile='))?.slice(10) ?? 'classic');
  if (v !== 'classic' && v !== 'day')
    throw new UsageError(`--profile ${JSON.stringify(v)}: expected "day" or "classic"`);
  return v;
}

function boundsOf(values: FlagValues): Bounds {
  return {
    nativeSlopeMbPerH: positive(values['max-native-slope'], 'max-native-slope'),
    heapSlopeMbPerH: positive(values['max-heap-slope'], 'max-heap-slope'),
    fdSlopePerH: positive(values['max-fd-slope'], 'max-fd-slope'),
    queueSlopePerH: positive(values['max-queue-slope'], 'max-queue-slope'),
    walSlopeMbPerH: positive(values['max-wal-slope'], 'max-wal-slope'),
    maxRssMb: positive(values['max-rss'], 'max-rss'),
    maxFds: positive(values['max-fds'], 'max-fds'),
    maxWalMb: positive(values['max-wal'], 'max-wal'),
    maxDbKbPerJob: positive(values['max-db-kb-per-job'], 'max-db-kb-per-job'),
    minSlopeWindowMs: parseDuration(values['min-slope-window'], 'min-slope-window'),
    warmupMs: parseDuration(values.warmup, 'warmup'),
  };
}
