import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { ApiClient, Job, TaskDetail } from '@alter0/api';
import { startDaemon as startServe, until } from '@alter0/testkit';
import { startAnthropicFake } from '../src/anthropic.js';
import type { CliName } from '../src/cli.js';
import type { TempHome } from '../src/env.js';
import { childPath, claudeEnv, codexEnv, writeCodexConfig } from '../src/env.js';
import { startOpenAIFake } from '../src/openai.js';
import type { ModelFake, RecordedRequest } from '../src/server.js';
import { isRecord } from './helpers.js';

/*
 * The real `alter0 serve` (apps/cli, built with `pnpm exec tsc -b`) as a child process, its agent
 * executors pointed at the real claude/codex CLIs and their fakes through `[executor.env]`.
 */

/** Text that only the router and closer prompt templates contain (packages/{routing,closing}/prompts). */
export const ROUTER_MARK = 'You are the message router of alter0';
export const CLOSER_MARK = 'You are the task closer of alter0';

/** One agent CLI wired to its own fake: what goes into `[executor.env]`. */
export interface AgentSide {
  kind: CliName;
  program: string;
  fake: ModelFake;
  env: Record<string, string>;
}

export async function agentSide(kind: CliName, program: string, tmp: TempHome): Promise<AgentSide> {
  if (kind === 'claude') {
    const fake = await startAnthropicFake();
    return { kind, program, fake, env: claudeEnv({ baseUrl: fake.url, home: tmp.home }) };
  }
  const fake = await startOpenAIFake();
  const env = codexEnv({ home: tmp.home });
  // Only alter0's own timeout should end a hang in these tests; the CLI's idle timeout is kept out of reach.
  await writeCodexConfig(env['CODEX_HOME'] ?? join(tmp.home, '.codex'), {
    baseUrl: fake.url,
    streamIdleTimeoutMs: 120_000,
  });
  return { kind, program, fake, env };
}

/** `[executor.env]` as TOML: JSON string literals are valid TOML basic strings. */
function executorEnvToml(env: Record<string, string>): string {
  const lines = ['[executor.env]'];
  for (const [k, v] of Object.entries(env)) lines.push(`${k} = ${JSON.stringify(v)}`);
  return `${lines.join('\n')}\n`;
}

export interface Daemon {
  url: string;
  pid: number;
  /** The data directory (database, workspaces, the router/closer cwd). */
  data: string;
  stderr(): string;
  /**
   * Waits until the daemon's log (stderr) contains `text`. The log comes through a pipe, independently of the
   * HTTP answers: do not read `stderr()` once right after an action and expect the line to be there.
   */
  waitForLog(text: string, what: string, timeoutMs?: number): Promise<void>;
  /** @alter0/api's typed client (from @alter0/testkit); it validates every answer. */
  client: ApiClient;
  /** Polls the job until it is succeeded, failed or canceled. */
  finished(jobId: string, timeoutMs?: number): Promise<Job>;
  task(taskId: string): Promise<TaskDetail>;
  /** SIGTERM, then SIGKILL when it has not exited after the grace; resolves once it is gone. */
  stop(): Promise<void>;
  /** `kill -9`: the daemon dies at once, its detached agent children do not. */
  kill9(): Promise<void>;
}

export interface DaemonOptions {
  /** Owns everything: config file, data dir, the daemon's cwd. */
  tmp: TempHome;
  agents: AgentSide[];
  /** `--set key=value` pairs. */
  sets: Record<string, string | number>;
  executor: CliName;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

/**
 * How long `alter0 serve` may take to be ready: about a second on an idle machine, several on a loaded two-core
 * one (and the agent CLIs' version probes run meanwhile).
 */
const START_TIMEOUT_MS = 40_000;

/** Starts `alter0 serve` (@alter0/testkit) on 127.0.0.1:0 and resolves once it is ready (START_TIMEOUT_MS at most). */
export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const data = join(o.tmp.home, '..', 'data');
  mkdirSync(data, { recursive: true });
  const env: Record<string, string> = {};
  for (const a of o.agents) Object.assign(env, a.env);
  const args = ['--executor', o.executor];
  for (const [k, v] of Object.entries(o.sets)) args.push('--set', `${k}=${v}`);
  const d = await startServe({
    data,
    config: executorEnvToml(env),
    args,
    cwd: o.tmp.workdir,
    // The daemon's own environment is inherited by every agent child: nothing of the test runner's (no real
    // credentials, no ALTER0_* settings), only a private HOME and a PATH with this Node.
    env: { PATH: childPath(), HOME: o.tmp.home, TMPDIR: join(o.tmp.home, 'tmp'), LANG: 'C.UTF-8' },
    startTimeoutMs: START_TIMEOUT_MS,
    logTailChars: 256 * 1024,
  });
  const { client } = d;
  const bounded = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(60_000) });

  return {
    url: d.url,
    pid: d.pid,
    data,
    stderr: d.stderr,
    async waitForLog(text, what, timeoutMs = 30_000) {
      await d.waitForLog(text, { what, timeoutMs });
    },
    client,
    async finished(jobId, timeoutMs = 30_000) {
      return until(
        async () => {
          const j = await client.getJob(jobId, bounded());
          return TERMINAL.has(j.state) ? j : null;
        },
        { timeoutMs, what: `job ${jobId} to finish` },
      );
    },
    // Anything but a 200 with the task throws (ApiRequestError names the status and the daemon's message).
    task: (taskId) => client.getTask(taskId, bounded()),
    async stop() {
      await d.stop('SIGTERM', 10_000);
      await d.cleanup();
    },
    async kill9() {
      await d.kill9();
      await d.cleanup();
    },
  };
}

export type CallKind = 'route' | 'close' | 'execute';

function turns(r: RecordedRequest): unknown[] {
  const body = isRecord(r.body) ? r.body : {};
  return Array.isArray(body['messages']) ? body['messages'] : Array.isArray(body['input']) ? body['input'] : [];
}

/** The roles of a model request's turns, in order (tool calls and results, which have none, are left out). */
export function turnRoles(r: RecordedRequest): string[] {
  return turns(r).flatMap((t) => (isRecord(t) && typeof t['role'] === 'string' ? [t['role']] : []));
}

/** The text of the newest user turn of a model request (Anthropic `messages`, OpenAI `input`). */
export function lastUserText(r: RecordedRequest): string {
  const all = turns(r);
  for (let i = all.length - 1; i >= 0; i--) {
    const t = all[i];
    if (isRecord(t) && t['role'] === 'user') return JSON.stringify(t['content'] ?? null);
  }
  return '';
}

/**
 * Which alter0 stage sent a model request, told apart by the prompt templates' own text in its newest
 * user turn (not anywhere in the body: an execute call polluted by a router prompt is still an execute call).
 */
export function callKind(r: RecordedRequest): CallKind {
  const last = lastUserText(r);
  return last.includes(ROUTER_MARK) ? 'route' : last.includes(CLOSER_MARK) ? 'close' : 'execute';
}

/** The agent session a request belongs to, as the CLI announces it in its headers. */
export function requestSession(r: RecordedRequest): string | null {
  return r.headers['x-claude-code-session-id'] ?? r.headers['session-id'] ?? null;
}

/** A counter's value from the Prometheus text exposition (0 when the series is absent). */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.indexOf('}');
    const set = new Map<string, string>();
    for (const m of line.slice(name.length + 1, close).matchAll(/(\w+)="([^"]*)"/g)) set.set(m[1] ?? '', m[2] ?? '');
    if (Object.entries(labels).every(([k, v]) => set.get(k) === v)) return Number(line.slice(close + 1).trim());
  }
  return 0;
}
