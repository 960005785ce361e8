import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/**
 * PATH for a CLI child: this Node first (codex's bin/codex.js is a `#!/usr/bin/env node` script),
 * then the system directories. The caller's own PATH is not inherited on purpose.
 */
export function childPath(extraDirs: readonly string[] = []): string {
  return [...extraDirs, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);
}

export interface ClaudeEnvOptions {
  /** The fake's URL (ModelFake.url). */
  baseUrl: string;
  /** A private HOME; the CLI keeps its config, sessions and transcripts under <home>/.claude. */
  home: string;
  apiKey?: string;
  /** CLAUDE_CODE_MAX_RETRIES: retries the CLI's SDK makes on 408/409/429/5xx/connection errors (its default is 10). */
  maxRetries?: number;
  /** API_TIMEOUT_MS: per-request timeout of the CLI's SDK (its default is 600000). */
  apiTimeoutMs?: number;
  extra?: Record<string, string>;
}

/** The complete environment for the real `claude` CLI talking only to a fake (no inherited variables). */
export function claudeEnv(o: ClaudeEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: childPath(),
    HOME: o.home,
    CLAUDE_CONFIG_DIR: join(o.home, '.claude'),
    TMPDIR: join(o.home, 'tmp'),
    LANG: 'C.UTF-8',
    ANTHROPIC_BASE_URL: o.baseUrl,
    ANTHROPIC_API_KEY: o.apiKey ?? 'sk-ant-alter0-fake-key',
    // Turns off telemetry, error reporting, the bug command and the auto-updater: no traffic but the API.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: String(o.maxRetries ?? 0),
  };
  if (o.apiTimeoutMs !== undefined) env['API_TIMEOUT_MS'] = String(o.apiTimeoutMs);
  return { ...env, ...o.extra };
}

export interface ClaudeDaemonOptions {
  /** The claude CLI to run (cliPath('claude')). */
  bin: string;
  /** The fake's URL (ModelFake.url). */
  baseUrl: string;
  /** A private HOME and workdir (makeTempHome); the daemon's data dir is `data` beside the HOME. */
  tmp: TempHome;
}

/** What `alter0 serve` is started with: the fields of the test kit's DaemonOptions (this package does not import it). */
export interface ClaudeDaemon {
  data: string;
  /** alter0.toml: claudeEnv() as `[executor.env]`, the environment of every claude the daemon runs. */
  config: string;
  args: string[];
  cwd: string;
  /** The daemon's own environment: a private HOME and a PATH with this Node, nothing of the caller's. */
  env: Record<string, string>;
}

/**
 * The daemon that runs every job with the real claude CLI against a fake: one attempt per job (a failure is final),
 * no router spawned ahead, the log on stderr only. Spread it into the test kit's startDaemon.
 */
export function claudeDaemonOptions(o: ClaudeDaemonOptions): ClaudeDaemon {
  const env = claudeEnv({ baseUrl: o.baseUrl, home: o.tmp.home });
  const sets = {
    'executor.claude.bin': o.bin,
    'queue.max_attempts': 1,
    'router.prespawn': 'false',
    'log.file': 'false',
  };
  return {
    data: join(o.tmp.home, '..', 'data'),
    // JSON string literals are valid TOML basic strings.
    config: `[executor.env]\n${Object.entries(env)
      .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
      .join('\n')}\n`,
    args: ['--executor', 'claude', ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`])],
    cwd: o.tmp.workdir,
    env: { PATH: childPath(), HOME: o.tmp.home, TMPDIR: join(o.tmp.home, 'tmp'), LANG: 'C.UTF-8' },
  };
}

export interface CodexConfigOptions {
  /** The fake's URL (ModelFake.url); the provider's base_url is `${baseUrl}/v1`. */
  baseUrl: string;
  model?: string;
  /** The env var that holds the provider's key (codexEnv sets it). */
  envKey?: string;
  /** request_max_retries: retries of a failed HTTP request (codex default 4). */
  requestMaxRetries?: number;
  /** stream_max_retries: reconnects after a dropped or failed stream (codex default 5). */
  streamMaxRetries?: number;
  /** stream_idle_timeout_ms: how long codex waits for the next SSE event (codex default 300000). */
  streamIdleTimeoutMs?: number;
}

export const CODEX_PROVIDER_ID = 'alter0fake';
export const CODEX_ENV_KEY = 'ALTER0_FAKE_OPENAI_KEY';

/** config.toml for a codex model provider served by the fake, with bounded retries. */
export function codexConfigToml(o: CodexConfigOptions): string {
  const lines = [
    `model = ${JSON.stringify(o.model ?? 'gpt-5.5')}`,
    `model_provider = ${JSON.stringify(CODEX_PROVIDER_ID)}`,
    'check_for_update_on_startup = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[feedback]',
    'enabled = false',
    '',
    // The plugin marketplace sync resolves api.github.com and chatgpt.com at every start; off, codex
    // opens no socket but the provider's (verified with strace in test/network.test.ts).
    '[features]',
    'plugins = false',
    '',
    `[model_providers.${CODEX_PROVIDER_ID}]`,
    'name = "alter0 fake"',
    `base_url = ${JSON.stringify(`${o.baseUrl}/v1`)}`,
    `env_key = ${JSON.stringify(o.envKey ?? CODEX_ENV_KEY)}`,
    'wire_api = "responses"',
    `request_max_retries = ${o.requestMaxRetries ?? 0}`,
    `stream_max_retries = ${o.streamMaxRetries ?? 0}`,
    `stream_idle_timeout_ms = ${o.streamIdleTimeoutMs ?? 300_000}`,
    '',
  ];
  return lines.join('\n');
}

/** Writes config.toml into `codexHome` (creating it). */
export async function writeCodexConfig(codexHome: string, o: CodexConfigOptions): Promise<string> {
  await mkdir(codexHome, { recursive: true });
  const path = join(codexHome, 'config.toml');
  await writeFile(path, codexConfigToml(o), 'utf8');
  return path;
}

export interface CodexEnvOptions {
  /** A private HOME; CODEX_HOME is <home>/.codex unless given. */
  home: string;
  codexHome?: string;
  apiKey?: string;
  envKey?: string;
  extra?: Record<string, string>;
}

/** The complete environment for the real `codex` CLI talking only to a fake (no inherited variables). */
export function codexEnv(o: CodexEnvOptions): Record<string, string> {
  return {
    PATH: childPath(),
    HOME: o.home,
    CODEX_HOME: o.codexHome ?? join(o.home, '.codex'),
    TMPDIR: join(o.home, 'tmp'),
    LANG: 'C.UTF-8',
    [o.envKey ?? CODEX_ENV_KEY]: o.apiKey ?? 'sk-alter0-fake-key',
    ...o.extra,
  };
}

export interface TempHome {
  /** The private HOME (with tmp/ inside, used as TMPDIR). */
  home: string;
  /** A working directory outside any git repository. */
  workdir: string;
  remove(): Promise<void>;
}

/** A throwaway HOME and workdir so the real user's CLI config is never read or touched. */
export async function makeTempHome(prefix = 'alter0-fakes-'): Promise<TempHome> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const home = join(root, 'home');
  const workdir = join(root, 'work');
  await mkdir(join(home, 'tmp'), { recursive: true });
  await mkdir(workdir, { recursive: true });
  return { home, workdir, remove: () => rm(root, { recursive: true, force: true }) };
}
