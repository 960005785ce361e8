// Restart to serving after a crash: on a data directory with history, `kill -9` the daemon and start `alter0 serve`
// again, --restarts times; where the time goes between the spawn and GET /readyz 200.
//
//   node tooling/bench/restart-bench.ts [--restarts 10] [--history 500] [--queued 20] [--json]
//                                       [--cpu-prof <dir>] [--node-arg=... ...] [--max-minutes 5]
//
// Set-up: a daemon (the sh executor of lib.ts, closer off) runs --history jobs to completion (explicit references to
// 16 tasks, 32 clients), then --queued long jobs (`sleep 600`) are queued on the background lane, one of them
// running. Each restart: kill -9 the running daemon, spawn `node apps/cli/bin/alter0.js serve` on the same data
// directory and time, from the spawn: the first log line, the "database open" line, the "listening" line (arrival
// of the line at this process), and GET /readyz 200 (polled every 5 ms). The daemon's own JSON log lines carry
// timestamps: the offset of each start-up message from the first one (median over the restarts) says which step
// took the time. The running job orphaned by each kill is recovered by the next start (attempt counted).
// Then one more restart under `--cpu-prof` (stopped with SIGTERM once ready, so the profile is written), summarized
// with cpuprofile-top.ts: the profile covers Node's start, the boot, the first moments of serving and the stop.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { missingDaemonFlags } from '@alter0/core';
import {
  ALTER0_BIN,
  ROOT,
  SH_AGENT,
  intOption,
  machine,
  median,
  openJobs,
  printReport,
  round,
  runDeadline,
  startServe,
  stringEnv,
  tempDir,
  until,
} from './lib.ts';

const { values } = parseArgs({
  options: {
    restarts: { type: 'string', default: '10' },
    history: { type: 'string', default: '500' },
    queued: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'max-minutes': { type: 'string', default: '5' },
  },
});
const RESTARTS = intOption('restarts', values.restarts, 10);
const HISTORY = intOption('history', values.history, 500);
const QUEUED = intOption('queued', values.queued, 20);
// As the systemd unit starts it: with the daemon's own V8 flags, so the entry shim does not re-execute itself
// (--node-arg adds or overrides flags).
const GIVEN_ARGS = values['node-arg'] ?? [];
const NODE_ARGS = [...GIVEN_ARGS, ...missingDaemonFlags(GIVEN_ARGS)];
const TASKS = 16;
const START_TIMEOUT_MS = 60_000;
const signal = runDeadline(intOption('max-minutes', values['max-minutes'], 5));
const SETS = [
  'closer.enabled=false',
  'log.file=false',
  'queue.background_workers=1',
  'executor.kill_grace_ms=1000',
  'shutdown.drain_timeout_s=1',
];
const serveArgs = ['--command', SH_AGENT, ...SETS.flatMap((s) => ['--set', s])];

/** One start: milliseconds from the spawn to each mark, and each log message's offset from the first line's time. */
interface Start {
  proc: ChildProcess;
  url: string;
  exited: Promise<void>;
  firstLogMs: number;
  databaseOpenMs: number;
  listeningMs: number;
  readyMs: number;
  /** message → ms after the first log line, by the daemon's own timestamps (first occurrence of each message). */
  logOffsets: Map<string, number>;
}

/** Spawns `alter0 serve` on `data` and waits for GET /readyz 200, timing each step. */
async function timedStart(data: string, nodeArgs: readonly string[]): Promise<Start> {
  const t0 = performance.now();
  const proc = spawn(
    process.execPath,
    [...nodeArgs, ALTER0_BIN, 'serve', '--data', data, '--listen', '127.0.0.1:0', ...serveArgs],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...stringEnv(process.env), ALTER0_CONFIG: '' } },
  );
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  const marks = new Map<string, number>();
  const logOffsets = new Map<string, number>();
  let firstTs = Number.NaN;
  let buf = '';
  let url = '';
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    const at = performance.now() - t0;
    if (!marks.has('first')) marks.set('first', at);
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let rec: { time?: string; message?: string; url?: string };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        continue;
      }
      const ts = Date.parse(rec.time ?? '');
      if (Number.isNaN(firstTs)) firstTs = ts;
      const msg = rec.message ?? '?';
      if (!logOffsets.has(msg)) logOffsets.set(msg, ts - firstTs);
      if (!marks.has(msg)) marks.set(msg, at);
      if (msg === 'listening' && rec.url !== undefined) url = rec.url.replace(/\/$/, '');
    }
  });
  const bound = { timeoutMs: START_TIMEOUT_MS, signal, intervalMs: 5 };
  await until(() => (url !== '' ? true : null), { ...bound, what: `"listening" (log: ${buf.slice(-500)})` });
  await until(
    async () =>
      (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => null))?.status === 200
        ? true
        : null,
    { ...bound, what: 'GET /readyz 200' },
  );
  return {
    proc,
    url,
    exited,
    firstLogMs: marks.get('first') ?? Number.NaN,
    databaseOpenMs: marks.get('database open') ?? Number.NaN,
    listeningMs: marks.get('listening') ?? Number.NaN,
    readyMs: performance.now() - t0,
    logOffsets,
  };
}

/** The history: --history jobs done, then --queued long background jobs (one running); the daemon left running. */
async function makeHistory(data: string): Promise<number> {
  const d = await startServe({ data, args: serveArgs, signal });
  const tasks: string[] = [];
  for (let i = 0; i < TASKS; i++) {
    const r = await d.client.sendMessage({ content: `restart task ${i}`, wait_ms: 30_000 }, d.within());
    if (r.status !== 200 || r.body.task_id === null) throw new Error(`set-up message ${i}: ${JSON.stringify(r.body)}`);
    tasks.push(r.body.task_id);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < HISTORY) {
        const i = next++;
        await d.client.submitJob({ content: `history ${i}`, task_id: tasks[i % TASKS] }, d.within());
      }
    }),
  );
  await until(async () => ((await openJobs(d)) === 0 ? true : null), {
    timeoutMs: 3 * 60_000,
    what: 'the history to drain',
    signal,
    intervalMs: 100,
  });
  for (let i = 0; i < QUEUED; i++) {
    await d.client.submitJob(
      { content: `sleep 600\nqueued ${i}`, lane: 'background', task_id: tasks[i % TASKS], timeout_s: 900 },
      d.within(),
    );
  }
  await until(
    async () => ((await d.client.status(d.within())).components.queue.details.jobs_by_state.running > 0 ? true : null),
    { timeoutMs: 30_000, what: 'a long job to run', signal },
  );
  return d.pid;
}

/** Live processes whose working directory is under `dir` (the agents' workspaces are all under the data dir). */
function processesUnder(dir: string): number[] {
  const root = fs.realpathSync(dir);
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${name}/cwd`);
      if (cwd === root || cwd.startsWith(root + path.sep)) pids.push(Number(name));
    } catch {
      // It exited while we looked.
    }
  }
  return pids;
}

function kill9(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Waits until `pid` is gone (bounded): a killed daemon's lock is released by the kernel at its exit. */
async function gone(pid: number): Promise<void> {
  await until(
    () => {
      try {
        process.kill(pid, 0);
        return null;
      } catch {
        return true;
      }
    },
    { timeoutMs: 10_000, what: `pid ${pid} to exit`, signal, intervalMs: 2 },
  );
}

/** The median of each figure over the starts, and of each log message's offset (messages seen in every start). */
function summarize(starts: readonly Start[]): Record<string, unknown> {
  const med = (f: (s: Start) => number): number => round(median(starts.map(f)));
  const offsets: Record<string, number> = {};
  for (const msg of starts[0]?.logOffsets.keys() ?? []) {
    if (starts.every((s) => s.logOffsets.has(msg))) offsets[msg] = med((s) => s.logOffsets.get(msg) ?? Number.NaN);
  }
  return {
    spawn_to_first_log_ms_p50: med((s) => s.firstLogMs),
    spawn_to_database_open_ms_p50: med((s) => s.databaseOpenMs),
    spawn_to_listening_ms_p50: med((s) => s.listeningMs),
    spawn_to_ready_ms_p50: med((s) => s.readyMs),
    phase_first_log_to_database_open_ms_p50: med((s) => s.databaseOpenMs - s.firstLogMs),
    phase_database_open_to_listening_ms_p50: med((s) => s.listeningMs - s.databaseOpenMs),
    phase_listening_to_ready_ms_p50: med((s) => s.readyMs - s.listeningMs),
    spawn_to_ready_ms_runs: starts.map((s) => Math.round(s.readyMs)),
    log_offsets_ms_p50: offsets,
  };
}

/** One restart under --cpu-prof, stopped once ready; cpuprofile-top's summary of it, or why none. */
async function profiledRestart(data: string, pid: number, dir: string): Promise<string> {
  kill9(pid);
  await gone(pid);
  const s = await timedStart(data, [...NODE_ARGS, '--cpu-prof', `--cpu-prof-dir=${dir}`]);
  s.proc.kill('SIGTERM');
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), 30_000);
  await s.exited;
  clearTimeout(timer);
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) return `no .cpuprofile written in ${dir}`;
  const top = spawn(
    process.execPath,
    [path.join(import.meta.dirname, 'cpuprofile-top.ts'), path.join(dir, file), '--top', '15'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
    },
  );
  let out = '';
  top.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise((resolve) => top.once('close', resolve));
  return `restart under --cpu-prof (spawn → ready ${Math.round(s.readyMs)} ms), profile ${path.join(dir, file)}:\n${out}`;
}

async function main(): Promise<void> {
  const root = tempDir('alter0-bench-restart-');
  const data = path.join(root, 'data');
  const profDir = values['cpu-prof'] === undefined ? tempDir('alter0-restart-prof-') : path.resolve(values['cpu-prof']);
  fs.mkdirSync(profDir, { recursive: true });
  let pid = 0;
  try {
    pid = await makeHistory(data);
    const starts: Start[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      kill9(pid);
      await gone(pid);
      const s = await timedStart(data, NODE_ARGS);
      starts.push(s);
      pid = s.proc.pid ?? 0;
      await delay(500, undefined, { signal }); // the recovered job claimed again, as after a real crash
    }
    const report = {
      restarts: RESTARTS,
      history_jobs: HISTORY,
      queued_jobs: QUEUED,
      daemon_node_args: NODE_ARGS.join(' ') || 'none',
      ...summarize(starts),
      ...machine(),
    };
    const profile = await profiledRestart(data, pid, profDir);
    pid = 0;
    printReport('restart', report, values.json);
    console.log(profile);
  } finally {
    if (pid !== 0) kill9(pid);
    // The agents (`sleep 600`) a killed daemon leaves run in their own process groups; the next start kills them,
    // and the last daemon's stop (SIGTERM above) kills its own. After a failure, nobody does: they go here.
    await delay(200);
    for (const agent of fs.existsSync(data) ? processesUnder(data) : []) kill9(agent);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
