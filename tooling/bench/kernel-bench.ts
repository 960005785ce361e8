// Kernel overhead benchmark: the real `alter0 serve` with an instant executor (`cat`: the reply is the
// prompt), so what is measured is alter0's own cost — HTTP accept + commit, queueing, pipeline, storage.
//
//   node tooling/bench/kernel-bench.ts [--jobs 2000] [--concurrency 32] [--workers 4] [--json]
//                                      [--cpu-prof <dir>] [--node-arg=--max-semi-space-size=8 ...] [--max-minutes 15]
//                                      [--strace] [--plainjob-jobs 2000] [--floor-commits 500]
//
// Prints accepted/s and accept latency (p50/p99) for POST /api/jobs, jobs completed/s, and the pipeline's own
// overhead per job (total time minus queue wait and the executor's time), as percentiles over the run; the daemon's
// event-loop delay p99 and max and its loop utilization over the accept phase and over the rest of the run until the
// queue is drained (its /metrics scraped before, between and after: the figures cover the time since the previous
// scrape), and the daemon's RSS peak (VmRSS polled every 100 ms) over both phases.
// --strace attaches `strace -f -c -e trace=fsync,fdatasync` to the daemon for both phases and reports fsyncs per job
// (strace slows every syscall of the daemon: that run's timings are not comparable, its counts are).
// Then, with the daemon stopped, the yardsticks (sqlite-side.ts), in this process on temp files with WAL and
// synchronous=FULL: one fsync'd single-row commit (median of --floor-commits), the floor of one (group) commit; and
// plainjob (npm) with the same number of clients and workers adding --plainjob-jobs no-op jobs, with the ratios
// alter0/plainjob of accepts/s and accept p99.
// --cpu-prof <dir> runs the daemon under Node's CPU profiler and writes its .cpuprofile there (summarize it with
// `node tooling/bench/cpuprofile-top.ts <dir>/*.cpuprofile`). --node-arg passes a flag to the daemon's Node (repeatable),
// e.g. to compare V8 heap settings; the daemon's RSS at the end is reported either way.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { JobRequest } from '@alter0/api';
import {
  eventLoopFigures,
  intOption,
  machine,
  openJobs,
  pollRssPeak,
  printReport,
  quantile,
  round,
  rssMiB,
  runDeadline,
  scrapeMetrics,
  startServe,
  tempDir,
  until,
} from './lib.ts';
import { fsyncCommitFloor, plainjobRun } from './sqlite-side.ts';
import { startStrace } from './strace.ts';
import type { SyscallCounts } from './strace.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    workers: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'max-minutes': { type: 'string', default: '15' },
    strace: { type: 'boolean', default: false },
    'plainjob-jobs': { type: 'string', default: '2000' },
    'floor-commits': { type: 'string', default: '500' },
  },
});
const N = intOption('jobs', values.jobs, 2000);
const C = intOption('concurrency', values.concurrency, 32);
const WORKERS = intOption('workers', values.workers, 4);
const TASKS = 64;
const signal = runDeadline(intOption('max-minutes', values['max-minutes'], 15));
const profDir = values['cpu-prof'] === undefined ? null : path.resolve(values['cpu-prof']);

/** fsyncs per job from strace's counts, or why not measured. */
function perJob(counts: SyscallCounts | string, jobs: number): Record<string, number | string> {
  if (typeof counts === 'string') return { fsyncs_per_job: counts };
  return {
    fsyncs_per_job: round((counts.fsync + counts.fdatasync) / jobs, 2),
    fsync_calls: counts.fsync,
    fdatasync_calls: counts.fdatasync,
  };
}

async function main(): Promise<void> {
  const floor = fsyncCommitFloor(intOption('floor-commits', values['floor-commits'], 500));
  const alter0 = await alter0Run();
  const plainjob = await plainjobRun({
    jobs: intOption('plainjob-jobs', values['plainjob-jobs'], 2000),
    clients: C,
    workers: WORKERS,
    signal,
  });
  printReport(
    'kernel',
    {
      ...alter0,
      ...floor,
      ...plainjob,
      ratio_accepted_per_s_alter0_over_plainjob: round(
        Number(alter0['accepted_per_s']) / Number(plainjob['plainjob_accepted_per_s']),
        3,
      ),
      ratio_accept_p99_alter0_over_plainjob: round(
        Number(alter0['accept_p99_ms']) / Number(plainjob['plainjob_add_p99_ms']),
        2,
      ),
      ...machine(),
    },
    values.json,
  );
}

async function alter0Run(): Promise<Record<string, unknown>> {
  const data = tempDir('alter0-bench-');
  if (profDir !== null) fs.mkdirSync(profDir, { recursive: true });
  let result: Record<string, unknown> = {};
  const d = await startServe({
    data,
    args: [
      '--command',
      'cat',
      '--set',
      'closer.enabled=false',
      '--set',
      `queue.interactive_workers=${WORKERS}`,
      '--set',
      'log.file=false',
    ],
    nodeArgs: [...(values['node-arg'] ?? []), ...(profDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`])],
    signal,
  });
  try {
    const post = async (body: JobRequest): Promise<{ ms: number; id: string }> => {
      const t = performance.now();
      const r = await d.client.submitJob(body, d.within());
      return { ms: performance.now() - t, id: r.job_id };
    };
    const taskOf = (id: string): Promise<string> =>
      until(
        async () => {
          const j = await d.client.getJob(id, d.within());
          if (j.state === 'failed' || j.state === 'canceled')
            throw new Error(`set-up job ${id} ended ${j.state}: ${JSON.stringify(j.error)}`);
          return j.state === 'succeeded' ? j.task_id : null;
        },
        { timeoutMs: 30_000, what: `set-up job ${id}`, signal, intervalMs: 10 },
      );
    // Many tasks, so that per-task ordering does not serialize the whole run; each made by one routed message
    // (`cat` is no router: the fallback makes a new task), then referenced explicitly so that the router's
    // fallback path is not the thing measured (an explicit reference needs no model call).
    const tasks: string[] = [];
    for (let i = 0; i < TASKS; i++) tasks.push(await taskOf((await post({ content: `task ${i}` })).id));

    const latencies: number[] = [];
    const ids: string[] = [];
    let next = 0;
    await scrapeMetrics(d, signal); // the event-loop figures restart here
    const strace = values.strace ? await startStrace(d.pid, signal) : null;
    const rss = pollRssPeak(d.pid);
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
    const loopAccept = eventLoopFigures(await scrapeMetrics(d, signal));
    await until(async () => ((await openJobs(d)) === 0 ? true : null), {
      timeoutMs: 15 * 60_000,
      what: 'the queue to drain',
      signal,
      intervalMs: 100,
    });
    const doneS = (performance.now() - t0) / 1000;
    const loopDrain = eventLoopFigures(await scrapeMetrics(d, signal));
    const rssPeak = rss.stop();
    const fsyncs = strace === null ? {} : perJob(typeof strace === 'string' ? strace : await strace.stop(), N);
    const overhead: number[] = [];
    const execute: number[] = [];
    const queueWait: number[] = [];
    const step = Math.max(1, Math.floor(ids.length / 500));
    for (const id of ids.filter((_, i) => i % step === 0)) {
      const j = await d.client.getJob(id, d.within());
      if (j.state !== 'succeeded') throw new Error(`job ${id} ended ${j.state}`);
      const t = j.timings;
      execute.push(t.execute_ms ?? Number.NaN);
      queueWait.push(t.queue_wait_ms ?? Number.NaN);
      overhead.push((t.total_ms ?? Number.NaN) - (t.queue_wait_ms ?? 0) - (t.execute_ms ?? 0));
    }
    result = {
      jobs: N,
      concurrency: C,
      interactive_workers: WORKERS,
      accepted_per_s: Math.round(N / acceptS),
      accept_p50_ms: round(quantile(latencies, 0.5), 2),
      accept_p99_ms: round(quantile(latencies, 0.99), 2),
      completed_per_s: Math.round(N / doneS),
      queue_wait_ms_p50: quantile(queueWait, 0.5),
      executor_ms_p50: quantile(execute, 0.5),
      pipeline_overhead_ms_p50: quantile(overhead, 0.5),
      pipeline_overhead_ms_p99: quantile(overhead, 0.99),
      event_loop_delay_p99_ms_accept: loopAccept.p99_ms,
      event_loop_delay_max_ms_accept: loopAccept.max_ms,
      event_loop_utilization_accept: loopAccept.utilization,
      event_loop_delay_p99_ms_drain: loopDrain.p99_ms,
      event_loop_delay_max_ms_drain: loopDrain.max_ms,
      event_loop_utilization_drain: loopDrain.utilization,
      ...fsyncs,
      under_strace: values.strace,
      daemon_rss_mib: rssMiB(d.pid).rss,
      daemon_rss_peak_mib_run: rssPeak,
      daemon_rss_peak_mib: rssMiB(d.pid).peak,
      daemon_node_args: (values['node-arg'] ?? []).join(' ') || 'none',
    };
  } finally {
    // A graceful stop, so that the CPU profile (written at exit) is complete.
    await d.stop(30_000);
    fs.rmSync(data, { recursive: true, force: true });
  }
  if (profDir !== null) {
    await delay(100);
    const files = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    console.error(`cpu profile(s) in ${profDir}: ${files.join(', ') || 'none written'}`);
  }
  return result;
}

await main();
