// Overhead ratio: the wall time of a sync message through alter0 (POST /api/message on the real daemon, the real
// `claude` CLI against the Anthropic fake with a fixed latency per model call) over the wall time of the same
// executor call made directly (the same claude argv and environment as a child process, against a fake with the
// same latency), for
//   (a) a message with an explicit task reference (no routing call), and
//   (b) a message that needs a routing model call (one open task to choose from).
// The closer runs after the reply (the fake answers it too); each run waits for the job to finish before the
// next one starts, but only the time to the sync answer is counted. alter0 and direct runs alternate (ABBA) so
// drift in the shared machine's load hits both alike.
//
//   node tooling/bench/overhead-bench.ts [--runs 15] [--warmup 2] [--latency-ms 300] [--json] [--max-minutes 20]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Behaviour, ModelFake, TempHome } from '@alter0/fakes';
import type { Job, JobTimings, MessageDone } from '@alter0/api';
import type { Daemon } from './lib.ts';
import { finished, intOption, machine, median, printReport, round, runDeadline, startServe } from './lib.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '2' },
    'latency-ms': { type: 'string', default: '300' },
    json: { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '20' },
  },
});
const RUNS = intOption('runs', values.runs, 15);
const WARMUP = values.warmup === '0' ? 0 : intOption('warmup', values.warmup, 2);
const LATENCY_MS = intOption('latency-ms', values['latency-ms'], 300);
const signal = runDeadline(intOption('max-minutes', values['max-minutes'], 20));

// The fakes package is built (dist/) code; a missing build is the likeliest failure, so say how to fix it.
const fakes = await import('@alter0/fakes').catch((err: unknown) => {
  throw new Error(`cannot load @alter0/fakes (build it: pnpm exec tsc -b packages/fakes): ${String(err)}`);
});
const program = fakes.cliPath('claude');
if (program === null) {
  console.error(`overhead-bench: ${fakes.missingCliMessage('claude')}`);
  process.exit(2);
}

interface ClaudeRun {
  ms: number;
  sessionId: string;
  reply: string;
}

const closeKeepOpen = JSON.stringify({ close: false, confidence: 0.2, reason: 'the owner may ask more' });
const routeTo = (taskId: string): string =>
  JSON.stringify({ decision: 'existing', task_id: taskId, confidence: 0.9, reason: 'same subject' });

interface ClaudeResultJson {
  session_id?: string;
  result?: string;
  is_error?: boolean;
}

/** claude's one JSON object on stdout, or null when stdout is not one (the caller reports the output). */
function parseResult(out: string): ClaudeResultJson | null {
  try {
    const v = JSON.parse(out.trim()) as unknown;
    return typeof v === 'object' && v !== null ? v : null;
  } catch {
    return null;
  }
}

/** SIGKILL a process group; false when it is already gone. */
function killGroup(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** One claude call as a child process, the way @alter0/executor runs it (own group, prompt on stdin); timed spawn → close. */
async function runClaude(
  argv: readonly string[],
  cwd: string,
  env: Record<string, string>,
  prompt: string,
): Promise<ClaudeRun> {
  const started = performance.now();
  const child = spawn(program ?? 'claude', argv, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4096)));
  child.stdin.on('error', () => undefined);
  child.stdin.end(prompt);
  const killer = (): void => void killGroup(child.pid);
  signal.addEventListener('abort', killer, { once: true });
  let code: number | null;
  try {
    code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', (e) => reject(new Error(`cannot run ${program}: ${e.message}`)));
      child.once('close', (c) => resolve(c));
    });
  } finally {
    signal.removeEventListener('abort', killer);
  }
  const ms = performance.now() - started;
  signal.throwIfAborted();
  // Nothing of the call may outlive it (the executor kills the group the same way); usually it is gone already.
  killGroup(child.pid);
  const parsed = parseResult(out);
  if (code !== 0 || parsed === null || parsed.is_error === true || typeof parsed.session_id !== 'string') {
    throw new Error(`direct claude call failed (exit ${code}): ${out.slice(0, 500)} ${stderr}`);
  }
  return { ms, sessionId: parsed.session_id, reply: parsed.result ?? '' };
}

interface Sample {
  alter0Ms: number;
  directMs: number;
  /** The router-shaped call made directly (routed scenario only). */
  directRouteMs: number;
  queueWaitMs: number;
  routeMs: number;
  executeMs: number;
  closeMs: number;
}

async function main(): Promise<void> {
  const homeA: TempHome = await fakes.makeTempHome('alter0-bench-a-');
  const homeD: TempHome = await fakes.makeTempHome('alter0-bench-d-');
  const fakeA: ModelFake = await fakes.startAnthropicFake({ signal });
  const fakeD: ModelFake = await fakes.startAnthropicFake({ signal });
  let daemon: Daemon | null = null;
  try {
    // The daemon's agents talk to fakeA; the direct calls to fakeD. Same CLI, same environment shape.
    const envA = fakes.claudeEnv({ baseUrl: fakeA.url, home: homeA.home });
    const config = path.join(homeA.home, '..', 'alter0.toml');
    fs.writeFileSync(
      config,
      `[executor.env]\n${Object.entries(envA)
        .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
        .join('\n')}\n`,
    );
    const sets = {
      'executor.claude.bin': program ?? 'claude',
      'executor.kill_grace_ms': 1000,
      'queue.max_attempts': 1,
      'queue.job_timeout_s': 120,
      'router.timeout_s': 60,
      'closer.timeout_s': 60,
      'shutdown.drain_timeout_s': 1,
      'log.file': 'false',
    };
    daemon = await startServe({
      data: path.join(homeA.home, '..', 'data'),
      args: [
        '--config',
        config,
        '--executor',
        'claude',
        ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
      ],
      // Only what an agent child needs: nothing of the caller's environment reaches the CLI.
      env: { PATH: fakes.childPath(), HOME: homeA.home, TMPDIR: path.join(homeA.home, 'tmp'), LANG: 'C.UTF-8' },
      cwd: homeA.workdir,
      signal,
    });
    const d = daemon;
    const reply = (text: string): Behaviour => fakes.reply(text, { delayMs: LATENCY_MS });

    const sync = async (content: string, taskId: string | null): Promise<{ ms: number; answer: MessageDone }> => {
      const started = performance.now();
      const r = await d.client.sendMessage(
        { content, wait_ms: 120_000, ...(taskId === null ? {} : { task_id: taskId }) },
        d.within(150_000),
      );
      const ms = performance.now() - started;
      // The answer comes once the reply is stored: the job may still be running its close stage.
      if (r.status !== 200 || r.body.reply === null || r.body.error !== null)
        throw new Error(`POST /api/message answered ${r.status}: ${JSON.stringify(r.body)}`);
      return { ms, answer: r.body };
    };
    // The closer still runs after the answer: wait for it (and check the fake was called as scripted) so it
    // never overlaps the next measurement.
    const settle = async (jobId: string): Promise<Job> => {
      const j = await finished(d, jobId, 120_000, signal);
      if (j.state !== 'succeeded') throw new Error(`job ${jobId} ended ${j.state}: ${JSON.stringify(j.error)}`);
      if (fakeA.pending() !== 0)
        throw new Error(`the daemon made fewer model calls than scripted (${fakeA.pending()} left)`);
      return j;
    };

    // The task every later message resumes, and its direct twin: one session each, growing alike.
    fakeA.script([reply('Noted: PELICAN.'), reply(closeKeepOpen)]);
    const first = await sync('Remember the word PELICAN.', null);
    await settle(first.answer.job_id);
    const taskId = first.answer.task_id;
    if (taskId === null) throw new Error('the first message got no task');
    const workspace = homeD.workdir;
    const baseD = { PATH: fakes.childPath(), HOME: homeD.home, TMPDIR: path.join(homeD.home, 'tmp'), LANG: 'C.UTF-8' };
    const envD = (stage: string, session: string): Record<string, string> => ({
      ...baseD,
      ...fakes.claudeEnv({ baseUrl: fakeD.url, home: homeD.home }),
      ALTER0_STAGE: stage,
      ALTER0_TASK_ID: stage === 'execute' ? 't_direct' : '',
      ALTER0_JOB_ID: 'j_direct',
      ALTER0_SESSION_ID: session,
    });
    const executeArgv = (session: string): string[] => [
      '-p',
      '--output-format',
      'json',
      '--resume',
      session,
      '--permission-mode',
      'acceptEdits',
    ];
    fakeD.script([reply('Noted: PELICAN.')]);
    const session = (
      await runClaude(
        ['-p', '--output-format', 'json', '--permission-mode', 'acceptEdits'],
        workspace,
        envD('execute', ''),
        'Remember the word PELICAN.',
      )
    ).sessionId;

    const directExecute = async (content: string): Promise<number> => {
      fakeD.script([reply(`Reply to: ${content}`)]);
      const r = await runClaude(executeArgv(session), workspace, envD('execute', session), content);
      if (r.sessionId !== session)
        throw new Error(`the direct call did not resume session ${session} (got ${r.sessionId})`);
      return r.ms;
    };

    // The router's own call made directly: same argv as the router stage, a prompt as long as the one it sent.
    let routePromptChars = 0;
    const directRoute = async (jobId: string): Promise<number> => {
      if (routePromptChars === 0) {
        const r = await d.client.decisions({ kind: 'route', limit: 5 }, d.within());
        routePromptChars = r.route.find((x) => x.job_id === jobId)?.prompt_chars ?? 0;
        if (routePromptChars === 0) throw new Error(`no route decision with a prompt for job ${jobId}`);
      }
      fakeD.script([reply(routeTo(taskId))]);
      const prompt = 'Route this message to one of the open tasks. '
        .repeat(Math.ceil(routePromptChars / 45))
        .slice(0, routePromptChars);
      const r = await runClaude(
        ['-p', '--output-format', 'json', '--no-session-persistence', '--tools', ''],
        path.join(homeD.home, '..'),
        envD('route', ''),
        prompt,
      );
      return r.ms;
    };

    const viaAlter0 = async (
      kind: 'explicit' | 'routed',
      content: string,
    ): Promise<{ ms: number; timings: JobTimings; job: Job }> => {
      fakeA.script(
        kind === 'explicit'
          ? [reply(`Reply to: ${content}`), reply(closeKeepOpen)]
          : [reply(routeTo(taskId)), reply(`Reply to: ${content}`), reply(closeKeepOpen)],
      );
      const r = await sync(content, kind === 'explicit' ? taskId : null);
      if (r.answer.task_id !== taskId)
        throw new Error(
          `the ${kind} message went to ${r.answer.task_id}, not ${taskId}: ${JSON.stringify(r.answer.route)}`,
        );
      if (kind === 'routed' && r.answer.route?.decision !== 'existing')
        throw new Error(`the router did not choose the open task: ${JSON.stringify(r.answer.route)}`);
      return { ms: r.ms, timings: r.answer.timings, job: await settle(r.answer.job_id) };
    };

    const scenario = async (kind: 'explicit' | 'routed'): Promise<Sample[]> => {
      const samples: Sample[] = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const content = `${kind} message ${i}: what was the word?`;
        let a: Awaited<ReturnType<typeof viaAlter0>>;
        let directMs: number;
        if (i % 2 === 0) {
          a = await viaAlter0(kind, content);
          directMs = await directExecute(content);
        } else {
          directMs = await directExecute(content);
          a = await viaAlter0(kind, content);
        }
        const directRouteMs = kind === 'routed' ? await directRoute(a.job.id) : 0;
        if (i >= WARMUP) {
          samples.push({
            alter0Ms: a.ms,
            directMs,
            directRouteMs,
            queueWaitMs: a.timings.queue_wait_ms ?? 0,
            routeMs: a.timings.route_ms ?? 0,
            executeMs: a.timings.execute_ms ?? Number.NaN,
            closeMs: a.job.timings.close_ms ?? Number.NaN,
          });
        }
        await delay(100, undefined, { signal });
      }
      return samples;
    };

    const explicit = await scenario('explicit');
    const routed = await scenario('routed');

    const summarize = (s: Sample[]): Record<string, number> => {
      const alter0 = median(s.map((x) => x.alter0Ms));
      const direct = median(s.map((x) => x.directMs));
      return {
        alter0_ms_p50: round(alter0),
        direct_execute_ms_p50: round(direct),
        ratio_p50: round(alter0 / direct, 3),
        ratio_of_pairs_p50: round(median(s.map((x) => x.alter0Ms / x.directMs)), 3),
        queue_wait_ms_p50: round(median(s.map((x) => x.queueWaitMs))),
        route_ms_p50: round(median(s.map((x) => x.routeMs))),
        execute_ms_p50: round(median(s.map((x) => x.executeMs))),
        // What alter0 adds around its stages: HTTP, commit, claim, store the reply, answer.
        kernel_ms_p50: round(median(s.map((x) => x.alter0Ms - x.routeMs - x.executeMs))),
        // Taken after the answer: shown to prove it is not in alter0_ms.
        close_ms_after_reply_p50: round(median(s.map((x) => x.closeMs))),
      };
    };
    const a = summarize(explicit);
    const b = summarize(routed);
    const directRoute50 = median(routed.map((x) => x.directRouteMs));
    printReport(
      'overhead',
      {
        runs: RUNS,
        model_latency_ms: LATENCY_MS,
        ...Object.fromEntries(Object.entries(a).map(([k, v]) => [`a_explicit_${k}`, v])),
        ...Object.fromEntries(Object.entries(b).map(([k, v]) => [`b_routed_${k}`, v])),
        b_routed_direct_route_ms_p50: round(directRoute50),
        b_routed_ratio_vs_direct_route_plus_execute: round(
          (b['alter0_ms_p50'] ?? Number.NaN) / (directRoute50 + (b['direct_execute_ms_p50'] ?? Number.NaN)),
          3,
        ),
        claude_cli_ms_beyond_model_latency_p50: round(median(explicit.map((x) => x.directMs)) - LATENCY_MS),
        ...machine(),
      },
      values.json,
    );
  } finally {
    await daemon?.stop(10_000);
    await Promise.all([fakeA.close(), fakeD.close()]);
    await Promise.all([homeA.remove(), homeD.remove()]);
  }
}

await main();
