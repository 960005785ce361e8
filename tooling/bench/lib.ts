// Shared pieces of the benchmark scripts: the real `alter0 serve` as a child process (@alter0/testkit), its HTTP
// API through @alter0/api's typed client with time bounds, percentiles, and a report that names the machine it was
// measured on.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApiClient, CallOptions, Job } from '@alter0/api';
import { ALTER0_BIN as TESTKIT_BIN, inheritedEnv, startDaemon, until } from '@alter0/testkit';

export { until } from '@alter0/testkit';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ALTER0_BIN = TESTKIT_BIN;

export const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export interface ServeOptions {
  /** The data directory (created when missing). */
  data: string;
  /** Everything after `serve --data <data> --listen 127.0.0.1:0`. */
  args: readonly string[];
  /** The daemon's whole environment (its agent children inherit it). Default: this process's, ALTER0_CONFIG empty. */
  env?: Record<string, string>;
  /** Flags for the daemon's Node (e.g. --cpu-prof). */
  nodeArgs?: readonly string[];
  cwd?: string;
  signal: AbortSignal;
  /** Bound on start-up: "listening", then GET /readyz 200 (default 60 s: the machine is shared). */
  startTimeoutMs?: number;
}

export interface Daemon {
  url: string;
  pid: number;
  /** performance.now() when the process was spawned. */
  spawnedAt: number;
  /** Milliseconds from spawn to the daemon's "listening" log line. */
  listeningMs: number;
  /** @alter0/api's client (it validates every answer; a refusal throws ApiRequestError). */
  client: ApiClient;
  /** Call options for one request: the run's signal and a time bound (default 60 s). */
  within(timeoutMs?: number): CallOptions;
  /** The last 64 KiB of the daemon's stderr (its JSON log). */
  stderrTail(): string;
  /** Resolves once the process is gone. */
  exited: Promise<void>;
  /** SIGTERM (graceful: drain, checkpoint), SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now (a crash); resolves once the process is gone. */
  kill9(): Promise<void>;
}

/** Starts the real `alter0 serve` on an ephemeral loopback port; resolves once it is ready (GET /readyz 200). */
export async function startServe(o: ServeOptions): Promise<Daemon> {
  const d = await startDaemon({
    data: o.data,
    args: o.args,
    env: o.env ?? inheritedEnv(),
    nodeArgs: o.nodeArgs ?? [],
    cwd: o.cwd ?? ROOT,
    signal: o.signal,
    startTimeoutMs: o.startTimeoutMs ?? 60_000,
    logTailChars: 64 * 1024,
  });
  return {
    url: d.url,
    pid: d.pid,
    spawnedAt: d.spawnedAt,
    listeningMs: d.listeningMs,
    stderrTail: d.stderr,
    exited: d.exited.then(() => undefined),
    client: d.client,
    within: (timeoutMs = 60_000) => ({ signal: AbortSignal.any([o.signal, AbortSignal.timeout(timeoutMs)]) }),
    async stop(graceMs = 30_000) {
      await d.stop('SIGTERM', graceMs);
    },
    async kill9() {
      await d.kill9();
    },
  };
}

/** Polls a job until it is terminal (succeeded, failed, canceled). */
export function finished(d: Daemon, jobId: string, ms: number, signal: AbortSignal): Promise<Job> {
  return until(
    async () => {
      const j = await d.client.getJob(jobId, d.within());
      return TERMINAL.has(j.state) ? j : null;
    },
    { timeoutMs: ms, what: `job ${jobId} to finish`, signal },
  );
}

/** Milliseconds until GET /readyz answers 200 (counted from `from`, a performance.now() value). */
export async function readyAfter(d: Daemon, from: number, signal: AbortSignal): Promise<number> {
  await until(async () => ((await d.client.readyz(d.within(5_000))).status === 200 ? true : null), {
    timeoutMs: 60_000,
    what: 'GET /readyz to answer 200',
    signal,
    intervalMs: 5,
  });
  return performance.now() - from;
}

/** The sum of the queued and running jobs in a status document's `jobs_by_state`. */
export async function openJobs(d: Daemon): Promise<number> {
  const by = (await d.client.status(d.within())).components.queue.details.jobs_by_state;
  return by.queued + by.running;
}

/** Nearest-rank percentile (p in 0..1) of the values; NaN for an empty list. */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN;
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);

export const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/** Resident set size and its peak, in MiB, from /proc (Linux). */
export function rssMiB(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: round(kib('VmRSS') / 1024), peak: round(kib('VmHWM') / 1024) };
}

/** Bytes of the database and its WAL in a data directory. */
export function dbBytes(data: string): { db: number; wal: number } {
  const size = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  return { db: size(path.join(data, 'alter0.db')), wal: size(path.join(data, 'alter0.db-wal')) };
}

/** What the figures were measured on: the machine is shared, so its load is part of every result. */
export function machine(): Record<string, string | number> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      timeout: 5_000,
    }).trim();
  } catch {
    // Not a git checkout: the figure still stands, without the commit.
  }
  const [l1, l5] = os.loadavg();
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    mem_gib: round(os.totalmem() / 2 ** 30),
    node: process.version,
    commit,
    loadavg_1m: round(l1 ?? Number.NaN, 2),
    loadavg_5m: round(l5 ?? Number.NaN, 2),
  };
}

/** Prints `report` as aligned `key value` lines, or as one JSON line with --json. */
export function printReport(title: string, report: Record<string, unknown>, json: boolean): void {
  if (json) {
    console.log(JSON.stringify({ bench: title, ...report }));
    return;
  }
  console.log(`# ${title}`);
  for (const [k, v] of Object.entries(report)) {
    console.log(`${k.padEnd(46)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  }
}

/** A signal that aborts after `minutes` or on Ctrl-C, so every benchmark has a hard time bound. */
export function runDeadline(minutes: number): AbortSignal {
  const ctl = new AbortController();
  process.once('SIGINT', () => ctl.abort(new Error('interrupted (SIGINT)')));
  return AbortSignal.any([ctl.signal, AbortSignal.timeout(minutes * 60_000)]);
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** A positive integer option, or a clear error naming the flag. */
export function intOption(name: string, value: string | undefined, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * An executor for the command adapter that costs almost nothing but can also be slow on request: a prompt whose
 * first line is `sleep <seconds>` sleeps that long; every prompt is echoed back as the reply. POSIX sh, no Node
 * start-up in the measured path.
 */
export const SH_AGENT = `sh -c 'IFS= read -r first; case "$first" in "sleep "*) sleep "\${first#sleep }";; esac; printf "%s\\n" "$first"; cat'`;

/** Fields of /proc/<pid>/status (Linux): resident set, its peak (VmHWM) in MiB, and the number of threads. */
export function procStatus(pid: number): { rss: number; hwm: number; threads: number; anon: number; file: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return {
    rss: round(field('VmRSS') / 1024),
    hwm: round(field('VmHWM') / 1024),
    threads: field('Threads'),
    // Anonymous memory is the process's own; file-backed pages (the node binary's code) are shared and reclaimable.
    anon: round(field('RssAnon') / 1024),
    file: round(field('RssFile') / 1024),
  };
}

/** Polls a process's VmRSS every `everyMs` until stopped; `stop()` returns the highest value seen, in MiB. */
export function pollRssPeak(pid: number, everyMs = 100): { stop(): number } {
  let peak = 0;
  const read = (): void => {
    try {
      peak = Math.max(peak, procStatus(pid).rss);
    } catch {
      // The process is gone: the peak so far stands.
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      return peak;
    },
  };
}

/** One scrape of the daemon's GET /metrics (bounded): each series (name with its labels) to its value. */
export async function scrapeMetrics(d: Daemon, signal: AbortSignal): Promise<Map<string, number>> {
  const r = await fetch(`${d.url.replace(/\/$/, '')}/metrics`, {
    signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
  });
  if (r.status !== 200) throw new Error(`GET /metrics answered ${r.status}`);
  const out = new Map<string, number>();
  for (const line of (await r.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/**
 * The event loop's delay p99 and max and its utilization in ms / ratio from a scrape: they cover the interval since
 * the previous scrape (packages/obs/src/event-loop.ts), so scrape once before a phase and once right after it.
 */
export function eventLoopFigures(m: Map<string, number>): { p99_ms: number; max_ms: number; utilization: number } {
  const get = (series: string): number => m.get(series) ?? Number.NaN;
  return {
    p99_ms: round(get('alter0_event_loop_delay_seconds{percentile="99"}') * 1000, 2),
    max_ms: round(get('alter0_event_loop_delay_max_seconds') * 1000, 2),
    utilization: round(get('alter0_event_loop_utilization_ratio'), 3),
  };
}

/** V8's heap in use and reserved (MiB), from a scrape of /metrics. */
export function heapFigures(m: Map<string, number>): { heap_used_mib: number; heap_total_mib: number } {
  return {
    heap_used_mib: round((m.get('nodejs_heap_size_used_bytes') ?? Number.NaN) / 2 ** 20),
    heap_total_mib: round((m.get('nodejs_heap_size_total_bytes') ?? Number.NaN) / 2 ** 20),
  };
}
