// Kernel overhead benchmark: the real `alter0 serve` with an instant executor (`cat`: the reply is the
// prompt), so what is measured is alter0's own cost — HTTP accept + commit, queueing, pipeline, storage.
//
//   node tooling/bench/kernel-bench.ts [--jobs 2000] [--concurrency 32]
//
// Prints accepted/s and accept latency (p50/p99) for POST /api/jobs, jobs completed/s, and the pipeline's own
// overhead per job (total time minus the executor's time), as medians over the run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(values.jobs);
const C = Number(values.concurrency);
const root = path.resolve(import.meta.dirname, '../..');
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-bench-'));

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};

async function main(): Promise<void> {
  const proc = spawn(
    process.execPath,
    [
      path.join(root, 'apps/cli/bin/alter0.js'),
      'serve',
      '--data',
      data,
      '--listen',
      '127.0.0.1:0',
      '--command',
      'cat',
      '--set',
      'closer.enabled=false',
      '--set',
      'queue.interactive_workers=4',
      '--set',
      'log.file=false',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ALTER0_CONFIG: '' } },
  );
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr.on('data', (b: Buffer) => {
      if (err.length > 100_000) return; // keep draining the pipe, stop keeping the text
      err += b.toString();
      const m = /"url":"([^"]+)"/.exec(err);
      if (m?.[1]) resolve(m[1]);
    });
    proc.on('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
    setTimeout(() => reject(new Error('serve did not start')), 20_000).unref();
  });
  const post = async (body: unknown): Promise<{ ms: number; id: string }> => {
    const t = performance.now();
    const r = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const j = (await r.json()) as { job_id: string };
    if (r.status !== 202) throw new Error(`accept failed: ${r.status} ${JSON.stringify(j)}`);
    return { ms: performance.now() - t, id: j.job_id };
  };
  // One task to route into once; the rest reference it explicitly so the router's fallback path is not the
  // thing measured (an explicit reference needs no model call).
  const first = await post({ content: 'warm up' });
  let taskId: string | null = null;
  while (!taskId) {
    const j = (await (await fetch(`${url}/api/jobs/${first.id}`)).json()) as { task_id: string | null; state: string };
    taskId = j.state === 'succeeded' ? j.task_id : null;
    await new Promise((r) => setTimeout(r, 20));
  }
  // Many tasks, so that per-task ordering does not serialize the whole run: 64 tasks, explicit references.
  const tasks: string[] = [taskId];
  for (let i = 1; i < 64; i++) {
    const p = await post({ content: `task ${i}` });
    let t: string | null = null;
    while (!t) {
      const j = (await (await fetch(`${url}/api/jobs/${p.id}`)).json()) as { task_id: string | null; state: string };
      t = j.state === 'succeeded' ? j.task_id : null;
      if (!t) await new Promise((r) => setTimeout(r, 10));
    }
    tasks.push(t);
  }

  const latencies: number[] = [];
  const ids: string[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const i = next++;
        const r = await post({ content: `message ${i}`, task_id: tasks[i % tasks.length] });
        latencies.push(r.ms);
        ids.push(r.id);
      }
    }),
  );
  const acceptS = (performance.now() - t0) / 1000;
  // Wait for completion.
  for (;;) {
    const s = (await (await fetch(`${url}/api/status`)).json()) as { components: { queue: { details: { jobs_by_state: Record<string, number> } } } };
    const by = s.components.queue.details.jobs_by_state;
    if ((by.queued ?? 0) + (by.running ?? 0) === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const doneS = (performance.now() - t0) / 1000;
  const overhead: number[] = [];
  const execute: number[] = [];
  for (let i = 0; i < ids.length; i += Math.max(1, Math.floor(ids.length / 500))) {
    const j = (await (await fetch(`${url}/api/jobs/${ids[i]}`)).json()) as { state: string; timings: { total_ms: number; execute_ms: number; queue_wait_ms: number } };
    if (j.state !== 'succeeded') throw new Error(`job ${ids[i]} ended ${j.state}`);
    execute.push(j.timings.execute_ms);
    overhead.push(j.timings.total_ms - j.timings.queue_wait_ms - j.timings.execute_ms);
  }
  proc.kill('SIGTERM');
  await new Promise((r) => proc.on('exit', r));
  fs.rmSync(data, { recursive: true, force: true });
  const report = {
    jobs: N,
    concurrency: C,
    accepted_per_s: Math.round(N / acceptS),
    accept_p50_ms: +q(latencies, 0.5).toFixed(2),
    accept_p99_ms: +q(latencies, 0.99).toFixed(2),
    completed_per_s: Math.round(N / doneS),
    executor_ms_p50: q(execute, 0.5),
    pipeline_overhead_ms_p50: q(overhead, 0.5),
    pipeline_overhead_ms_p99: q(overhead, 0.99),
    node: process.version,
    cpus: os.cpus().length,
  };
  if (values.json) console.log(JSON.stringify(report));
  else for (const [k, v] of Object.entries(report)) console.log(`${k.padEnd(26)} ${v}`);
}

await main();
