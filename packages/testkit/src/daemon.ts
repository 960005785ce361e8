import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiContractError, createApiClient } from '@alter0/api';
import type { ApiClient } from '@alter0/api';
import { missingDaemonFlags } from '@alter0/core';
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
  /**
   * A bearer token: written (mode 0600) to a token file in the temp dir and set as token_file, so the
   * daemon requires it (`--set token_file=…`); `client` sends it.
   */
  token?: string;
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
  /** @alter0/api's typed client pointed at `url` (with the token when one was set); it validates every answer. */
  client: ApiClient;
  pid: number;
  proc: ChildProcess;
  data: string;
  /** The temp dir this daemon owns (config and token files, default data dir), removed by cleanup(); null when given a data dir and neither. */
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
  const { args, data, dir } = prepare(o);
  const child = spawnChild(args, o, dir);
  const startTimeoutMs = o.startTimeoutMs ?? START_TIMEOUT_MS;
  const fail = async (why: string): Promise<never> => {
    await child.cleanup();
    const stdout = child.stdout() === '' ? '' : `\n--- stdout ---\n${child.stdout().slice(-2000)}`;
    throw new DaemonStartError(
      `alter0 serve ${why}\ncommand: node ${args.join(' ')}\n--- log (tail) ---\n${child.stderr().slice(-6000)}${stdout}`,
    );
  };
  // `done` ends the start-up waits still pending once one of them has decided (e.g. the log wait after an exit).
  const done = new AbortController();
  const deadline = AbortSignal.any([AbortSignal.timeout(startTimeoutMs), done.signal, ...(o.signal ? [o.signal] : [])]);
  try {
    const url = await listening(child, startTimeoutMs, deadline).catch((e: unknown) =>
      fail(
        o.signal?.aborted
          ? 'start was aborted'
          : e instanceof DaemonStartError
            ? e.message
            : `did not log "listening" within ${startTimeoutMs} ms`,
      ),
    );
    const listeningMs = performance.now() - child.spawnedAt;
    const client = createApiClient({ baseUrl: url, token: o.token ?? null });
    await readyz(child, client, Math.max(1, startTimeoutMs - listeningMs), deadline).catch((e: unknown) =>
      fail(
        e instanceof DaemonStartError
          ? e.message
          : `listened but GET /readyz did not answer 200 within ${startTimeoutMs} ms`,
      ),
    );
    if (child.pid === undefined) return await fail('has no pid');
    const { spawnedAt, proc, exited, alive, stderr, onStderr, stop, cleanup } = child;
    return {
      url,
      client,
      pid: child.pid,
      proc,
      data,
      dir,
      spawnedAt,
      listeningMs,
      exited,
      alive,
      stderr,
      onStderr,
      waitForLog: (pattern, opts) => untilText(stderr, pattern, { wake: onStderr, ...opts }),
      stop,
      kill9: () => stop('SIGKILL'),
      cleanup,
    };
  } finally {
    done.abort();
  }
}

/** The command line, the data dir, and the temp dir with the config and token files it needs. */
function prepare(o: DaemonOptions): { args: string[]; data: string; dir: string | null } {
  const bin = o.bin ?? ALTER0_BIN;
  if (o.bin === undefined && !existsSync(CLI_DIST)) {
    throw new DaemonStartError(`${CLI_DIST} is missing: build first with \`pnpm exec tsc -b\` at the repository root`);
  }
  const dir =
    o.data === undefined || o.config !== undefined || o.token !== undefined ? tempDir('alter0-daemon-') : null;
  const data = o.data ?? join(dir ?? '', 'data');
  mkdirSync(data, { recursive: true });
  // The daemon's own V8 flags given here, as the systemd unit does: the entry shim need not re-exec for them.
  const nodeArgs = [...(o.nodeArgs ?? [])];
  nodeArgs.push(...missingDaemonFlags(nodeArgs));
  const args = [...nodeArgs, bin, 'serve', '--data', data, '--listen', o.listen ?? '127.0.0.1:0'];
  if (o.config !== undefined && dir !== null) {
    const file = join(dir, 'alter0.toml');
    writeFileSync(file, o.config, 'utf8');
    args.push('--config', file);
  }
  if (o.token !== undefined && dir !== null) {
    const file = join(dir, 'token');
    writeFileSync(file, `${o.token}\n`, { mode: 0o600 });
    // The daemon refuses a token file others may read; a umask cannot loosen an explicit chmod.
    chmodSync(file, 0o600);
    args.push('--set', `token_file=${file}`);
  }
  args.push(...(o.args ?? []));
  return { args, data, dir };
}

/** The spawned process, its drained pipes and its stop functions: everything the start-up and the Daemon share. */
interface Child {
  proc: ChildProcess;
  pid: number | undefined;
  spawnedAt: number;
  exited: Promise<Exit>;
  alive: () => boolean;
  stderr: () => string;
  stdout: () => string;
  onStderr: (fn: (chunk: string) => void) => () => void;
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<Exit>;
  /** SIGKILL the group, wait for the exit, remove the temp dir the daemon owns. Idempotent. */
  cleanup: () => Promise<void>;
}

function spawnChild(args: readonly string[], o: DaemonOptions, dir: string | null): Child {
  const spawnedAt = performance.now();
  const proc = spawn(process.execPath, args, {
    cwd: o.cwd,
    env: o.env ?? inheritedEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
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
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  let cleaned = false;
  return {
    proc,
    pid,
    spawnedAt,
    exited,
    alive,
    stderr: () => err,
    stdout: () => out,
    onStderr: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (!alive()) return exited;
      proc.kill(signal);
      const killer = signal === 'SIGKILL' ? undefined : setTimeout(() => proc.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(killer);
      }
    },
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // The group is gone already.
        }
        await exited;
      }
      // An agent of the daemon's (own process group) may still be writing there a moment: retry ENOTEMPTY.
      if (dir !== null) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

const LISTENING = /"message":"listening","url":"([^"]+)"/;

/** The URL from the daemon's "listening" log line; rejects when the process exits first. */
async function listening(child: Child, timeoutMs: number, deadline: AbortSignal): Promise<string> {
  return Promise.race([
    untilText(child.stderr, LISTENING, { timeoutMs, wake: child.onStderr, signal: deadline, intervalMs: 1000 }).then(
      (t) => LISTENING.exec(t)?.[1]?.replace(/\/$/, '') ?? '',
    ),
    child.exited.then((e) =>
      Promise.reject(new DaemonStartError(`exited (code ${e.code}, signal ${e.signal}) before it was ready`)),
    ),
  ]);
}

/** Waits until GET /readyz answers 200 (listening is not yet accepting work: recovery may still run). */
async function readyz(child: Child, client: ApiClient, timeoutMs: number, deadline: AbortSignal): Promise<void> {
  await until(
    async () => {
      if (!child.alive()) throw new DaemonStartError('exited while starting');
      try {
        return (
          (await client.readyz({ signal: AbortSignal.any([deadline, AbortSignal.timeout(2_000)]) })).status === 200
        );
      } catch (e) {
        if (deadline.aborted) throw e;
        // A readiness answer that breaks the contract will not turn right by waiting.
        if (e instanceof ApiContractError) throw new DaemonStartError(e.message);
        return false;
      }
    },
    { timeoutMs, intervalMs: 20, what: 'GET /readyz to answer 200', signal: deadline },
  );
}

/** Resolves when the child has exited (at once when it already has). */
export async function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal };
}
