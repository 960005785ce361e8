import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import type { Store } from '@alter0/store';
import type { CandidateTask } from '@alter0/routing';
import type { WorkerHeap } from '@alter0/obs';
import { candidatePoolSize, loadCandidatePool } from './candidate-pool.js';
import type { RankResult, RankTask } from './candidates-worker.js';

const WORKER = fileURLToPath(new URL('../dist/candidates-worker.js', import.meta.url));

interface CandidateSourceOptions {
  /** How many candidates the worker hands back (the router's `max_candidates`). */
  limit: number;
  perTask: number;
  /** Past this many candidate tasks, loading and ranking move to the worker thread. */
  inlineMax: number;
  /**
   * Tasks closed this recently (ms) are candidates too, marked closed (`router.closed_lookback`); 0: open tasks
   * only.
   */
  closedLookbackMs: number;
  now: () => number;
}

/**
 * The router's candidate pool: the open tasks and the tasks closed within `closedLookbackMs`. With few of them it
 * is read inline (a few small queries); past `inlineMax` the loading and the local ranking move to a worker thread,
 * which hands back only the best `limit` candidates (the router ranks those again among themselves).
 */
export class CandidateSource {
  private pool: Tinypool | null = null;
  /** The thread's heap after its last ranking. */
  private lastHeap: WorkerHeap | null = null;

  constructor(
    private readonly store: Store,
    private readonly opts: CandidateSourceOptions,
  ) {}

  async load(message: string, signal: AbortSignal): Promise<CandidateTask[]> {
    const nowMs = this.opts.now();
    const closedSince = this.opts.closedLookbackMs > 0 ? nowMs - this.opts.closedLookbackMs : null;
    if (candidatePoolSize(this.store, { closedSince }) <= this.opts.inlineMax)
      return loadCandidatePool(this.store, { perTask: this.opts.perTask, closedSince });
    // useAtomics false: a worker parked in Atomics.wait between tasks never turns its event loop, so the finalizers
    // that free each query's native statement memory never ran — ~25 KB per ranking, kept for good
    // (tooling/bench/statement-bench.ts).
    this.pool ??= new Tinypool({
      filename: WORKER,
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: 60_000,
      useAtomics: false,
    });
    const task: RankTask = {
      dbFile: this.store.file,
      message,
      nowMs,
      limit: this.opts.limit,
      perTask: this.opts.perTask,
      closedSinceMs: closedSince,
    };
    const { candidates, heap } = (await this.pool.run(task, { signal })) as RankResult;
    this.lastHeap = heap;
    return candidates.map((c) => ({
      id: c.id,
      title: c.title,
      summary: c.summary,
      updatedAt: new Date(c.updatedAtMs),
      recent: c.recent,
      ...(c.closed === null ? {} : { closed: { at: new Date(c.closed.atMs), reason: c.closed.reason } }),
    }));
  }

  /**
   * The worker thread's V8 heap after its last ranking; null while there is no thread (none started yet, closed, or
   * ended by tinypool after a minute without a ranking).
   */
  workerHeap(): WorkerHeap | null {
    return this.pool !== null && this.pool.threads.length > 0 ? this.lastHeap : null;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
    this.pool = null;
  }
}
