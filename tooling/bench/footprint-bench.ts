// Footprint: start-up time, idle RSS, RSS and database size as jobs accumulate, database bytes per 1k messages
// before and after retention (`alter0 db cleanup`), and the time from `kill -9` to serving again.
//
//   node tooling/bench/footprint-bench.ts [--jobs 20000] [--sample-every 2000] [--starts 5] [--queued 100]
//                                         [--json] [--submit-minutes 15] [--max-minutes 30] [--cpu-prof <dir>]
//
// The executor is the sh one-liner of lib.ts (SH_AGENT: echoes the prompt; `sleep <s>` on its first line sleeps).
// Phases, on one data directory:
//   start      spawn → "listening" log line and spawn → GET /readyz 200 on a fresh data directory (`--starts` times);
//   idle       RSS of the daemon after start-up and 10 s without traffic;
//   jobs       `--jobs` jobs of ~200-character messages (explicit references to 64 tasks, closer off) through
//              POST /api/jobs with at most 2000 outstanding (submission stops early after --submit-minutes);
//              RSS, db+wal bytes and the accept rate every `--sample-every` jobs;
//   retention  half the tasks closed, the daemon stopped, then `alter0 db cleanup` with every retention age set
//              to 1s (as if the default ages had passed) and `alter0 db backup` (VACUUM INTO) before and after it
//              for the compacted size;
//   restart    restart on that data directory with `--queued` long jobs queued on the background lane (one of them
//              running), `kill -9`, and restart again: kill → listening, → readyz, → first sync reply.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ApiRequestError } from '@alter0/api';
import type { StatusDocument } from '@alter0/api';
import type { Daemon } from './lib.ts';
import {
  ALTER0_BIN,
  SH_AGENT,
  dbBytes,
  finished,
  intOption,
  machine,
  median,
  printReport,
  readyAfter,
  round,
  rssMiB,
  runDeadline,
  startServe,
  stringEnv,
  tempDir,
  until,
} from './lib.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    'sample-every': { type: 'string', default: '2000' },
    starts: { type: 'string', default: '5' },
    queued: { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
    'submit-minutes': { type: 'string', default: '15' },
    'cpu-prof': { type: 'string' },
    'max-minutes': { type: 'string', default: '30' },
  },
});
const JOBS = intOption('jobs', values.jobs, 20_000);
const SAMPLE_EVERY = intOption('sample-every', values['sample-every'], 2000);
const STARTS = intOption('starts', values.starts, 5);
const QUEUED = intOption('queued', values.queued, 100);
const TASKS = 64;
const MAX_OUTSTANDING = 2000;
const SUBMIT_MS = intOption('submit-minutes', values['submit-minutes'], 15) * 60_000;
const signal = runDeadline(intOption('max-minutes', values['max-minutes'], 30));
const SETS = [
  'closer.enabled=false',
  'queue.max_attempts=1',
  'log.file=false',
  'executor.kill_grace_ms=1000',
  'shutdown.drain_timeout_s=1',
];
const serveArgs = ['--command', SH_AGENT, ...SETS.flatMap((s) => ['--set', s])];

/** Runs the alter0 CLI to completion (bounded); its stdout parsed as JSON. */
async function alter0Json<T>(args: readonly string[]): Promise<T> {
  const child = spawn(process.execPath, [ALTER0_BIN, ...args, '--json'], {
    env: { ...stringEnv(process.env), ALTER0_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: AbortSignal.any([signal, AbortSignal.timeout(5 * 60_000)]),
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-8192)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`alter0 ${args.join(' ')} exited ${code}: ${err}${out}`);
  return JSON.parse(out) as T;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Bytes per table and index (SQLite's dbstat through the sqlite3 CLI), or why not. */
function bytesByTable(dbFile: string): Record<string, number> | string {
  try {
    const out = execFileSync(
      'sqlite3',
      ['-readonly', dbFile, 'select name, sum(pgsize) from dbstat group by name order by 2 desc limit 8;'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    return Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => [l.split('|')[0] ?? '', Number(l.split('|')[1])]),
    );
  } catch (err) {
    return `not measured: ${err instanceof Error ? err.message.split('\n')[0] : String(err)} (apt-get install sqlite3)`;
  }
}

type JobCounts = StatusDocument['components']['queue']['details']['jobs_by_state'];
const jobCounts = async (d: Daemon): Promise<JobCounts> =>
  (await d.client.status(d.within())).components.queue.details.jobs_by_state;

/** Live processes whose working directory is under `dir` (the agents' workspaces are all under the data dir). */
function processesUnder(dir: string): number[] {
  const root = fs.realpathSync(dir);
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${name}/cwd`);
      const state = fs.readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0];
      if ((cwd === root || cwd.startsWith(root + path.sep)) && state !== 'Z') pids.push(Number(name));
    } catch {
      // It exited while we looked.
    }
  }
  return pids;
}

async function startPhase(): Promise<Record<string, number>> {
  const listening: number[] = [];
  const ready: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const data = tempDir('alter0-bench-start-');
    const d = await startServe({ data, args: serveArgs, signal });
    listening.push(d.listeningMs);
    ready.push(await readyAfter(d, d.spawnedAt, signal));
    await d.stop();
    fs.rmSync(data, { recursive: true, force: true });
  }
  return { start_fresh_listening_ms_p50: round(median(listening)), start_fresh_ready_ms_p50: round(median(ready)) };
}

async function main(): Promise<void> {
  const report: Record<string, unknown> = { jobs_requested: JOBS };
  Object.assign(report, await startPhase());

  const root = tempDir('alter0-bench-footprint-');
  const data = path.join(root, 'data');
  // --cpu-prof: profile the daemon of the idle, jobs and retention phases (written when it stops, before retention).
  const profDir = values['cpu-prof'] === undefined ? null : path.resolve(values['cpu-prof']);
  let d = await startServe({
    data,
    args: serveArgs,
    signal,
    nodeArgs: profDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
  });
  try {
    await readyAfter(d, d.spawnedAt, signal);
    report['idle_rss_after_start_mib'] = rssMiB(d.pid).rss;
    await delay(10_000, undefined, { signal });
    report['idle_rss_after_10s_mib'] = rssMiB(d.pid).rss;
    report['db_bytes_empty'] = dbBytes(data).db + dbBytes(data).wal;

    // --- jobs
    const tasks: string[] = [];
    for (let i = 0; i < TASKS; i++) {
      const r = await d.client.sendMessage({ content: `footprint task ${i}`, wait_ms: 30_000 }, d.within());
      if (r.status !== 200 || r.body.task_id === null)
        throw new Error(`set-up message ${i} got no task: ${JSON.stringify(r.body)}`);
      tasks.push(r.body.task_id);
    }
    const filler = ' lorem ipsum dolor sit amet'.repeat(8);
    const samples: { jobs: number; rss_mib: number; db_mib: number; s: number; accepted_per_s: number }[] = [];
    let submitted = 0;
    let done = 0;
    const t0 = performance.now();
    const sample = (): void => {
      const b = dbBytes(data);
      const s = (performance.now() - t0) / 1000;
      const prev = samples.at(-1);
      // Accepts are throttled by completions (bounded outstanding), so this rate follows the kernel's throughput.
      const rate = (submitted - (prev?.jobs ?? 0)) / (s - (prev?.s ?? 0));
      samples.push({
        jobs: submitted,
        rss_mib: rssMiB(d.pid).rss,
        db_mib: round((b.db + b.wal) / 2 ** 20),
        s: round(s),
        accepted_per_s: round(rate),
      });
    };
    let nextSample = SAMPLE_EVERY;
    // Submission also stops after --submit-minutes, leaving the rest of the run's time to drain and to the later phases.
    while (submitted < JOBS && performance.now() - t0 < SUBMIT_MS) {
      // Bounded outstanding work: the figure is the daemon's footprint after N jobs, not that of a deep queue.
      if (submitted - done >= MAX_OUTSTANDING) {
        const by = await jobCounts(d);
        done = submitted - by.queued - by.running;
        if (submitted - done >= MAX_OUTSTANDING) await delay(200, undefined, { signal });
        continue;
      }
      const batch = Math.min(8, JOBS - submitted);
      await Promise.all(
        Array.from({ length: batch }, async (_, k) => {
          const i = submitted + k;
          await d.client.submitJob(
            { content: `message ${i}:${filler}`.slice(0, 200), task_id: tasks[i % TASKS] },
            d.within(),
          );
        }),
      );
      submitted += batch;
      if (submitted >= nextSample) {
        sample();
        nextSample += SAMPLE_EVERY;
      }
    }
    await until(
      async () => {
        const by = await jobCounts(d);
        return by.queued + by.running === 0 ? by : null;
      },
      { timeoutMs: 30 * 60_000, what: 'the queue to drain', signal, intervalMs: 250 },
    );
    const jobsS = (performance.now() - t0) / 1000;
    const by = await jobCounts(d);
    if (by.failed + by.canceled > 0) throw new Error(`some jobs did not succeed: ${JSON.stringify(by)}`);
    report['jobs_done'] = submitted;
    report['jobs_per_s'] = round(submitted / jobsS);
    report['rss_after_jobs_mib'] = rssMiB(d.pid).rss;
    report['rss_peak_mib'] = rssMiB(d.pid).peak;
    await delay(10_000, undefined, { signal });
    report['rss_after_jobs_idle_10s_mib'] = rssMiB(d.pid).rss;
    report['samples'] = samples;

    // --- retention
    for (const t of tasks.slice(0, TASKS / 2)) {
      await d.client.closeTask(t, { reason: 'footprint bench' }, d.within());
    }
    await d.stop();
    const messages = submitted + TASKS; // user messages (each with one reply)
    const before = dbBytes(data);
    const backupsDir = path.join(root, 'backups');
    const compactBefore = await alter0Json<{ bytes: number; path: string }>([
      'db',
      'backup',
      '--data',
      data,
      '--dir',
      backupsDir,
      '--keep',
      '10',
    ]);
    await delay(1_500, undefined, { signal });
    const retention = ['closed_tasks', 'decisions', 'events', 'finished_jobs'].flatMap((k) => [
      '--set',
      `retention.${k}=1s`,
    ]);
    const cleanup = await alter0Json<{ counts: Record<string, number>; ms: number }>([
      'db',
      'cleanup',
      '--data',
      data,
      ...retention,
    ]);
    const after = dbBytes(data);
    const compactAfter = await alter0Json<{ bytes: number }>([
      'db',
      'backup',
      '--data',
      data,
      '--dir',
      backupsDir,
      '--keep',
      '10',
    ]);
    const perK = (bytes: number): number => Math.round((bytes / messages) * 1000);
    report['db_bytes_by_table_before_retention'] = bytesByTable(compactBefore.path);
    Object.assign(report, {
      messages,
      db_file_bytes_before_retention: before.db + before.wal,
      db_bytes_per_1k_messages_before: perK(before.db + before.wal),
      db_compacted_bytes_per_1k_messages_before: perK(compactBefore.bytes),
      retention_deleted: cleanup.counts,
      retention_ms: cleanup.ms,
      db_file_bytes_after_retention: after.db + after.wal,
      db_compacted_bytes_after_retention: compactAfter.bytes,
      db_compacted_bytes_per_1k_messages_after: perK(compactAfter.bytes),
    });

    // --- restart with a big database and queued work, then kill -9 and restart again
    const restartedAt = performance.now();
    d = await startServe({ data, args: serveArgs, signal });
    report['start_big_db_listening_ms'] = round(d.listeningMs);
    report['start_big_db_ready_ms'] = round(await readyAfter(d, restartedAt, signal));
    const long: string[] = [];
    for (let i = 0; i < QUEUED; i++) {
      const r = await d.client.submitJob(
        {
          content: `sleep 60\nqueued ${i}`,
          lane: 'background',
          task_id: tasks[TASKS / 2 + (i % (TASKS / 2))],
          timeout_s: 300,
          max_attempts: 3,
        },
        d.within(),
      );
      long.push(r.job_id);
    }
    const running = await until(
      async () => {
        for (const id of long.slice(0, 4)) if ((await d.client.getJob(id, d.within())).state === 'running') return id;
        return null;
      },
      { timeoutMs: 30_000, what: 'a long job to run', signal },
    );
    await d.kill9();
    const killedAt = performance.now();
    const leftBehind = processesUnder(data);
    d = await startServe({ data, args: serveArgs, signal });
    report['kill9_to_listening_ms'] = round(d.spawnedAt + d.listeningMs - killedAt);
    report['kill9_to_ready_ms'] = round(await readyAfter(d, killedAt, signal));
    // A routed message (a new task): every open task has long jobs queued ahead of it.
    const sync = await d.client.sendMessage({ content: 'are you back?', wait_ms: 30_000 }, d.within());
    if (sync.status !== 200 || sync.body.reply === null)
      throw new Error(`first message after the restart: ${sync.status} ${JSON.stringify(sync.body)}`);
    report['kill9_to_first_sync_reply_ms'] = round(performance.now() - killedAt);
    // The killed daemon could not stop its agents (own process groups): does the new one reap them?
    report['kill9_agents_orphaned'] = leftBehind.length;
    await delay(2_000, undefined, { signal });
    report['kill9_orphaned_agents_alive_2s_after_restart'] = leftBehind.filter((pid) => alive(pid)).length;
    const orphan = await d.client.getJob(running, d.within());
    report['kill9_orphan_job_after_restart'] = `${orphan.state} (attempt ${orphan.attempt})`;
    const counts = await jobCounts(d);
    report['kill9_jobs_queued_after_restart'] = counts.queued + counts.running;
    // Whatever the daemon answers (a job that finished meanwhile says 409): the cancels only end the run's work.
    for (const id of long) {
      await d.client.cancelJob(id, d.within()).catch((e: unknown) => {
        if (!(e instanceof ApiRequestError)) throw e;
      });
    }
    for (const id of long.slice(0, 3)) await finished(d, id, 30_000, signal);
  } finally {
    await d.stop(15_000);
    // Anything the killed daemon left behind (its agents run in their own process groups).
    for (const pid of fs.existsSync(data) ? processesUnder(data) : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
  printReport('footprint', { ...report, ...machine() }, values.json);
}

await main();
