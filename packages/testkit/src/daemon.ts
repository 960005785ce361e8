import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until, untilText } from './until.js';
import type { UntilOptions } from './until.js';

/** The repository's `alter0` command (apps/cli, built with `pnpm exec tsc -b`). */
export const ALTER0_BIN = fileURLToPath(new URL('../../../apps/cli/bin/alter0.js', import.meta.url));
const CLI_DIST = fileURLToPath(new URL('../../../apps/cli/dist/index.js', import.meta.url));

/**
 * A cold `alter0 serve` (Node start, migrations, recovery, bind) takes about a second on an idle machine and
 * several on a loaded two-core one.
 */
export const START_TIMEOUT_MS = 40_000;

export interface DaemonOptions {
  /** The `alter0` entry point (default: this repository's build). */
  bin?: string;
  /** The data directory (default: `data` in a temp dir the daemon owns and `cleanup()` removes). */
  data?: string;
  /** TOML written to a config file in the temp dir and passed as `--config`. */
  config?: string;
  /** host:port to listen on (default 127.0.0.1:0: a free loopback port). */
  listen?: string;
  /** Everything after `serve --data <data> --listen <listen>`. */
  args?: readonly string[];
  /** The daemon's whole environment (its agent children inherit it); default `inheritedEnv()`. */
  env?: Record<string, string>;
  /** Flags for the daemon's Node (e.g. --cpu-prof). */
  nodeArgs?: readonly string[];
  cwd?: string;
  /** Bound on start-up: the "listening" log line, then GET /readyz answering 200 (default START_TIMEOUT_MS). */
  startTimeoutMs?: number;
  /** How much of stderr (the JSON log) to keep, in characters (default 4 MiB). */
  logTailChars?: number;
  signal?: AbortSignal;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Its functions are closures over the process: they may be passed around unbound. */
export interface Daemon {
  url: string;
  pid: number;
  proc: ChildProcess;
  data: string;
  /** The temp dir this daemon owns (config file, default data dir), removed by cleanup(); null when given a data dir and no config. */
  dir: string | null;
  /** performance.now() at spawn, and milliseconds from spawn to the "listening" line. */
  spawnedAt: number;
  listeningMs: number;
  exited: Promise<Exit>;
  alive: () => boolean;
  /** The daemon's stderr (its JSON log) so far, the last `logTailChars` of it. */
  stderr: () => string;
  /** Calls `fn` with every stderr chunk; returns the unsubscribe. */
  onStderr: (fn: (chunk: string) => void) => () => void;
  /**
   * Waits until the log matches `pattern` and resolves with the log so far. The log comes through a pipe,
   * independently of the HTTP answers: never read `stderr()` once right after an action and expect a line there.
   */
  waitForLog: (pattern: RegExp | string, opts?: UntilOptions) => Promise<string>;
  /** `signal` (default SIGTERM), SIGKILL after `graceMs` (default 10 s); resolves with the exit once it is gone. */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<Exit>;
  /** SIGKILL now (a crash); resolves once it is gone. */
  kill9: () => Promise<Exit>;
  /** SIGKILL the daemon's whole process group, wait for the exit, remove the temp dir it owns. Idempotent. */
  cleanup: () => Promise<void>;
}

/** This process's environment without ALTER0_CONFIG (so no owner config file leaks in), plus `extra`. */
export function inheritedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return { ...out, ALTER0_CONFIG: '', ...extra };
}

export function tempDir(prefix = 'alter0-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export class DaemonStartError extends Error {
  override readonly name = 'DaemonStartError';
}

/**
 * Starts `alter0 serve` as a child in its own process group (on a free 127.0.0.1 port by default) and resolves once it
 * listens and GET /readyz answers 200. A failure names the command and carries the tail of the daemon's log.
 */
export async function startDaemon(o: DaemonOptions = {}): Promise<Daemon> {
  const bin = o.bin ?? ALTER0_BIN;
  if (o.bin === undefined && !existsSync(CLI_DIST)) {
    throw new DaemonStartError(`${CLI_DIST} is missing: build first with \`pnpm exec tsc -b\` at the repository root`);
  }
  const dir = o.data === undefined || o.config !== undefined ? tempDir('alter0-daemon-') : null;
  const data = o.data ?? join(dir ?? '', 'data');
  mkdirSync(data, { recursive: true });
  const args = [...(o.nodeArgs ?? []), bin, 'serve', '--data', data, '--listen', o.listen ?? '127.0.0.1:0'];
  if (o.config !== undefined && dir !== null) {
    const file = join(dir, 'alter0.toml');
    writeFileSync(file, o.config, 'utf8');
    args.push('--config', file);
  }
  args.push(...(o.args ?? []));
  const spawnedAt = performance.now();
  const proc = spawn(process.execPath, args, { cwd: o.cwd, env: o.env ?? inheritedEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = proc.pid;
  const exited = new Promise<Exit>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  // Every pipe is drained for the whole run (a full pipe would block the daemon); only a tail is kept.
  const keep = o.logTailChars ?? 4 * 1024 * 1024;
  let err = '';
  let out = '';
  const listeners = new Set<(chunk: string) => void>();
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
    err = (err + s).slice(-keep);
    for (const l of listeners) l(s);
  });
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => (out = (out + s).slice(-64 * 1024)));
  const onStderr = (fn: (chunk: string) => void): (() => void) => {
    listeners.add(fn);
    return () => listeners.delete(fn);
  };
  const isAlive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
    }
    if (pid !== undefined) await exited;
    // An agent of the daemon's (own process group) may still be writing there a moment: retry ENOTEMPTY.
    if (dir !== null) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<Exit> => {
    if (!isAlive()) return exited;
    proc.kill(signal);
    const killer = signal === 'SIGKILL' ? undefined : setTimeout(() => proc.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(killer);
    }
  };

  const startTimeoutMs = o.startTimeoutMs ?? START_TIMEOUT_MS;
  const fail = async (why: string): Promise<never> => {
    await cleanup();
    const stdout = out === '' ? '' : `\n--- stdout ---\n${out.slice(-2000)}`;
    throw new DaemonStartError(`alter0 serve ${why}\ncommand: node ${args.join(' ')}\n--- log (tail) ---\n${err.slice(-6000)}${stdout}`);
  };
  // `done` ends the start-up waits still pending once one of them has decided (e.g. the log wait after an exit).
  const done = new AbortController();
  const deadline = AbortSignal.any([AbortSignal.timeout(startTimeoutMs), done.signal, ...(o.signal ? [o.signal] : [])]);
  try {
    return await ready();
  } finally {
    done.abort();
  }

  async function ready(): Promise<Daemon> {
  let url: string;
  try {
    url = await Promise.race([
      untilText(() => err, /"message":"listening","url":"([^"]+)"/, { timeoutMs: startTimeoutMs, wake: onStderr, signal: deadline, intervalMs: 1000 }).then(
        (t) => /"message":"listening","url":"([^"]+)"/.exec(t)?.[1]?.replace(/\/$/, '') ?? '',
      ),
      exited.then((e) => Promise.reject(new DaemonStartError(`exited (code ${e.code}, signal ${e.signal}) before it was ready`))),
    ]);
  } catch (e) {
    return fail(o.signal?.aborted ? 'start was aborted' : e instanceof DaemonStartError ? e.message : `did not log "listening" within ${startTimeoutMs} ms`);
  }
  const listeningMs = performance.now() - spawnedAt;
  try {
    await until(
      async () => {
        if (!isAlive()) throw new DaemonStartError('exited while starting');
        try {
          const r = await fetch(`${url}/readyz`, { signal: AbortSignal.any([deadline, AbortSignal.timeout(2_000)]) });
          await r.arrayBuffer();
          return r.status === 200;
        } catch (e) {
          if (deadline.aborted) throw e;
          return false;
        }
      },
      { timeoutMs: Math.max(1, startTimeoutMs - listeningMs), intervalMs: 20, what: 'GET /readyz to answer 200', signal: deadline },
    );
  } catch (e) {
    return fail(e instanceof DaemonStartError ? e.message : `listened but GET /readyz did not answer 200 within ${startTimeoutMs} ms`);
  }
  if (pid === undefined) return fail('has no pid');
  return {
    url,
    pid,
    proc,
    data,
    dir,
    spawnedAt,
    listeningMs,
    exited,
    alive: isAlive,
    stderr: () => err,
    onStderr,
    waitForLog: (pattern, opts) => untilText(() => err, pattern, { wake: onStderr, ...opts }),
    stop,
    kill9: () => stop('SIGKILL'),
    cleanup,
  };
  }
}

/** Resolves when the child has exited (at once when it already has). */
export async function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal };
}
