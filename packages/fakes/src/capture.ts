import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Behaviour } from './behaviour.js';
import {
  toolCall,
  hang,
  malformed,
  overloaded,
  rateLimited,
  reply,
  serverError,
  streamError,
  truncated,
  unauthorized,
} from './behaviour.js';
import { startAnthropicFake } from './anthropic.js';
import type { CliName } from './cli.js';
import { cliPath } from './cli.js';
import type { CodexConfigOptions, TempHome } from './env.js';
import { claudeEnv, codexConfigToml, codexEnv, makeTempHome, writeCodexConfig } from './env.js';
import { startOpenAIFake } from './openai.js';
import type { ModelFake, RecordedRequest } from './server.js';
import { runCli } from './run.js';

/**
 * Records what the real CLIs do against the fakes (argv, env, stdout, stderr, exit code, the HTTP
 * requests they sent) into JSON files, so adapter authors work from real formats, not guesses.
 * Run: `node packages/fakes/dist/capture-main.js [outDir]` after `pnpm exec tsc -b packages/fakes`.
 */

interface Step {
  /** argv after the program; `{session}` is replaced by the session/thread id of the group's first step. */
  args: string[];
  stdin: string | null;
  timeoutMs: number;
}

interface Scenario {
  name: string;
  cli: CliName;
  note: string;
  script: Behaviour[];
  steps: Step[];
  claudeMaxRetries?: number;
  claudeExtraEnv?: Record<string, string>;
  codex?: Partial<CodexConfigOptions>;
  /** Variables removed from the environment (e.g. the API key, to see the not-logged-in failure). */
  dropEnv?: string[];
  /** Keep full request bodies (system prompt and tools); otherwise they are abbreviated. */
  fullBodies?: boolean;
}

const CLAUDE_ARGS = ['-p', '--output-format', 'json'];
const CODEX_ARGS = ['exec', '--json', '--skip-git-repo-check'];
const PROMPT1 = 'Remember the word PELICAN. Reply with OK.';
const PROMPT2 = 'Which word did I ask you to remember?';

function claudeStep(extra: string[] = [], timeoutMs = 30_000): Step {
  return { args: [...CLAUDE_ARGS, ...extra], stdin: PROMPT1, timeoutMs };
}
function codexStep(extra: string[] = [], timeoutMs = 30_000): Step {
  return { args: [...CODEX_ARGS, ...extra, '-'], stdin: PROMPT1, timeoutMs };
}

const SCENARIOS: Scenario[] = [
  {
    name: 'claude-success-resume',
    cli: 'claude',
    note: 'first turn (prompt on stdin), then --resume <session_id> with the second prompt on stdin',
    script: [reply('OK', { chunks: 1 }), reply('You asked me to remember PELICAN.', { chunks: 3 })],
    steps: [claudeStep(), { args: [...CLAUDE_ARGS, '--resume', '{session}'], stdin: PROMPT2, timeoutMs: 30_000 }],
    fullBodies: true,
  },
  {
    name: 'claude-no-session-persistence',
    cli: 'claude',
    note: 'router/closer style call: --no-session-persistence writes no transcript; resuming it afterwards fails',
    script: [reply('{"decision":"new"}', { chunks: 1 })],
    steps: [
      claudeStep(['--no-session-persistence']),
      { args: [...CLAUDE_ARGS, '--resume', '{session}'], stdin: PROMPT2, timeoutMs: 30_000 },
    ],
  },
  {
    name: 'claude-prompt-argv',
    cli: 'claude',
    note: 'prompt as the last argv element instead of stdin',
    script: [reply('OK', { chunks: 1 })],
    steps: [{ args: [...CLAUDE_ARGS, '--', PROMPT1], stdin: null, timeoutMs: 30_000 }],
  },
  {
    name: 'claude-no-key',
    cli: 'claude',
    note: 'no ANTHROPIC_API_KEY and no login in the private HOME',
    script: [],
    steps: [claudeStep()],
    dropEnv: ['ANTHROPIC_API_KEY'],
  },
  {
    name: 'claude-tool-denied',
    cli: 'claude',
    note: 'the model asks for Write; plain -p denies it (permission_denials) and still exits 0',
    script: [toolCall('Write', { file_path: '/tmp/alter0-capture-denied.txt', content: 'hi\n' }), reply('done')],
    steps: [claudeStep()],
  },
  {
    name: 'claude-tool-accept-edits',
    cli: 'claude',
    note: 'the model runs Bash writing a file in the workspace; --permission-mode acceptEdits allows it',
    script: [toolCall('Bash', { command: "printf 'hi\\n' > hello.txt" }), reply('done')],
    steps: [claudeStep(['--permission-mode', 'acceptEdits'])],
  },
  {
    name: 'claude-401',
    cli: 'claude',
    note: 'HTTP 401 authentication_error',
    script: [unauthorized()],
    steps: [claudeStep()],
  },
  {
    name: 'claude-429-no-retry',
    cli: 'claude',
    note: 'HTTP 429 with CLAUDE_CODE_MAX_RETRIES=0',
    script: [rateLimited(1)],
    steps: [claudeStep()],
  },
  {
    name: 'claude-429-then-ok',
    cli: 'claude',
    note: 'HTTP 429 retry-after 1 twice, then a reply, with CLAUDE_CODE_MAX_RETRIES=2 (the CLI waits retry-after)',
    script: [rateLimited(1), rateLimited(1), reply('recovered')],
    steps: [claudeStep()],
    claudeMaxRetries: 2,
  },
  {
    name: 'claude-500',
    cli: 'claude',
    note: 'HTTP 500 api_error, no retries',
    script: [serverError()],
    steps: [claudeStep()],
  },
  {
    name: 'claude-500-then-ok',
    cli: 'claude',
    note: 'HTTP 500 twice then a reply with CLAUDE_CODE_MAX_RETRIES=2 (exponential backoff ~0.5s, ~1s)',
    script: [serverError(), serverError(), reply('recovered')],
    steps: [claudeStep()],
    claudeMaxRetries: 2,
  },
  {
    name: 'claude-529',
    cli: 'claude',
    note: 'HTTP 529 overloaded_error, no retries',
    script: [overloaded()],
    steps: [claudeStep()],
  },
  {
    name: 'claude-529-retries',
    cli: 'claude',
    note: 'HTTP 529 four times with CLAUDE_CODE_MAX_RETRIES=5: the CLI gives up after 3 attempts on 529',
    script: [overloaded(), overloaded(), overloaded(), overloaded()],
    steps: [claudeStep()],
    claudeMaxRetries: 5,
  },
  {
    name: 'claude-malformed',
    cli: 'claude',
    note: 'stream with a non-JSON event; the CLI retries once without streaming (also malformed)',
    script: [malformed(), malformed()],
    steps: [claudeStep()],
  },
  {
    name: 'claude-malformed-then-ok',
    cli: 'claude',
    note: 'malformed stream, then the non-streaming fallback request gets a good answer',
    script: [malformed(), reply('recovered')],
    steps: [claudeStep()],
  },
  {
    name: 'claude-truncated',
    cli: 'claude',
    note: 'stream cut after the first delta (socket destroyed); non-streaming fallback also cut',
    script: [truncated(), truncated()],
    steps: [claudeStep()],
  },
  {
    name: 'claude-stream-error',
    cli: 'claude',
    note: 'in-stream `event: error` overloaded_error after message_start',
    script: [streamError('overloaded'), streamError('overloaded')],
    steps: [claudeStep()],
  },
  {
    name: 'claude-hang-api-timeout',
    cli: 'claude',
    note: 'no response headers ever; API_TIMEOUT_MS=1500 makes the CLI give up by itself',
    script: [hang(), hang()],
    steps: [claudeStep([], 20_000)],
    claudeExtraEnv: { API_TIMEOUT_MS: '1500' },
  },
  {
    name: 'claude-hang-killed',
    cli: 'claude',
    note: 'headers sent, then no event ever: only the caller timeout (3s, process group TERM) ends it',
    script: [hang({ headers: true })],
    steps: [claudeStep([], 3_000)],
  },
  {
    name: 'codex-success-resume',
    cli: 'codex',
    note: 'first turn (prompt on stdin via `-`), then `exec resume <thread_id> -`',
    script: [reply('OK', { chunks: 1 }), reply('You asked me to remember PELICAN.', { chunks: 3 })],
    steps: [codexStep(), { args: [...CODEX_ARGS, 'resume', '{session}', '-'], stdin: PROMPT2, timeoutMs: 30_000 }],
    fullBodies: true,
  },
  {
    name: 'codex-ephemeral',
    cli: 'codex',
    note: 'router/closer style call: --ephemeral persists no session; resuming it afterwards fails',
    script: [reply('{"decision":"new"}', { chunks: 1 })],
    steps: [
      codexStep(['--ephemeral']),
      { args: [...CODEX_ARGS, 'resume', '{session}', '-'], stdin: PROMPT2, timeoutMs: 30_000 },
    ],
  },
  {
    name: 'codex-unknown-model',
    cli: 'codex',
    note: 'a model slug codex has no metadata for: an `error` item is emitted but the turn succeeds',
    script: [reply('OK', { chunks: 1 })],
    steps: [codexStep()],
    codex: { model: 'gpt-fake' },
  },
  {
    name: 'codex-no-key',
    cli: 'codex',
    note: "the provider's env_key variable is not set",
    script: [],
    steps: [codexStep()],
    dropEnv: ['ALTER0_FAKE_OPENAI_KEY'],
  },
  {
    name: 'codex-tool-exec',
    cli: 'codex',
    note: 'the model calls exec_command; codex runs it under --sandbox workspace-write and sends the output back',
    script: [toolCall('exec_command', { cmd: "printf 'hi\\n' > hello.txt && echo wrote-it" }), reply('done')],
    steps: [codexStep(['--sandbox', 'workspace-write'])],
  },
  { name: 'codex-401', cli: 'codex', note: 'HTTP 401 invalid_api_key', script: [unauthorized()], steps: [codexStep()] },
  {
    name: 'codex-429-no-retry',
    cli: 'codex',
    note: 'HTTP 429 with request_max_retries=0, stream_max_retries=0',
    script: [rateLimited(1)],
    steps: [codexStep()],
  },
  {
    name: 'codex-429-then-ok',
    cli: 'codex',
    note: 'HTTP 429 then a reply: request_max_retries does not cover 429, stream_max_retries=2 does (a "Reconnecting" error event)',
    script: [rateLimited(1), reply('recovered')],
    steps: [codexStep()],
    codex: { requestMaxRetries: 2, streamMaxRetries: 2 },
  },
  { name: 'codex-500', cli: 'codex', note: 'HTTP 500, no retries', script: [serverError()], steps: [codexStep()] },
  {
    name: 'codex-500-then-ok',
    cli: 'codex',
    note: 'HTTP 500 twice then a reply with request_max_retries=2 (silent retries, ~200ms backoff)',
    script: [serverError(), serverError(), reply('recovered')],
    steps: [codexStep()],
    codex: { requestMaxRetries: 2 },
  },
  {
    name: 'codex-503',
    cli: 'codex',
    note: 'HTTP 503 overloaded (the OpenAI form of Anthropic 529), no retries',
    script: [overloaded()],
    steps: [codexStep()],
  },
  {
    name: 'codex-malformed',
    cli: 'codex',
    note: 'stream with a non-JSON event (skipped by codex) and no response.completed',
    script: [malformed()],
    steps: [codexStep()],
  },
  {
    name: 'codex-truncated',
    cli: 'codex',
    note: 'stream cut after the first delta (socket destroyed)',
    script: [truncated()],
    steps: [codexStep()],
  },
  {
    name: 'codex-truncated-then-ok',
    cli: 'codex',
    note: 'stream cut twice, then a reply, with stream_max_retries=2',
    script: [truncated(), truncated(), reply('recovered')],
    steps: [codexStep()],
    codex: { streamMaxRetries: 2 },
  },
  {
    name: 'codex-response-failed-overloaded',
    cli: 'codex',
    note: 'in-stream response.failed with code server_is_overloaded (fatal for codex even with stream retries)',
    script: [streamError('overloaded'), reply('not reached')],
    steps: [codexStep()],
    codex: { streamMaxRetries: 2 },
  },
  {
    name: 'codex-response-failed-rate-limited',
    cli: 'codex',
    note: 'in-stream response.failed with code rate_limit_exceeded, no retries',
    script: [streamError('rate_limited')],
    steps: [codexStep()],
  },
  {
    name: 'codex-hang-idle-timeout',
    cli: 'codex',
    note: 'headers sent, then no event: stream_idle_timeout_ms=1500 makes codex give up by itself',
    script: [hang({ headers: true })],
    steps: [codexStep([], 20_000)],
    codex: { streamIdleTimeoutMs: 1500 },
  },
  {
    name: 'codex-hang-killed',
    cli: 'codex',
    note: 'no response headers ever: stream_idle_timeout_ms does not apply; only the caller timeout (3s) ends it',
    script: [hang()],
    steps: [codexStep([], 3_000)],
    codex: { streamIdleTimeoutMs: 1500 },
  },
  {
    name: 'codex-not-found-cwd',
    cli: 'codex',
    note: 'a -C directory that does not exist',
    script: [],
    steps: [{ args: [...CODEX_ARGS, '-C', '/nonexistent/alter0-capture', '-'], stdin: PROMPT1, timeoutMs: 30_000 }],
  },
];

interface CaptureStep {
  argv: string[];
  stdin: string | null;
  exit_code: number | null;
  exit_signal: string | null;
  timed_out: boolean;
  duration_ms: number;
  stdout: string;
  /** stdout parsed: the JSON object (claude) or the JSONL events (codex); null when it does not parse. */
  stdout_parsed: unknown;
  stderr: string;
  requests: unknown[];
}

interface Capture {
  scenario: string;
  note: string;
  cli: CliName;
  version: string;
  env: Record<string, string>;
  codex_config_toml: string | null;
  script: Behaviour[];
  steps: CaptureStep[];
}

export async function recordCaptures(opts: { outDir: string; only?: string; signal?: AbortSignal }): Promise<string[]> {
  await mkdir(opts.outDir, { recursive: true });
  const written: string[] = [];
  for (const sc of SCENARIOS) {
    if (opts.only !== undefined && !sc.name.includes(opts.only)) continue;
    opts.signal?.throwIfAborted();
    const capture = await runScenario(sc, opts.signal);
    const file = join(opts.outDir, `${sc.name}.json`);
    await writeFile(file, `${JSON.stringify(capture, null, 2)}\n`, 'utf8');
    written.push(file);
  }
  return written;
}

async function runScenario(sc: Scenario, signal: AbortSignal | undefined): Promise<Capture> {
  const program = cliPath(sc.cli);
  if (program === null) throw new Error(`${sc.cli} is not installed: run pnpm install`);
  const fake = sc.cli === 'claude' ? await startAnthropicFake() : await startOpenAIFake();
  const tmp = await makeTempHome('alter0-capture-');
  try {
    fake.script(sc.script);
    const { env, toml } = await scenarioEnv(sc, fake, tmp);
    const version = (await promisify(execFile)(program, ['--version'], { env, cwd: tmp.workdir })).stdout.trim();
    const steps = await runSteps(sc, { program, env, fake, tmp, signal });
    const capture: Capture = {
      scenario: sc.name,
      note: sc.note,
      cli: sc.cli,
      version,
      env,
      codex_config_toml: toml,
      script: sc.script,
      steps,
    };
    return scrubbed(capture, fake, tmp);
  } finally {
    await fake.close();
    await tmp.remove();
  }
}

/** The environment the CLI runs with against the fake (and, for codex, the config.toml written for it). */
async function scenarioEnv(
  sc: Scenario,
  fake: ModelFake,
  tmp: TempHome,
): Promise<{ env: Record<string, string>; toml: string | null }> {
  let env: Record<string, string>;
  let toml: string | null = null;
  if (sc.cli === 'claude') {
    env = claudeEnv({
      baseUrl: fake.url,
      home: tmp.home,
      maxRetries: sc.claudeMaxRetries ?? 0,
      ...(sc.claudeExtraEnv ? { extra: sc.claudeExtraEnv } : {}),
    });
  } else {
    env = codexEnv({ home: tmp.home });
    const cfg: CodexConfigOptions = { baseUrl: fake.url, ...sc.codex };
    const codexHome = env['CODEX_HOME'];
    if (codexHome === undefined) throw new Error('codexEnv did not set CODEX_HOME');
    await writeCodexConfig(codexHome, cfg);
    toml = codexConfigToml(cfg);
  }
  for (const name of sc.dropEnv ?? []) delete env[name];
  return { env, toml };
}

interface StepRun {
  program: string;
  env: Record<string, string>;
  fake: ModelFake;
  tmp: TempHome;
  signal: AbortSignal | undefined;
}

/** Runs the scenario's steps in order; a later step may name the session the first one started. */
async function runSteps(sc: Scenario, r: StepRun): Promise<CaptureStep[]> {
  const { fake, signal } = r;
  const steps: CaptureStep[] = [];
  let session: string | null = null;
  for (const step of sc.steps) {
    const args = step.args.map((a) => (a === '{session}' ? (session ?? 'no-session-id') : a));
    const seen = fake.requests.length;
    const out = await runCli({
      program: r.program,
      args,
      env: r.env,
      cwd: r.tmp.workdir,
      stdin: step.stdin,
      timeoutMs: step.timeoutMs,
      ...(signal ? { signal } : {}),
    });
    const parsed = sc.cli === 'claude' ? parseJsonOrNull(out.stdout) : parseJsonl(out.stdout);
    session ??= sessionIdOf(sc.cli, parsed);
    steps.push({
      argv: [sc.cli, ...args],
      stdin: step.stdin,
      exit_code: out.exitCode,
      exit_signal: out.exitSignal,
      timed_out: out.timedOut,
      duration_ms: out.durationMs,
      stdout: out.stdout,
      stdout_parsed: parsed,
      stderr: out.stderr,
      requests: fake.requests.slice(seen).map((q) => summarizeRequest(q, sc.fullBodies === true)),
    });
  }
  return steps;
}

/** The capture with this run's temp paths, fake URL and port replaced by placeholders, so captures diff cleanly. */
function scrubbed(capture: Capture, fake: ModelFake, tmp: TempHome): Capture {
  const scrub = (s: string): string =>
    s
      .replaceAll(tmp.home, '$HOME')
      .replaceAll(tmp.workdir, '$WORKDIR')
      .replaceAll(fake.url, '$FAKE_URL')
      .replaceAll(String(fake.port), '$PORT');
  const withScrubbedEnv: Capture = {
    ...capture,
    env: Object.fromEntries(Object.entries(capture.env).map(([k, v]) => [k, scrub(v)])),
    codex_config_toml: capture.codex_config_toml === null ? null : scrub(capture.codex_config_toml),
  };
  return JSON.parse(scrub(JSON.stringify(withScrubbedEnv))) as Capture;
}

function sessionIdOf(cli: CliName, parsed: unknown): string | null {
  if (cli === 'claude') {
    const id = isRecord(parsed) ? parsed['session_id'] : undefined;
    return typeof id === 'string' ? id : null;
  }
  if (!Array.isArray(parsed)) return null;
  for (const ev of parsed) {
    if (isRecord(ev) && ev['type'] === 'thread.started' && typeof ev['thread_id'] === 'string') return ev['thread_id'];
  }
  return null;
}

function summarizeRequest(q: RecordedRequest, full: boolean): unknown {
  let body = q.body;
  if (!full && isRecord(body)) {
    const b: Record<string, unknown> = { ...body };
    if (Array.isArray(b['tools'])) b['tools'] = `[${b['tools'].length} tools omitted]`;
    if (Array.isArray(b['system'])) b['system'] = `[${b['system'].length} system blocks omitted]`;
    if (typeof b['instructions'] === 'string') b['instructions'] = `[${b['instructions'].length} chars omitted]`;
    body = b;
  }
  return {
    method: q.method,
    path: q.path,
    query: q.query,
    headers: q.headers,
    body,
    answered_with: q.behaviour,
    received_at: new Date(q.receivedAt).toISOString(),
  };
}

function parseJsonOrNull(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return null;
  }
}

function parseJsonl(s: string): unknown[] | null {
  const lines = s.split('\n').filter((l) => l.trim().length > 0);
  const out: unknown[] = [];
  for (const l of lines) {
    const v = parseJsonOrNull(l);
    if (v === null) return null;
    out.push(v);
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
