// Memory of the router's candidate ranking as the candidate pool grows: a tinypool worker (as the daemon's candidates
// worker: the daemon's V8 flags, `useAtomics: false`) ranks a growing database of recently closed tasks, each with
// three messages (a short question, a 1,500-character reply, a short follow-up), --calls times per step, either
//   whole:  every candidate task with its last messages in memory at once, then rankCandidates (before), or
//   stream: TasksRepo.rankTexts (the last lines cut in SQL) streamed into scoreCandidates (now).
// Each method runs in a fresh Node process. Reported per step: the worker's V8 heap (committed, its largest after a
// call), the process's RSS, and the median time per ranking; the best candidates must be the same for both methods.
//
//   node tooling/bench/ranking-bench.ts [--steps 500,1000,2000,4000] [--calls 60] [--json] [--max-minutes 10]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import Tinypool from 'tinypool';
import { DAEMON_NODE_FLAGS } from '@alter0/core';
import { Store } from '@alter0/store';
import { intOption, machine, median, printReport, tempDir } from './lib.ts';
import type { Call, Method, Result } from './ranking-worker.ts';

const MESSAGE = 'the nightly postgres backup to the replica failed again, can you look at the cron job';
const TOPICS = ['postgres', 'replica', 'backup', 'nightly', 'garden', 'invoice', 'kernel', 'printer', 'cron', 'nas'];
const rssMiB = (): number => process.memoryUsage().rss / 2 ** 20;

interface Step {
  tasks: number;
  heapTotalMaxMiB: number;
  rssMiB: number;
  msMedian: number;
  bestHash: string;
}

/** Adds closed tasks t_from … t_(to-1), each with three messages, closed within the last few hours. */
function grow(file: string, from: number, to: number, nowMs: number): void {
  const db = new Database(file);
  const task = db.prepare(
    `INSERT INTO tasks (id, title, summary, state, executor, workspace, user_id, created_at, updated_at, closed_at, closed_by, close_reason)
     VALUES (?, ?, ?, 'closed', 'claude', '/w', 'owner', ?, ?, ?, 'closer', 'done')`,
  );
  const msg = db.prepare(
    `INSERT INTO messages (id, task_id, role, content, channel_id, user_id, created_at) VALUES (?, ?, ?, ?, 'bench', 'owner', ?)`,
  );
  db.transaction(() => {
    for (let i = from; i < to; i++) {
      const at = nowMs - 2000 * i;
      const [a, b] = [TOPICS[i % TOPICS.length] ?? '', TOPICS[(i * 7) % TOPICS.length] ?? ''];
      task.run(`t_${i}`, `${a} ${b} chore ${i}`, `the ${a} work of task ${i}: ${'notes '.repeat(20)}`, at, at, at);
      msg.run(`m_${i}_1`, `t_${i}`, 'user', `please look at the ${a} ${b} thing again ${i}`, at - 3);
      msg.run(
        `m_${i}_2`,
        `t_${i}`,
        'assistant',
        `${`done with the ${b} part, details: `.repeat(40)}`.slice(0, 1500),
        at - 2,
      );
      msg.run(`m_${i}_3`, `t_${i}`, 'user', `thanks, and the ${b} one? ${i}`, at - 1);
    }
  })();
  db.close();
}

async function child(): Promise<void> {
  const [method, file, stepsArg, callsArg] = process.argv.slice(3) as [Method, string, string, string];
  const nowMs = Date.now();
  const pool = new Tinypool({
    filename: new URL('./ranking-worker.ts', import.meta.url).href,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: 60_000,
    useAtomics: false,
  });
  const steps: Step[] = [];
  let have = 0;
  for (const n of stepsArg.split(',').map(Number)) {
    grow(file, have, n, nowMs);
    have = n;
    const call: Call = { file, method, message: MESSAGE, limit: 12, nowMs };
    let heapTotalMaxMiB = 0;
    let best: string[] = [];
    const ms: number[] = [];
    for (let i = 0; i < Number(callsArg); i++) {
      const t0 = performance.now();
      const r = (await pool.run(call)) as Result;
      ms.push(performance.now() - t0);
      heapTotalMaxMiB = Math.max(heapTotalMaxMiB, r.heapTotalMiB);
      best = r.best;
    }
    steps.push({
      tasks: n,
      heapTotalMaxMiB,
      rssMiB: rssMiB(),
      msMedian: median(ms),
      bestHash: createHash('sha256').update(best.join(',')).digest('hex').slice(0, 12),
    });
  }
  await pool.destroy();
  process.stdout.write(JSON.stringify(steps));
}

function main(): void {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '500,1000,2000,4000' },
      calls: { type: 'string' },
      json: { type: 'boolean', default: false },
      'max-minutes': { type: 'string' },
    },
  });
  const calls = intOption('calls', values.calls, 60);
  const steps = values.steps;
  if (!/^\d+(,\d+)*$/.test(steps))
    throw new Error(`--steps ${steps}: expected growing task counts, e.g. 500,1000,2000`);
  const timeout = intOption('max-minutes', values['max-minutes'], 10) * 60_000;
  const rows: Record<string, unknown>[] = [];
  const hashes = new Map<number, Set<string>>();
  for (const method of ['whole', 'stream'] as const) {
    const dir = tempDir('alter0-ranking-bench-');
    try {
      const file = path.join(dir, 'alter0.db');
      Store.open({ file }).close();
      const out = execFileSync(
        process.execPath,
        [
          ...process.execArgv,
          ...DAEMON_NODE_FLAGS,
          import.meta.filename,
          '--child',
          method,
          file,
          steps,
          String(calls),
        ],
        { encoding: 'utf8', timeout },
      );
      for (const s of JSON.parse(out) as Step[]) {
        hashes.set(s.tasks, (hashes.get(s.tasks) ?? new Set()).add(s.bestHash));
        rows.push({
          method,
          candidates: s.tasks,
          worker_heap_mib: Math.round(s.heapTotalMaxMiB * 10) / 10,
          rss_mib: Math.round(s.rssMiB),
          ms_per_ranking: Math.round(s.msMedian * 10) / 10,
        });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const differ = [...hashes].filter(([, h]) => h.size > 1).map(([n]) => n);
  if (differ.length > 0) throw new Error(`the two methods chose different candidates at ${differ.join(', ')} tasks`);
  printReport('ranking-bench', { machine: machine(), calls, rows }, values.json);
}

if (process.argv[2] === '--child') await child();
else main();
