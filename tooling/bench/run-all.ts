// Runs every benchmark one after the other (never two at once: each one loads the machine on its own) and prints
// their JSON lines, optionally appending them to a file. --quick uses small sizes (a smoke run of a few minutes).
//
//   node tooling/bench/run-all.ts [--quick] [--only kernel,hol,overhead,footprint] [--out results.jsonl]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});

const FULL: Record<string, string[]> = {
  kernel: ['kernel-bench.ts'],
  hol: ['hol-bench.ts'],
  overhead: ['overhead-bench.ts', '--runs', '15'],
  footprint: ['footprint-bench.ts', '--jobs', '20000'],
};
const QUICK: Record<string, string[]> = {
  kernel: ['kernel-bench.ts', '--jobs', '300', '--concurrency', '16'],
  hol: ['hol-bench.ts', '--messages', '20', '--long-s', '6'],
  overhead: ['overhead-bench.ts', '--runs', '3', '--warmup', '1'],
  footprint: ['footprint-bench.ts', '--jobs', '1000', '--sample-every', '500', '--starts', '2', '--queued', '10'],
};
const plan = values.quick ? QUICK : FULL;
const names = values.only === undefined ? Object.keys(plan) : values.only.split(',').map((s) => s.trim());
for (const n of names) {
  if (plan[n] === undefined)
    throw new Error(`--only: unknown benchmark ${JSON.stringify(n)}; pick from ${Object.keys(plan).join(', ')}`);
}

/** One benchmark as a child process (its own time limit applies); resolves with its JSON line. */
function run(args: readonly string[]): Promise<string> {
  const [script, ...rest] = args;
  const child = spawn(process.execPath, [path.join(import.meta.dirname, script ?? ''), ...rest, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`${script} exited ${code}: ${out.slice(-2000)}`));
      else resolve(line);
    });
  });
}

let failed = 0;
for (const n of names) {
  const started = Date.now();
  try {
    const line = await run(plan[n] ?? []);
    console.log(line);
    if (values.out !== undefined) fs.appendFileSync(values.out, `${line}\n`);
    console.error(`${n}: done in ${Math.round((Date.now() - started) / 1000)} s`);
  } catch (err) {
    failed++;
    console.error(`${n}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
