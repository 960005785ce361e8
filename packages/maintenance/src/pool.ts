import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import { Alter0Error } from '@alter0/core';
import type { WorkerResults, WorkerTask } from './protocol.js';

/*
 * Resolves to dist/worker.js both from dist/ (the built package) and from src/ (tests run the sources, but a
 * worker thread needs JavaScript): the worker is always the compiled one.
 */
const DEFAULT_WORKER = fileURLToPath(new URL('../dist/worker.js', import.meta.url));

export interface MaintenancePoolOptions {
  /** A thread that had nothing to do for this long exits (default 30 s); the next task starts a new one. */
  idleTimeoutMs?: number;
  /** At most this many database operations at once (default 1: they are disk-bound, and the machine may be small). */
  maxThreads?: number;
  /** The worker module; default the package's dist/worker.js. */
  workerFile?: string;
  /**
   * Where the operations run: worker threads (default; the CLI's one-shots) or child processes — the daemon's
   * choice: a thread loads the store's modules again and grows the daemon by ~80 MiB that stays resident after the
   * thread leaves, while a process gives all of it back when it exits (docs/benchmarks.md, "A lean kernel").
   */
  runtime?: 'worker_threads' | 'child_process';
}

/** The thread pool every slow database operation runs on. One per process; close() it at shutdown. */
export class MaintenancePool {
  private readonly pool: Tinypool;
  private closed = false;

  constructor(opts: MaintenancePoolOptions = {}) {
    const filename = opts.workerFile ?? DEFAULT_WORKER;
    if (!fs.existsSync(filename)) {
      throw new Alter0Error(
        'maintenance_worker_missing',
        `the maintenance worker ${filename} does not exist; build the package first: pnpm exec tsc -b packages/maintenance`,
      );
    }
    const maxThreads = opts.maxThreads ?? 1;
    this.pool = new Tinypool({
      filename,
      minThreads: 0,
      maxThreads,
      idleTimeout: opts.idleTimeoutMs ?? 30_000,
      runtime: opts.runtime ?? 'worker_threads',
      // A thread parked in Atomics.wait between tasks runs no finalizers: each query's native statement memory stayed
      // (docs/benchmarks.md, section 7).
      useAtomics: false,
    });
  }

  /** Runs one operation on a worker thread. Aborting terminates that thread (SQLite's own rollback keeps the file safe). */
  async run<T extends WorkerTask>(task: T, signal?: AbortSignal): Promise<WorkerResults[T['op']]> {
    if (this.closed)
      throw new Alter0Error('maintenance_pool_closed', 'the maintenance pool is closed; create a new one');
    signal?.throwIfAborted();
    try {
      return (await this.pool.run(task, signal ? { signal } : {})) as WorkerResults[T['op']];
    } catch (err) {
      throw revived(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }
}

/**
 * tinypool's child_process runtime rejects with the child's error as a plain object (name, message, stack): made an
 * Error again, so that logs and `errorMessage` say what failed instead of "[object Object]".
 */
function revived(err: unknown): unknown {
  if (err instanceof Error || typeof err !== 'object' || err === null) return err;
  const o = err as Record<string, unknown>;
  const stack = typeof o.stack === 'string' ? o.stack : undefined;
  const message =
    typeof o.message === 'string'
      ? o.message
      : (stack?.split('\n')[0]?.replace(/^\w*Error: /, '') ?? JSON.stringify(o));
  const e = new Error(message);
  if (typeof o.name === 'string') e.name = o.name;
  if (stack !== undefined) e.stack = stack;
  if (typeof o.code === 'string') Object.assign(e, { code: o.code });
  return e;
}

/** Runs `fn` with the given pool, or with a pool of its own that is closed afterwards (CLI one-shots). */
export async function withPool<T>(
  pool: MaintenancePool | undefined,
  fn: (pool: MaintenancePool) => Promise<T>,
): Promise<T> {
  if (pool) return fn(pool);
  const own = new MaintenancePool();
  try {
    return await fn(own);
  } finally {
    await own.close();
  }
}
