import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { backup } from '../src/backup.js';
import { MaintenancePool } from '../src/pool.js';
import { tempDir } from './fixtures.js';

const STORE = new URL('../../store/dist/index.js', import.meta.url).href;
const PKG = new URL('..', import.meta.url);

let dir: string;
let dbFile: string;
let pool: MaintenancePool;
let server: http.Server;
let url: string;

/** ~200 MB of events, written by a child process (schema from the store, then one recursive-CTE insert). */
async function buildLargeDb(file: string, rows: number): Promise<void> {
  const script = `
    import { Store } from ${JSON.stringify(STORE)};
    import Database from 'better-sqlite3';
    Store.open({ file: ${JSON.stringify(file)} }).close();
    const db = new Database(${JSON.stringify(file)});
    db.pragma('synchronous = OFF');
    db.exec(\`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
      INSERT INTO events (id, component, level, kind, message, details_json, created_at)
      SELECT printf('e_%08d', i), 'bench', 'info', 'fill', 'filler', hex(randomblob(480)), i FROM n\`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();`;
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: PKG, timeout: 120_000 });
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

/** While `work` runs: the lateness of a 5 ms interval timer, and the latency of HTTP requests to this process. */
async function measure(work: () => Promise<unknown>): Promise<{ ms: number; drift: number[]; http: number[] }> {
  const drift: number[] = [];
  const latencies: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const t = performance.now();
    drift.push(t - last - 5);
    last = t;
  }, 5);
  let done = false;
  const client = (async () => {
    for (let i = 0; i < 100_000 && !done; i++) {
      const t = performance.now();
      await fetch(url).then((r) => r.text());
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const started = performance.now();
  let ms = 0;
  try {
    await work();
    ms = performance.now() - started;
    // Let a timer held back by a blocked loop fire once, so its lateness is counted.
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    done = true;
    clearInterval(timer);
  }
  await client;
  return { ms, drift, http: latencies };
}

beforeAll(async () => {
  dir = tempDir();
  dbFile = path.join(dir, 'alter0.db');
  await buildLargeDb(dbFile, 200_000);
  pool = new MaintenancePool();
  server = http.createServer((_, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}, 180_000);

afterAll(async () => {
  await pool?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('event loop during a backup of a large database', () => {
  it('keeps answering: timer lateness and HTTP latency stay far below the backup duration', async () => {
    const size = fs.statSync(dbFile).size;
    expect(size).toBeGreaterThan(150 * 1024 * 1024);

    const off = await measure(() =>
      backup({ dbFile, backupDir: path.join(dir, 'backups'), reason: 'manual', keep: 2, pool }),
    );
    // Control: the same copy on the main thread blocks everything for its whole duration.
    const on = await measure(async () => {
      await new Promise((r) => setTimeout(r, 20));
      const db = new Database(dbFile, { readonly: true });
      db.prepare('VACUUM INTO ?').run(path.join(dir, 'main-thread-copy.db'));
      db.close();
    });
    const fig = (m: { ms: number; drift: number[]; http: number[] }) => ({
      duration_ms: Math.round(m.ms),
      timer_samples: m.drift.length,
      timer_late_p50_ms: +percentile(m.drift, 50).toFixed(1),
      timer_late_p99_ms: +percentile(m.drift, 99).toFixed(1),
      timer_late_max_ms: +Math.max(...m.drift).toFixed(1),
      http_requests: m.http.length,
      http_p50_ms: +percentile(m.http, 50).toFixed(1),
      http_p99_ms: +percentile(m.http, 99).toFixed(1),
    });
    console.log(
      JSON.stringify(
        { db_mb: Math.round(size / 1024 / 1024), worker_backup: fig(off), control_main_thread_vacuum: fig(on) },
        null,
        2,
      ),
    );

    expect(off.drift.length).toBeGreaterThan(10);
    expect(off.http.length).toBeGreaterThan(5);
    expect(percentile(off.drift, 99)).toBeLessThan(off.ms / 5);
    expect(percentile(off.http, 99)).toBeLessThan(off.ms / 5);
    // The control proves the measurement can see a blocked loop.
    expect(Math.max(...on.drift)).toBeGreaterThan(on.ms / 2);
  }, 180_000);
});
