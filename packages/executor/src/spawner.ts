import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExecutorError } from '@alter0/core';
import { EnvFilter } from './child-env.js';
import { RemoteChild } from './remote-child.js';
import type { SpawnFn, SpawnRequest, SpawnedChild } from './run-process.js';
import type { FromHelper, ToHelper } from './spawner-protocol.js';

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

interface HelperEvents {
  /** No child is live any more. */
  idle(h: Helper): void;
  lost(info: { pid: number | null; children: number; why: string }): void;
}

/** One helper process and the children it runs for us. */
class Helper {
  readonly #proc: ChildProcess;
  readonly #children = new Map<number, RemoteChild>();
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

  get live(): number {
    return this.#children.size;
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
    this.#children.get(msg.id)?.deliver(msg);
  }

  #drop(id: number): void {
    this.#children.delete(id);
    if (this.#children.size > 0) return;
    this.#reference(false);
    if (!this.gone) this.events.idle(this);
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
  }
}
