// Start-up: how long the `alter0` command takes before it does anything, median of N runs each.
//
//   node tooling/bench/startup-bench.ts [--runs 5] [--json] [--cli <path to bin/alter0.js>]
//
//   version   `alter0 version`, spawn → exit
//   help      `alter0 --help`, spawn → exit
//   status    `alter0 status --addr http://127.0.0.1:<closed port>` (no daemon: it fails fast), spawn → exit
//   serve     `alter0 serve` on a fresh temp data dir, loopback port 0, the `command` executor (`cat`):
//             spawn → first log line, → "listening" log line, → GET /readyz 200; then SIGTERM and wait for the exit
//
// Loopback only; every run is bounded (--timeout-s, default 60 s) and the temp dirs are removed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DAEMON_NODE_FLAGS } from '@alter0/core';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    cli: { type: 'string', default: fileURLToPath(new URL('../../apps/cli/bin/alter0.js', import.meta.url)) },
    'timeout-s': { type: 'string', default: '60' },
  },
});
const RUNS = Math.max(1, Number.parseInt(values.runs, 10) || 5);
const TIMEOUT_MS = Math.max(1, Number.parseInt(values['timeout-s'], 10) || 60) * 1000;
const CLI = path.resolve(values.cli);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return Math.round(s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2);
};

/** A loopback port nothing listens on (bound, read, released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Spawn → exit of one `alter0 …`, in ms; any exit code is accepted (status against no daemon exits non-zero). */
async function timeCommand(args: string[]): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: 'ignore',
    env: { ...process.env, ALTER0_CONFIG: '' },
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (_code, sig) =>
      sig === 'SIGKILL' ? reject(new Error(`alter0 ${args.join(' ')}: no exit within ${TIMEOUT_MS} ms`)) : resolve(),
    );
    child.on('error', reject);
  });
  clearTimeout(timer);
  return performance.now() - t0;
}

interface ServeTimes {
  firstLog: number;
  listening: number;
  ready: number;
}

/** One `alter0 serve` on a fresh data dir: spawn → first log line, → "listening", → /readyz 200. */
async function timeServe(): Promise<ServeTimes> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alter0-startup-'));
  // With the daemon's V8 flags, as the systemd unit gives them (no re-exec by the entry shim).
  const args = [
    ...DAEMON_NODE_FLAGS,
    CLI,
    'serve',
    '--data',
    path.join(dir, 'data'),
    '--listen',
    '127.0.0.1:0',
    '--executor',
    'command',
    '--command',
    'cat',
  ];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ALTER0_CONFIG: '' },
  });
  const deadline = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  try {
    let log = '';
    let firstLog = 0;
    const listening = await new Promise<{ at: number; url: string }>((resolve, reject) => {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (firstLog === 0) firstLog = performance.now() - t0;
        log += chunk;
        const m = /"message":"listening","url":"([^"]+)"/.exec(log);
        if (m?.[1]) resolve({ at: performance.now() - t0, url: m[1].replace(/\/$/, '') });
      });
      void exited.then(() => reject(new Error(`alter0 serve exited before listening:\n${log.slice(-3000)}`)));
    });
    for (;;) {
      const r = await fetch(`${listening.url}/readyz`).catch(() => null);
      if (r?.status === 200) break;
      await new Promise((res) => setTimeout(res, 5));
    }
    return { firstLog, listening: listening.at, ready: performance.now() - t0 };
  } finally {
    child.kill('SIGTERM');
    await exited;
    clearTimeout(deadline);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const port = await closedPort();
  const samples: Record<string, number[]> = {
    version: [],
    help: [],
    status: [],
    'serve first log': [],
    'serve listening': [],
    'serve readyz': [],
  };
  for (let i = 0; i < RUNS; i++) {
    samples.version?.push(await timeCommand(['version']));
    samples.help?.push(await timeCommand(['--help']));
    samples.status?.push(await timeCommand(['status', '--addr', `http://127.0.0.1:${port}`]));
    const s = await timeServe();
    samples['serve first log']?.push(s.firstLog);
    samples['serve listening']?.push(s.listening);
    samples['serve readyz']?.push(s.ready);
  }
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const result = Object.fromEntries(
    Object.entries(samples).map(([k, xs]) => [k, { median_ms: median(xs), runs_ms: xs.map(Math.round) }]),
  );
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ runs: RUNS, load_after: load, cpus: os.cpus().length, result }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(`alter0 start-up, median of ${RUNS} (load average after: ${load}; ${os.cpus().length} cpus)\n`);
  for (const [k, v] of Object.entries(result))
    process.stdout.write(`${k.padEnd(16)} ${String(v.median_ms).padStart(6)} ms   (${v.runs_ms.join(', ')})\n`);
}

await main();
