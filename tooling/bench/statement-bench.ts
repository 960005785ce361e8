// Native memory per query on a worker thread: the RSS a process gains while a tinypool worker runs the router's
// candidate queries (open tasks, tasks closed in the last 7 days) through the store again and again — with a new
// better-sqlite3 statement per query (drizzle's own way) or the store's statement cache (cachingClient, what
// Store.open uses), and with tinypool's default Atomics wait between tasks or without it (`useAtomics: false`, what
// the daemon's candidates pool uses).
//
//   node tooling/bench/statement-bench.ts [--calls 1500] [--tasks 1000] [--json] [--max-minutes 10]
//
// Why the two switches: a statement's native memory (its sqlite3_stmt) is freed by a finalizer after V8 collects the
// JavaScript object, and finalizers run from the thread's event loop. A tinypool worker parked in Atomics.wait between
// tasks never turns its loop, so they pile up. Each case runs in a fresh Node process with the daemon's V8 flags
// (DAEMON_NODE_FLAGS) over the same database of --tasks closed tasks. Reported: RSS after the first 100 calls and
// after all of them, and the growth per call.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import Tinypool from 'tinypool';
import { DAEMON_NODE_FLAGS } from '@alter0/core';
import { Store } from '@alter0/store';
import { intOption, machine, printReport, tempDir } from './lib.ts';
import type { Call, Statements } from './statement-worker.ts';

const rssMiB = (): number => process.memoryUsage().rss / 2 ** 20;

async function child(): Promise<void> {
  const [statements, atomics, file, calls] = process.argv.slice(3) as [Statements, 'on' | 'off', string, string];
  const pool = new Tinypool({
    filename: new URL('./statement-worker.ts', import.meta.url).href,
    minThreads: 0,
    maxThreads: 1,
    idleTimeout: 60_000,
    useAtomics: atomics === 'on',
  });
  const call: Call = { file, statements };
  let at100 = 0;
  for (let i = 1; i <= Number(calls); i++) {
    await pool.run(call);
    if (i === 100) at100 = rssMiB();
  }
  const atEnd = rssMiB();
  await pool.destroy();
  process.stdout.write(JSON.stringify({ at100, atEnd }));
}

function seed(file: string, n: number): void {
  Store.open({ file }).close();
  const db = new Database(file);
  const add = db.prepare(
    `INSERT INTO tasks (id, title, summary, state, executor, workspace, user_id, created_at, updated_at, closed_at, closed_by, close_reason)
     VALUES (?, ?, ?, 'closed', 'claude', '/w', 'owner', ?, ?, ?, 'closer', 'done')`,
  );
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const at = now - 1000 * i;
      add.run(`t_${i}`, `task ${i} about topic ${i % 37}`, `summary of task ${i}: ${'words '.repeat(10)}`, at, at, at);
    }
  })();
  db.close();
}

function main(): void {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string' },
      tasks: { type: 'string' },
      json: { type: 'boolean', default: false },
      'max-minutes': { type: 'string' },
    },
  });
  const calls = intOption('calls', values.calls, 1500);
  const n = intOption('tasks', values.tasks, 1000);
  const timeout = intOption('max-minutes', values['max-minutes'], 10) * 60_000;
  const dir = tempDir('alter0-stmt-bench-');
  const file = path.join(dir, 'alter0.db');
  try {
    seed(file, n);
    const rows: Record<string, unknown>[] = [];
    for (const atomics of ['on', 'off'] as const) {
      for (const statements of ['per-query', 'cached'] as const) {
        const out = execFileSync(
          process.execPath,
          [
            ...process.execArgv,
            ...DAEMON_NODE_FLAGS,
            import.meta.filename,
            '--child',
            statements,
            atomics,
            file,
            String(calls),
          ],
          { encoding: 'utf8', timeout },
        );
        const r = JSON.parse(out) as { at100: number; atEnd: number };
        rows.push({
          atomics_wait: atomics,
          statements,
          rss_after_100_mib: Math.round(r.at100),
          [`rss_after_${calls}_mib`]: Math.round(r.atEnd),
          kib_per_call: Math.round(((r.atEnd - r.at100) * 1024) / (calls - 100)),
        });
      }
    }
    printReport('statement-bench', { machine: machine(), calls, tasks: n, rows }, values.json);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child();
else main();
