// The yardsticks the kernel benchmark sets alter0 against, both in the bench's own process on a temp SQLite file
// with WAL and synchronous=FULL, like alter0's:
//   - the physical floor: one fsync'd single-row commit with better-sqlite3 (the cost of one group commit);
//   - plainjob (npm), a minimal SQLite job queue: concurrent in-process "clients" add jobs while its workers run a
//     no-op job flat out.
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldLoop, setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { better, defineQueue, defineWorker } from 'plainjob';
import type { Logger } from 'plainjob';
import { median, quantile, round, tempDir } from './lib.ts';

/** A WAL database with synchronous=FULL, checked by reading it back. */
function openFull(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  return db;
}

function assertFull(db: Database.Database): void {
  const s = db.pragma('synchronous', { simple: true }) as number;
  if (s !== 2) throw new Error(`synchronous is ${s}, not FULL (2)`);
}

/** Median and p99 latency (ms) of `commits` single-row autocommit INSERTs: each is one fsync of the WAL. */
export function fsyncCommitFloor(commits = 500): Record<string, number> {
  const dir = tempDir('alter0-bench-floor-');
  try {
    const db = openFull(path.join(dir, 'floor.db'));
    assertFull(db);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const ms: number[] = [];
    for (let i = 0; i < commits; i++) {
      const t = performance.now();
      insert.run(`row ${i}`);
      ms.push(performance.now() - t);
    }
    db.close();
    return {
      fsync_commit_ms_p50: round(median(ms), 3),
      fsync_commit_ms_p99: round(quantile(ms, 0.99), 3),
      fsync_commits: commits,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const silent: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

export interface PlainjobOptions {
  jobs: number;
  clients: number;
  workers: number;
  signal: AbortSignal;
}

/**
 * plainjob in this process: `clients` loops each add a job (one commit) after yielding to the event loop once —
 * the in-process analog of a request arriving — while `workers` plainjob workers take the jobs and run a no-op
 * (which yields once too, so that clients and workers interleave). An add's latency runs from the yield (the request
 * arriving) to the commit's return, so it includes the wait behind the other clients and the workers.
 */
export async function plainjobRun(o: PlainjobOptions): Promise<Record<string, number>> {
  const dir = tempDir('alter0-bench-plainjob-');
  const db = new Database(path.join(dir, 'plainjob.db'));
  const queue = defineQueue({ connection: better(db), logger: silent, maintenanceInterval: 3_600_000 });
  db.pragma('synchronous = FULL'); // defineQueue sets NORMAL (1); alter0 commits with FULL
  assertFull(db);
  let done = 0;
  const workers = Array.from({ length: o.workers }, () =>
    defineWorker('bench', () => yieldLoop(), {
      queue,
      logger: silent,
      pollIntervall: 5,
      onCompleted: () => void done++,
    }),
  );
  const loop = monitorEventLoopDelay({ resolution: 10 });
  try {
    const running = workers.map((w) => w.start());
    loop.enable();
    const latencies: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: o.clients }, async () => {
        while (next < o.jobs && !o.signal.aborted) {
          const i = next++;
          const t = performance.now();
          await yieldLoop();
          queue.add('bench', { i });
          latencies.push(performance.now() - t);
        }
      }),
    );
    const acceptS = (performance.now() - t0) / 1000;
    const p99 = loop.percentile(99) / 1e6 - 10;
    const max = loop.max / 1e6 - 10;
    for (let i = 0; done < o.jobs && i < 60_000; i++) await delay(5, undefined, { signal: o.signal });
    const doneS = (performance.now() - t0) / 1000;
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(running);
    if (done < o.jobs) throw new Error(`plainjob processed ${done} of ${o.jobs} jobs`);
    return {
      plainjob_jobs: o.jobs,
      plainjob_clients: o.clients,
      plainjob_workers: o.workers,
      plainjob_accepted_per_s: Math.round(o.jobs / acceptS),
      plainjob_add_p50_ms: round(quantile(latencies, 0.5), 2),
      plainjob_add_p99_ms: round(quantile(latencies, 0.99), 2),
      plainjob_processed_per_s: Math.round(o.jobs / doneS),
      plainjob_event_loop_delay_p99_ms_accept: round(Math.max(0, p99), 2),
      plainjob_event_loop_delay_max_ms_accept: round(Math.max(0, max), 2),
    };
  } finally {
    loop.disable();
    queue.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
