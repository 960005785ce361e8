// Memory: the daemon's RSS, V8 heap and thread count idle after start-up, at the peak of a burst of jobs, and idle
// again after it — the figures to watch while the kernel is slimmed down.
//
//   node tooling/bench/rss-bench.ts [--jobs 1000] [--concurrency 32] [--workers 4] [--idle-s 30] [--json]
//                                   [--node-arg=--max-semi-space-size=8 ...] [--max-minutes 5]
//
// The executor is `cat` (the reply is the prompt), the closer is off, as in kernel-bench.ts. Points:
//   ready        right after GET /readyz answers 200;
//   idle         --idle-s seconds later, nothing sent;
//   burst        --jobs jobs (explicit references to 64 tasks, each made by one routed message) from --concurrency
//                clients through POST /api/jobs, until the queue is drained: the highest VmRSS polled every 100 ms
//                (and VmHWM), the thread count and heap at the end of the burst;
//   after        --idle-s seconds after the last job finished.
// RSS, VmHWM and Threads come from /proc/<pid>/status; heap used / total, the young generation's size and V8's
// external memory (buffers) from the daemon's /metrics (prom-client's nodejs_heap_* and nodejs_external_memory_bytes),
// which is also scraped once a second during the burst for the peak heap total and external memory.
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Daemon } from './lib.ts';
import {
  heapFigures,
  intOption,
  machine,
  openJobs,
  pollRssPeak,
  printReport,
  procStatus,
  round,
  runDeadline,
  scrapeMetrics,
  startServe,
  tempDir,
  until,
} from './lib.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
    workers: { type: 'string', default: '4' },
    'idle-s': { type: 'string', default: '30' },
    json: { type: 'boolean', default: false },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'max-minutes': { type: 'string', default: '5' },
  },
});
const N = intOption('jobs', values.jobs, 1000);
const C = intOption('concurrency', values.concurrency, 32);
const WORKERS = intOption('workers', values.workers, 4);
const IDLE_MS = intOption('idle-s', values['idle-s'], 30) * 1000;
const TASKS = 64;
const signal = runDeadline(intOption('max-minutes', values['max-minutes'], 5));

/** RSS, threads (from /proc) and heap (from /metrics) now, each key prefixed with the point's name. */
async function point(d: Daemon, name: string): Promise<Record<string, number>> {
  const s = procStatus(d.pid);
  const m = await scrapeMetrics(d, signal);
  const heap = heapFigures(m);
  return {
    [`${name}_rss_mib`]: s.rss,
    [`${name}_rss_anon_mib`]: s.anon,
    [`${name}_rss_file_mib`]: s.file,
    [`${name}_heap_used_mib`]: heap.heap_used_mib,
    [`${name}_heap_total_mib`]: heap.heap_total_mib,
    [`${name}_heap_new_space_total_mib`]: round(
      (m.get('nodejs_heap_space_size_total_bytes{space="new"}') ?? Number.NaN) / 2 ** 20,
    ),
    [`${name}_external_mib`]: round((m.get('nodejs_external_memory_bytes') ?? Number.NaN) / 2 ** 20),
    [`${name}_threads`]: s.threads,
  };
}

/** 64 tasks, each made by one routed message (`cat` is no router: the fallback makes a new task). */
async function makeTasks(d: Daemon): Promise<string[]> {
  const tasks: string[] = [];
  for (let i = 0; i < TASKS; i++) {
    const r = await d.client.sendMessage({ content: `rss task ${i}`, wait_ms: 30_000 }, d.within());
    if (r.status !== 200 || r.body.task_id === null)
      throw new Error(`set-up message ${i} got no task: ${JSON.stringify(r.body)}`);
    tasks.push(r.body.task_id);
  }
  return tasks;
}

/** --jobs jobs from --concurrency clients, then the queue drained; resolves with the seconds it took. */
async function burst(d: Daemon, tasks: readonly string[]): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const i = next++;
        await d.client.submitJob({ content: `message ${i}`, task_id: tasks[i % tasks.length] }, d.within());
      }
    }),
  );
  await until(async () => ((await openJobs(d)) === 0 ? true : null), {
    timeoutMs: 3 * 60_000,
    what: 'the queue to drain',
    signal,
    intervalMs: 100,
  });
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const data = tempDir('alter0-bench-rss-');
  const nodeArgs = values['node-arg'] ?? [];
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
    nodeArgs,
    signal,
  });
  const report: Record<string, unknown> = { jobs: N, concurrency: C, interactive_workers: WORKERS };
  try {
    Object.assign(report, await point(d, 'ready'));
    await delay(IDLE_MS, undefined, { signal });
    Object.assign(report, await point(d, `idle_${IDLE_MS / 1000}s`));
    const tasks = await makeTasks(d);
    const rss = pollRssPeak(d.pid);
    const heapPeak = { total: 0, external: 0 };
    const heapPoll = setInterval(() => {
      void scrapeMetrics(d, signal)
        .then((m) => {
          heapPeak.total = Math.max(heapPeak.total, heapFigures(m).heap_total_mib);
          heapPeak.external = Math.max(heapPeak.external, (m.get('nodejs_external_memory_bytes') ?? 0) / 2 ** 20);
        })
        .catch(() => undefined);
    }, 1000);
    const seconds = await burst(d, tasks).finally(() => clearInterval(heapPoll));
    report['burst_jobs_per_s'] = round(N / seconds);
    report['burst_rss_peak_mib'] = rss.stop();
    // Sampled once a second from /metrics: what V8 held near the RSS peak (the rest is native memory).
    report['burst_heap_total_peak_mib'] = heapPeak.total;
    report['burst_external_peak_mib'] = round(heapPeak.external);
    Object.assign(report, await point(d, 'burst_end'));
    report['vm_hwm_mib'] = procStatus(d.pid).hwm;
    await delay(IDLE_MS, undefined, { signal });
    Object.assign(report, await point(d, `after_${IDLE_MS / 1000}s`));
    report['daemon_node_args'] = nodeArgs.join(' ') || 'none';
  } finally {
    await d.stop(30_000);
    fs.rmSync(data, { recursive: true, force: true });
  }
  printReport('rss', { ...report, ...machine() }, values.json);
}

await main();
