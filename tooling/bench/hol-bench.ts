// Head-of-line blocking: latency of short sync messages (instant executor) while the background lane is saturated
// with long jobs, against the same messages on an idle daemon.
//
//   node tooling/bench/hol-bench.ts [--messages 60] [--clients 2] [--long-jobs 8] [--long-s 20] [--json]
//                                   [--max-minutes 10]
//
// The executor is a POSIX sh one-liner (lib.ts SH_AGENT): a prompt whose first line is `sleep <s>` sleeps, anything
// else is echoed at once. The daemon runs queue.interactive_workers=2 and queue.background_workers=1. Phases:
//   idle        the short messages alone (explicit task references, `--clients` concurrent senders);
//   background  the same after `--long-jobs` jobs of `sleep <long-s>` were queued on the background lane;
//   interactive two long jobs on the interactive lane itself (both of its workers), then short messages: what a
//               short message waits behind long ones in its own lane (lanes isolate, workers within a lane do not).
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ApiRequestError } from '@alter0/api';
import type { Daemon } from './lib.ts';
import {
  SH_AGENT,
  finished,
  intOption,
  machine,
  printReport,
  quantile,
  round,
  runDeadline,
  startServe,
  tempDir,
  until,
} from './lib.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '60' },
    clients: { type: 'string', default: '2' },
    'long-jobs': { type: 'string', default: '8' },
    'long-s': { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '10' },
  },
});
const MESSAGES = intOption('messages', values.messages, 60);
const CLIENTS = intOption('clients', values.clients, 2);
const LONG_JOBS = intOption('long-jobs', values['long-jobs'], 8);
const LONG_S = intOption('long-s', values['long-s'], 20);
const SHORT_TASKS = 8;
const signal = runDeadline(intOption('max-minutes', values['max-minutes'], 10));

/** `count` short sync messages from `clients` concurrent senders; the wall time of each. */
async function shortMessages(
  d: Daemon,
  tasks: readonly string[],
  count: number,
  waitMs: number,
): Promise<{ ms: number[]; deferred: number }> {
  const ms: number[] = [];
  let deferred = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < count) {
        const i = next++;
        const started = performance.now();
        const r = await d.client.sendMessage(
          { content: `short ${i}`, task_id: tasks[i % tasks.length], wait_ms: waitMs },
          d.within(),
        );
        ms.push(performance.now() - started);
        // 202: not done within wait_ms (the job goes on); counted, and its wall time is the wait it cost.
        if (r.status === 202) deferred++;
        else if (r.body.reply === null) throw new Error(`short message ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }),
  );
  return { ms, deferred };
}

const stats = (xs: readonly number[]): Record<string, number> => ({
  p50_ms: round(quantile(xs, 0.5)),
  p95_ms: round(quantile(xs, 0.95)),
  p99_ms: round(quantile(xs, 0.99)),
  max_ms: round(quantile(xs, 1)),
});

async function stateOf(d: Daemon, id: string | undefined): Promise<string> {
  if (id === undefined) throw new Error('no job to look at');
  return (await d.client.getJob(id, d.within())).state;
}

async function submitLong(d: Daemon, lane: 'background' | 'interactive', n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await d.client.submitJob(
      { content: `sleep ${LONG_S}\nlong job ${i}`, lane, timeout_s: LONG_S * 4, max_attempts: 1 },
      d.within(),
    );
    ids.push(r.job_id);
  }
  return ids;
}

async function cancelAll(d: Daemon, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    // 409: it had finished already.
    await d.client.cancelJob(id, d.within()).catch((e: unknown) => {
      if (!(e instanceof ApiRequestError && e.status === 409)) throw e;
    });
  }
  for (const id of ids) await finished(d, id, 30_000, signal);
}

async function main(): Promise<void> {
  const data = tempDir('alter0-bench-hol-');
  const d = await startServe({
    data,
    args: [
      '--command',
      SH_AGENT,
      ...[
        'closer.enabled=false',
        'queue.interactive_workers=2',
        'queue.background_workers=1',
        'queue.max_attempts=1',
        'log.file=false',
        'executor.kill_grace_ms=1000',
        'shutdown.drain_timeout_s=1',
      ].flatMap((s) => ['--set', s]),
    ],
    signal,
  });
  try {
    // Tasks for the short messages: one routed message each (the echo is no router: each falls back to a new task).
    const tasks: string[] = [];
    for (let i = 0; i < SHORT_TASKS; i++) {
      const r = await d.client.sendMessage({ content: `short task ${i}`, wait_ms: 30_000 }, d.within());
      if (r.status !== 200 || r.body.task_id === null)
        throw new Error(`set-up message ${i} got no task: ${JSON.stringify(r.body)}`);
      tasks.push(r.body.task_id);
    }
    await shortMessages(d, tasks, 10, 30_000); // warm-up
    const idle = await shortMessages(d, tasks, MESSAGES, 30_000);

    const long = await submitLong(d, 'background', LONG_JOBS);
    // Saturated: the one background worker runs a long job (the rest wait behind it).
    await until(async () => ((await stateOf(d, long[0])) === 'running' ? true : null), {
      timeoutMs: 30_000,
      what: 'the first long job to run',
      signal,
    });
    const loadedStarted = performance.now();
    const loaded = await shortMessages(d, tasks, MESSAGES, 30_000);
    const loadedS = (performance.now() - loadedStarted) / 1000;
    const states = await Promise.all(long.map((id) => stateOf(d, id)));
    const stillSaturated =
      states.filter((s) => s === 'running').length === 1 && states.filter((s) => s === 'queued').length >= 1;
    await cancelAll(d, long);

    // Both interactive workers busy with long jobs: a short sync message waits for one of them (or gets 202).
    const longInteractive = await submitLong(d, 'interactive', 2);
    await until(
      async () => {
        const s = await Promise.all(longInteractive.map((id) => stateOf(d, id)));
        return s.every((x) => x === 'running') ? true : null;
      },
      { timeoutMs: 30_000, what: 'both long interactive jobs to run', signal },
    );
    const blocked = await shortMessages(d, tasks, 4, (LONG_S / 2) * 1000);
    await cancelAll(d, longInteractive);
    await delay(50, undefined, { signal });

    const idleStats = stats(idle.ms);
    const loadedStats = stats(loaded.ms);
    printReport(
      'head-of-line',
      {
        messages: MESSAGES,
        clients: CLIENTS,
        long_jobs: LONG_JOBS,
        long_job_s: LONG_S,
        ...Object.fromEntries(Object.entries(idleStats).map(([k, v]) => [`idle_${k}`, v])),
        ...Object.fromEntries(Object.entries(loadedStats).map(([k, v]) => [`background_saturated_${k}`, v])),
        background_saturated_deferred_202: loaded.deferred,
        background_saturated_phase_s: round(loadedS),
        background_still_saturated_at_end: stillSaturated,
        p95_ratio_saturated_over_idle: round(
          (loadedStats['p95_ms'] ?? Number.NaN) / (idleStats['p95_ms'] ?? Number.NaN),
          2,
        ),
        interactive_saturated_messages: 4,
        interactive_saturated_wait_ms: (LONG_S / 2) * 1000,
        interactive_saturated_deferred_202: blocked.deferred,
        ...Object.fromEntries(Object.entries(stats(blocked.ms)).map(([k, v]) => [`interactive_saturated_${k}`, v])),
        ...machine(),
      },
      values.json,
    );
  } finally {
    await d.stop(15_000);
    fs.rmSync(data, { recursive: true, force: true });
  }
}

await main();
