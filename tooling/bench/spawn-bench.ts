// Spawn off the event loop: what starting agent processes costs the daemon's main thread, with node's spawn in this
// process vs through @alter0/executor's Spawner (a small helper process forks them).
//
//   node tooling/bench/spawn-bench.ts [--children 50] [--concurrency 4] [--ballast-mb 150] [--json]
//
// This process is first grown to about the daemon's size (--ballast-mb of touched memory: fork copies the page
// tables, so the cost grows with the parent's RSS). Then, per mode, `true` is run --children times, --concurrency
// at a time, while perf_hooks.monitorEventLoopDelay (1 ms resolution) records the main thread's delay:
//   <mode>_loop_delay_p99_ms / _max_ms   event-loop delay while the children are started
//   <mode>_spawn_exit_p50_ms / _p99_ms   from the spawn call to the child's 'exit' event
//   idle_loop_delay_p99_ms / _max_ms     the same monitor over an idle second (the floor)
//   spawner_cold_first_exit_ms           the first spawn through a fresh Spawner (helper start included)
// Loopback only (no network at all); bounded by --max-minutes.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Spawner, spawnInProcess } from '@alter0/executor';
import type { SpawnFn } from '@alter0/executor';
import { machine, printReport, runDeadline } from './lib.ts';

const { values } = parseArgs({
  options: {
    children: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '4' },
    'ballast-mb': { type: 'string', default: '150' },
    'max-minutes': { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const CHILDREN = Math.max(1, Number.parseInt(values.children, 10) || 50);
const CONCURRENCY = Math.max(1, Number.parseInt(values.concurrency, 10) || 4);
const BALLAST_MB = Math.max(0, Number.parseInt(values['ballast-mb'], 10) || 0);
const signal = runDeadline(Math.max(1, Number(values['max-minutes']) || 5));

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
}

function rssMb(pid: number | 'self' = 'self'): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return round(Number(m?.[1] ?? Number.NaN) / 1024);
}

/** One child of `true`: from the spawn call to its 'exit' event (ms). */
function once(spawn: SpawnFn): Promise<number> {
  const t0 = performance.now();
  const child = spawn('true', [], {
    cwd: os.tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => resolve(performance.now() - t0));
    child.stdout?.resume();
    child.stderr?.resume();
    child.stdin?.on('error', () => undefined);
    child.stdin?.end();
  });
}

/** Runs CHILDREN children, CONCURRENCY at a time, under an event-loop delay monitor. */
async function measure(spawn: SpawnFn): Promise<{ delayP99: number; delayMax: number; exits: number[] }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const exits: number[] = [];
  let next = 0;
  h.enable();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CHILDREN && !signal.aborted) {
        next += 1;
        exits.push(await once(spawn));
      }
    }),
  );
  h.disable();
  return { delayP99: h.percentile(99) / 1e6, delayMax: h.max / 1e6, exits };
}

async function idleFloor(): Promise<{ p99: number; max: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await delay(1000);
  h.disable();
  return { p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

function modeReport(name: string, r: Awaited<ReturnType<typeof measure>>): Record<string, number> {
  return {
    [`${name}_loop_delay_p99_ms`]: round(r.delayP99),
    [`${name}_loop_delay_max_ms`]: round(r.delayMax),
    [`${name}_spawn_exit_p50_ms`]: round(pct(r.exits, 50)),
    [`${name}_spawn_exit_p99_ms`]: round(pct(r.exits, 99)),
  };
}

async function main(): Promise<void> {
  // Touched memory, as a daemon's heap and buffers are: fork copies the page tables that map it.
  const ballast = Array.from({ length: BALLAST_MB }, () => Buffer.alloc(1024 * 1024, 1));
  const spawner = new Spawner();
  try {
    const idle = await idleFloor();
    const cold = await once(spawner.spawn);
    const helperRss = spawner.helperPid === null ? Number.NaN : rssMb(spawner.helperPid);
    const inProcess = await measure(spawnInProcess);
    const viaSpawner = await measure(spawner.spawn);
    printReport(
      'spawn-bench',
      {
        ...machine(),
        children: CHILDREN,
        concurrency: CONCURRENCY,
        parent_rss_mb: rssMb(),
        ballast_mb: ballast.length,
        helper_rss_mb: helperRss,
        idle_loop_delay_p99_ms: round(idle.p99),
        idle_loop_delay_max_ms: round(idle.max),
        ...modeReport('inprocess', inProcess),
        ...modeReport('spawner', viaSpawner),
        spawner_cold_first_exit_ms: round(cold),
      },
      values.json,
    );
  } finally {
    await spawner.close();
  }
}

await main();
