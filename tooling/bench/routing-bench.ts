// Routed message vs a direct call: the wall time of a sync message that needs a routing call (POST /api/message, no
// task_id, one open task; the real `claude` CLI against the Anthropic fake) over the wall time of the same execute
// call made directly (claude -p --resume, own process group, against a second fake), for
//   before: the router uses the executor's model and a normal call (router.prespawn = false), and
//   after:  the router has its own model (router.model) and runs on the pre-spawned process (router.prespawn),
// each with the router's model answering in --router-latency-ms (100: a small fast model) and at equal latency
// (--latency-ms, the work model's). The fake answers calls in the order they come (route, execute, close), so each
// is scripted with its model's latency. alter0 and direct runs alternate (ABAB…) so load drift hits both alike.
//
//   node tooling/bench/routing-bench.ts [--runs 11] [--warmup 2] [--latency-ms 300] [--router-latency-ms 100] [--json]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Behaviour, ModelFake, TempHome } from '@alter0/fakes';
import type { MessageDone } from '@alter0/api';
import type { Daemon } from './lib.ts';
import { finished, intOption, machine, median, printReport, round, runDeadline, startServe } from './lib.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '11' },
    warmup: { type: 'string', default: '2' },
    'latency-ms': { type: 'string', default: '300' },
    'router-latency-ms': { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '25' },
  },
});
const RUNS = intOption('runs', values.runs, 11);
const WARMUP = values.warmup === '0' ? 0 : intOption('warmup', values.warmup, 2);
const WORK_MS = intOption('latency-ms', values['latency-ms'], 300);
const ROUTER_MS = intOption('router-latency-ms', values['router-latency-ms'], 100);
const signal = runDeadline(intOption('max-minutes', values['max-minutes'], 25));

const fakes = await import('@alter0/fakes').catch((err: unknown) => {
  throw new Error(`cannot load @alter0/fakes (build it: pnpm exec tsc -b packages/fakes): ${String(err)}`);
});
const program = fakes.cliPath('claude');
if (program === null) {
  console.error(`routing-bench: ${fakes.missingCliMessage('claude')}`);
  process.exit(2);
}

const closeKeepOpen = JSON.stringify({ close: false, confidence: 0.2, reason: 'the owner may ask more' });
const routeTo = (taskId: string): string =>
  JSON.stringify({ decision: 'existing', task_id: taskId, confidence: 0.9, reason: 'same subject' });

/** One claude call as the executor makes it (own group, prompt on stdin), timed spawn → close; its session id. */
async function runClaude(argv: string[], cwd: string, env: Record<string, string>, prompt: string) {
  const started = performance.now();
  const child = spawn(program ?? 'claude', argv, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.resume();
  child.stdin.on('error', () => undefined);
  child.stdin.end(prompt);
  const kill = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  signal.addEventListener('abort', kill, { once: true });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => signal.removeEventListener('abort', kill));
  const ms = performance.now() - started;
  kill();
  const parsed = JSON.parse(out.trim() || '{}') as { session_id?: string; is_error?: boolean };
  if (code !== 0 || parsed.is_error === true || typeof parsed.session_id !== 'string')
    throw new Error(`direct claude call failed (exit ${code}): ${out.slice(0, 300)}`);
  return { ms, sessionId: parsed.session_id };
}

interface Setup {
  name: 'before' | 'after';
  sets: Record<string, string | number>;
}

const SETUPS: Setup[] = [
  { name: 'before', sets: { 'router.prespawn': 'false' } },
  { name: 'after', sets: { 'router.prespawn': 'true', 'router.model': 'router-model' } },
];

async function startDaemon(setup: Setup, fake: ModelFake, home: TempHome): Promise<Daemon> {
  const env = fakes.claudeEnv({ baseUrl: fake.url, home: home.home });
  const config = path.join(home.home, '..', 'alter0.toml');
  const lines = Object.entries(env).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  fs.writeFileSync(config, `[executor.env]\n${lines.join('\n')}\n`);
  const sets = {
    'executor.claude.bin': program ?? 'claude',
    'executor.claude.model': 'work-model',
    'executor.kill_grace_ms': 1000,
    'queue.max_attempts': 1,
    'router.timeout_s': 60,
    'closer.timeout_s': 60,
    'shutdown.drain_timeout_s': 1,
    'log.file': 'false',
    ...setup.sets,
  };
  return startServe({
    data: path.join(home.home, '..', 'data'),
    args: [
      '--config',
      config,
      '--executor',
      'claude',
      ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    ],
    env: { PATH: fakes.childPath(), HOME: home.home, TMPDIR: path.join(home.home, 'tmp'), LANG: 'C.UTF-8' },
    cwd: home.workdir,
    signal,
  });
}

interface Pair {
  routedMs: number;
  directMs: number;
  routeMs: number;
}

/** One setup: its own daemon and direct session; for each router latency, interleaved routed/direct pairs. */
async function measure(setup: Setup): Promise<Record<string, Pair[]>> {
  const homeA = await fakes.makeTempHome('alter0-rbench-a-');
  const homeD = await fakes.makeTempHome('alter0-rbench-d-');
  const fakeA = await fakes.startAnthropicFake({ signal });
  const fakeD = await fakes.startAnthropicFake({ signal });
  let d: Daemon | null = null;
  try {
    d = await startDaemon(setup, fakeA, homeA);
    const daemon = d;
    const reply = (text: string, ms: number): Behaviour => fakes.reply(text, { delayMs: ms });
    fakeA.script([reply('Noted: PELICAN.', WORK_MS), reply(closeKeepOpen, ROUTER_MS)]);
    const first = await daemon.client.sendMessage(
      { content: 'Remember the word PELICAN.', wait_ms: 120_000 },
      daemon.within(150_000),
    );
    if (first.status !== 200) throw new Error(`the first message was not answered in time (job ${first.body.job_id})`);
    const firstDone: MessageDone = first.body;
    const taskId = firstDone.task_id ?? '';
    await finished(daemon, firstDone.job_id, 120_000, signal);
    const envD = { ...fakes.claudeEnv({ baseUrl: fakeD.url, home: homeD.home }), ALTER0_STAGE: 'execute' };
    fakeD.script([reply('Noted: PELICAN.', WORK_MS)]);
    const base = ['-p', '--output-format', 'json', '--model', 'work-model'];
    const session = (
      await runClaude([...base, '--permission-mode', 'acceptEdits'], homeD.workdir, envD, 'Remember the word PELICAN.')
    ).sessionId;

    const routed = async (content: string, routerMs: number): Promise<{ ms: number; routeMs: number }> => {
      fakeA.script([
        reply(routeTo(taskId), routerMs),
        reply(`Reply to: ${content}`, WORK_MS),
        reply(closeKeepOpen, routerMs),
      ]);
      const started = performance.now();
      const r = await daemon.client.sendMessage({ content, wait_ms: 120_000 }, daemon.within(150_000));
      const ms = performance.now() - started;
      if (r.status !== 200 || r.body.task_id !== taskId || r.body.route?.decision !== 'existing')
        throw new Error(`the routed message was not answered in its task: ${JSON.stringify(r.body)}`);
      const j = await finished(daemon, r.body.job_id, 120_000, signal);
      if (j.state !== 'succeeded' || fakeA.pending() !== 0) throw new Error(`job ${j.id} ended ${j.state}`);
      return { ms, routeMs: r.body.timings.route_ms ?? Number.NaN };
    };
    const direct = async (content: string): Promise<number> => {
      fakeD.script([reply(`Reply to: ${content}`, WORK_MS)]);
      const r = await runClaude(
        [...base, '--resume', session, '--permission-mode', 'acceptEdits'],
        homeD.workdir,
        envD,
        content,
      );
      return r.ms;
    };

    const out: Record<string, Pair[]> = {};
    for (const [label, routerMs] of [
      ['fast_router', ROUTER_MS],
      ['equal_latency', WORK_MS],
    ] as const) {
      const pairs: Pair[] = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const content = `${label} message ${i}: what was the word?`;
        let a: { ms: number; routeMs: number };
        let directMs: number;
        if (i % 2 === 0) {
          a = await routed(content, routerMs);
          directMs = await direct(content);
        } else {
          directMs = await direct(content);
          a = await routed(content, routerMs);
        }
        if (i >= WARMUP) pairs.push({ routedMs: a.ms, directMs, routeMs: a.routeMs });
        // The pre-spawned router starts after each routing call: give it the idle time a real owner's pause gives.
        await delay(1500, undefined, { signal });
      }
      out[label] = pairs;
    }
    if (setup.name === 'after') {
      const models = fakeA.modelCalls().map((c) => (c.body as { model?: string } | null)?.model);
      if (!models.includes('router-model')) throw new Error(`no call carried router.model: ${models.join(',')}`);
    }
    return out;
  } finally {
    await d?.stop(10_000);
    await Promise.all([fakeA.close(), fakeD.close()]);
    await Promise.all([homeA.remove(), homeD.remove()]);
  }
}

const report: Record<string, number | string> = { runs: RUNS, work_latency_ms: WORK_MS, router_latency_ms: ROUTER_MS };
const routedMedians: Record<string, number> = {};
for (const setup of SETUPS) {
  const results = await measure(setup);
  for (const [label, pairs] of Object.entries(results)) {
    const routed = median(pairs.map((p) => p.routedMs));
    const direct = median(pairs.map((p) => p.directMs));
    const key = `${setup.name}_${label}`;
    routedMedians[key] = routed;
    report[`${key}_routed_ms_p50`] = round(routed);
    report[`${key}_direct_ms_p50`] = round(direct);
    report[`${key}_route_stage_ms_p50`] = round(median(pairs.map((p) => p.routeMs)));
    report[`${key}_ratio_p50`] = round(routed / direct, 3);
    report[`${key}_ratio_of_pairs_p50`] = round(median(pairs.map((p) => p.routedMs / p.directMs)), 3);
  }
}
for (const label of ['fast_router', 'equal_latency']) {
  report[`saved_per_message_ms_${label}`] = round(
    (routedMedians[`before_${label}`] ?? 0) - (routedMedians[`after_${label}`] ?? 0),
  );
}
printReport('routing', { ...report, ...machine() }, values.json);
