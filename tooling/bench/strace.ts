// Counting a process's fsync calls with strace: `strace -f -c -e trace=fsync,fdatasync -p <pid>` attached for one
// phase of a benchmark, its summary table parsed. strace stops the traced threads on every syscall (ptrace), so
// the phase it watches runs slower: use its counts, not the timings of the same run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { tempDir } from './lib.ts';

const STRACE = '/usr/bin/strace';

export interface SyscallCounts {
  fsync: number;
  fdatasync: number;
}

export interface StraceSession {
  /** Detaches (SIGINT) and returns the calls counted, or why nothing was measured. */
  stop(): Promise<SyscallCounts | string>;
}

/** Parses strace -c's summary table: the `calls` column of the fsync and fdatasync rows (absent rows count 0). */
export function parseStraceSummary(text: string): SyscallCounts {
  const counts: SyscallCounts = { fsync: 0, fdatasync: 0 };
  for (const line of text.split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const cols = line.trim().split(/\s+/);
    const name = cols.at(-1);
    if ((name === 'fsync' || name === 'fdatasync') && cols.length >= 5) counts[name] = Number(cols[3]);
  }
  return counts;
}

/**
 * Attaches strace to every thread of `pid` (and to the children it starts). Resolves once attached, or with the
 * reason it could not be (no strace, ptrace refused) as a string.
 */
export async function startStrace(pid: number, signal: AbortSignal): Promise<StraceSession | string> {
  if (!fs.existsSync(STRACE)) return `not measured: ${STRACE} is missing (apt-get install strace)`;
  const dir = tempDir('alter0-strace-');
  const out = path.join(dir, 'summary.txt');
  const child = spawn(STRACE, ['-f', '-c', '-e', 'trace=fsync,fdatasync', '-o', out, '-p', String(pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4096)));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  child.once('error', (err) => (stderr += String(err)));
  // strace prints "Process N attached" per thread once it holds them; a refusal ends it at once.
  for (let i = 0; i < 100 && !/attached/.test(stderr) && child.exitCode === null; i++)
    await delay(50, undefined, { signal });
  if (child.exitCode !== null || !/attached/.test(stderr)) {
    child.kill('SIGKILL');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
    return `not measured: strace could not attach (${stderr.trim().split('\n')[0] ?? 'no output'})`;
  }
  return {
    async stop() {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
      const text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
      fs.rmSync(dir, { recursive: true, force: true });
      return text === ''
        ? `not measured: strace wrote no summary (${stderr.trim().slice(-200)})`
        : parseStraceSummary(text);
    },
  };
}
