import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExecutorError } from '@alter0/core';
import { EnvFilter } from './child-env.js';
import { isJobId, killJobProcesses } from './job-sweep.js';
import { RemoteChild } from './remote-child.js';
import type { SpawnFn, SpawnRequest, SpawnedChild } from './run-process.js';
import type { FromHelper, SweepReply, ToHelper } from './spawner-protocol.js';

const HELPER = fileURLToPath(new URL('../dist/spawner-helper.js', import.meta.url));

/**
 * The helper's own V8 flags, built here rather than inherited: the daemon's execArgv and NODE_OPTIONS are sized
 * for the daemon. A small young generation keeps the helper at ~45–50 MB RSS, which keeps its forks cheap.
 */
const HELPER_NODE_FLAGS = ['--max-semi-space-size=1', '--max-old-space-size=64'];

export interface SpawnerOptions {
  /** With no child running for this long the helper exits; the next spawn starts a new one (default 60 s). */
  idleMs?: number;
  /** The helper's environment (default: this process's, minus NODE_OPTIONS and alter0's secrets). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Told when a helper exits while children of it were running (they were killed and their runs fail). */
  onHelperLost?: (info: { pid: number | null; children: number; why: string }) => void;
}

const DEFAULT_IDLE_MS = 60_000;
/** How long close() waits for the helper to kill its groups and exit before it is SIGKILLed. */
const CLOSE_WAIT_MS = 2000;

/**
 * Spawns agent processes from a small helper Node process instead of this one, so the fork+exec does not block
 * this event loop. One helper at a time, started on the first spawn and ended after `idleMs` without children.
 * `spawn` has node's spawn shape as far as `runProcess` uses it (pid, stdio streams, 'spawn'/'exit'/'error').
 * If the helper dies, the groups of its running children are SIGKILLed here and their runs fail `internal`;
 * if this process dies, the helper SIGKILLs them (it sees its IPC channel close).
 */
export class Spawner {
  readonly #idleMs: number;
  readonly #env: Record<string, string>;
  readonly #onLost: SpawnerOptions['onHelperLost'];
  #helper: Helper | null = null;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: SpawnerOptions = {}) {
    this.#idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.#env = helperEnv(opts.env ?? process.env);
    this.#onLost = opts.onHelperLost;
  }

  /** A SpawnFn for RunnerOptions.spawn (bound: pass it around freely). */
  readonly spawn: SpawnFn = (program, args, options) => {
    if (this.#closed) throw new ExecutorError('internal', 'the spawner is closed (the daemon is stopping)');
    clearTimeout(this.#idleTimer);
    if (this.#helper === null || this.#helper.gone) {
      this.#helper = new Helper(this.#env, {
        idle: (h) => this.#armIdle(h),
        lost: (info) => this.#onLost?.(info),
      });
    }
    return this.#helper.spawn(program, args, options);
  };

  /** The running helper's pid, or null (none started, idled out, or not yet answering). */
  get helperPid(): number | null {
    return this.#helper?.gone === false ? this.#helper.pid : null;
  }

  /**
   * SIGKILLs every process whose environment carries job `jobId` (invariant 8: what the agent left behind, wherever
   * it was reparented), sparing this process, its ancestors and the helper; resolves how many were killed. The scan
   * reads /proc/<pid>/stat of every process and the environ of every running one, thousands of synchronous reads:
   * the helper does them, off this event loop.
   *
   * The rule when no helper is running (none started, idled out, lost, or the spawner closed): the sweep runs here,
   * synchronously, and no helper is started for it. A helper outlives its last child by `idleMs`, so one is running
   * whenever an agent of this job was spawned through it lately; otherwise the sweep is the rare one, and starting
   * a ~50 MB process to spare this loop one scan costs more than the scan.
   *
   * Resolves 0 at once for anything but a real job id. Rejects (ExecutorError) when the helper fails the sweep,
   * exits before it answers, or `signal` aborts first (the helper's sweep is not stopped then); the caller then
   * sweeps here.
   */
  sweepJob(jobId: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    // Only a real job id is looked for (see jobProcesses): anything else matches nothing, here or there.
    if (!isJobId(jobId)) return Promise.resolve(0);
    const h = this.#helper;
    if (h === null || !h.answering || this.#closed) return Promise.resolve(killJobProcesses(jobId));
    return h.sweep(jobId, opts.signal);
  }

  /** Ends the helper (it SIGKILLs whatever it still runs); spawns after this fail. Call after the agents are killed. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    await this.#helper?.stop(CLOSE_WAIT_MS);
    this.#helper = null;
  }

  #armIdle(h: Helper): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#helper === h && h.live === 0) void h.stop(CLOSE_WAIT_MS);
    }, this.#idleMs);
    this.#idleTimer.unref();
  }
}

/** The environment the helper runs with; each child gets its own environment in its spawn request. */
function helperEnv(base: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env = new EnvFilter().apply(base);
  delete env.NODE_OPTIONS;
  return env;
}

/** How a sweep request ends: the helper's answer, or no answer (the helper exited, or the caller gave up). */
type SweepEnd = SweepReply | { t: 'lost'; why: string };

interface HelperEvents {
  /** No child is live any more. */
  idle(h: Helper): void;
  lost(info: { pid: number | null; children: number; why: string }): void;
}

/** One helper process and the children it runs for us. */
class Helper {
  readonly #proc: ChildProcess;
  readonly #children = new Map<number, RemoteChild>();
  /** Sweeps asked of the helper and not answered yet, by request id. */
  readonly #sweeps = new Map<number, (reply: SweepEnd) => void>();
  #nextSweep = 1;
  /** Requests held until the helper says it listens (messages that arrive earlier would be dropped). */
  #queue: { msg: ToHelper; done: () => void }[] | null = [];
  #nextId = 1;
  pid: number | null = null;
  gone = false;

  constructor(
    env: Record<string, string>,
    private readonly events: HelperEvents,
  ) {
    this.#proc = spawn(process.execPath, [...HELPER_NODE_FLAGS, HELPER], {
      cwd: '/',
      env,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.#proc.on('message', (msg: FromHelper) => this.#onMessage(msg));
    this.#proc.once('exit', (code, signal) => this.#onExit(`exited with ${signal ?? `code ${code}`}`));
    this.#proc.once('error', (err) => this.#onExit(`could not run: ${err.message}`));
    this.#reference(false);
  }

  /** Not gone, and not told to go: a request sent now is answered (or the helper's exit rejects it). */
  get answering(): boolean {
    return !this.gone && (this.#queue !== null || this.#proc.connected);
  }

  /** Children running, and sweeps not answered yet: the helper is not idle while either is. */
  get live(): number {
    return this.#children.size + this.#sweeps.size;
  }

  spawn(program: string, args: readonly string[], options: SpawnRequest): SpawnedChild {
    const id = this.#nextId++;
    const child = new RemoteChild(
      id,
      (msg, done) => this.send(msg, done),
      () => this.#drop(id),
    );
    this.#children.set(id, child);
    this.#reference(true);
    this.send({ t: 'spawn', id, program, args: [...args], cwd: options.cwd, env: { ...options.env } });
    return child;
  }

  sweep(jobId: string, signal: AbortSignal | undefined): Promise<number> {
    if (signal?.aborted === true) return Promise.reject(sweepAborted(signal));
    const id = this.#nextSweep++;
    this.#reference(true);
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => settle({ t: 'lost', why: 'aborted' });
      const settle = (reply: SweepEnd): void => {
        signal?.removeEventListener('abort', onAbort);
        if (!this.#sweeps.delete(id)) return;
        this.#settled();
        if (reply.t === 'swept') resolve(reply.killed);
        else if (reply.t === 'lost' && signal?.aborted === true) reject(sweepAborted(signal));
        else reject(new ExecutorError('internal', sweepFailure(this.pid, reply)));
      };
      this.#sweeps.set(id, settle);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.send({ t: 'sweep', id, jobId, self: process.pid });
    });
  }

  send(msg: ToHelper, done: () => void = () => undefined): void {
    if (this.#queue !== null) {
      this.#queue.push({ msg, done });
      return;
    }
    if (this.gone || !this.#proc.connected) {
      done();
      return;
    }
    this.#proc.send(msg, undefined, {}, () => done());
  }

  /** Disconnect: the helper SIGKILLs what it still runs and exits; SIGKILL it if it has not within `waitMs`. */
  async stop(waitMs: number): Promise<void> {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#proc.once('exit', () => resolve()));
    if (this.#proc.connected) this.#proc.disconnect();
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), waitMs);
    await exited;
    clearTimeout(timer);
  }

  #onMessage(msg: FromHelper): void {
    if (msg.t === 'ready') {
      this.pid = msg.pid;
      const queued = this.#queue ?? [];
      this.#queue = null;
      for (const q of queued) this.send(q.msg, q.done);
      return;
    }
    if (msg.t === 'swept' || msg.t === 'sweep-error') this.#sweeps.get(msg.id)?.(msg);
    else this.#children.get(msg.id)?.deliver(msg);
  }

  /** A sweep was answered (or given up on): idle again when nothing else is live. */
  #settled(): void {
    if (this.live > 0) return;
    this.#reference(false);
    if (!this.gone) this.events.idle(this);
  }

  #drop(id: number): void {
    this.#children.delete(id);
    this.#settled();
  }

  /** While children run, the helper keeps this process alive like a child would; idle, it does not. */
  #reference(on: boolean): void {
    if (on) {
      this.#proc.ref();
      this.#proc.channel?.ref();
    } else {
      this.#proc.unref();
      this.#proc.channel?.unref();
    }
  }

  #onExit(why: string): void {
    if (this.gone) return;
    this.gone = true;
    const orphans = [...this.#children.values()];
    for (const q of this.#queue ?? []) q.done();
    this.#queue = null;
    if (orphans.length > 0)
      this.events.lost({ pid: this.pid ?? this.#proc.pid ?? null, children: orphans.length, why });
    const err = `the spawner's helper process (pid ${this.pid ?? this.#proc.pid ?? '?'}) ${why} while the agent ran`;
    for (const c of orphans) c.lose(err);
    for (const settle of [...this.#sweeps.values()]) settle({ t: 'lost', why });
  }
}

function sweepAborted(signal: AbortSignal): ExecutorError {
  const timeout = signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError';
  const message = timeout
    ? "the spawner's helper did not answer the sweep in time"
    : "the sweep through the spawner's helper was canceled";
  return new ExecutorError(timeout ? 'timeout' : 'canceled', message, { cause: signal.reason });
}

function sweepFailure(pid: number | null, reply: Exclude<SweepEnd, { t: 'swept' }>): string {
  const who = `the spawner's helper process (pid ${pid ?? '?'})`;
  return reply.t === 'lost'
    ? `${who} ${reply.why} before it answered the sweep`
    : `${who} failed the sweep: ${reply.message}`;
}
