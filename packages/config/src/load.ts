import * as v from 'valibot';
import { errorMessage } from '@alter0/core';
import { type Assignment, checkAssignment, tableAssignments } from './assign.js';
import { envAssignments } from './env.js';
import { readConfigFile } from './file.js';
import { type FlagOverrides, flagAssignments } from './flags.js';
import { isLoopbackHost, splitListen } from './listen.js';
import { chooseConfigFile, defaultDataDir } from './paths.js';
import { type Origin, Problems, type SourceInfo } from './problems.js';
import { type Config, ConfigSchema, type RawConfig, RawConfigSchema } from './schema.js';
import { readBotTokenFile, readTokenFile } from './token.js';
import { describeSchema } from './tree.js';
import path from 'node:path';

export interface LoadConfigOptions {
  /** Config file to read; null = none; undefined = $ALTER0_CONFIG, else <data_dir>/alter0.toml if it exists. */
  file?: string | null;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  flags?: FlagOverrides;
  /** Relative paths from env and flags resolve here. Defaults to process.cwd(). */
  cwd?: string;
  /** More ALTER0_ variable names to ignore, besides RESERVED_ENV_NAMES. */
  ignoreEnv?: readonly string[];
  /**
   * Apply the rules about token_file (required off loopback and with public_url/allowed_hosts; the file must be
   * safe). Default true; `alter0 token init` turns them off because it is how the token file comes to exist.
   */
  tokenRules?: boolean;
}

export interface LoadedConfig {
  config: Config;
  /** Where each setting came from, by dotted key (one entry per leaf; executor.env has one per variable). */
  sources: Record<string, SourceInfo>;
  /** The config file that was read (absolute), or null. */
  file: string | null;
}

/**
 * Builds the configuration from defaults < config file < ALTER0_* environment < flags, validating
 * every source against the one schema. Throws ConfigError listing every problem, each as
 * `<file | variable | flag>: <key>: <what is wrong>`.
 */
export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  // Listed in precedence order (file, env, flags) although env and flags are read first.
  const problems = new Problems();
  const envProblems = new Problems();
  const flagProblems = new Problems();

  const checked = (as: Assignment[], problems: Problems): Checked[] => {
    const out: Checked[] = [];
    for (const a of as) {
      const r = checkAssignment(a, problems, env);
      if (r.ok) out.push({ path: a.path, value: r.value, origin: a.origin });
    }
    return out;
  };

  const flags = checked(flagAssignments(opts.flags ?? {}, cwd, flagProblems), flagProblems);
  const fromEnv = checked(envAssignments(env, { cwd, ignore: opts.ignoreEnv ?? [] }, envProblems), envProblems);
  const dataDirDefault = defaultDataDir(env);
  const defaults: Checked[] = [
    {
      path: ['data_dir'],
      value: dataDirDefault.path,
      origin: { source: 'default', detail: dataDirDefault.how, label: 'default', baseDir: cwd },
    },
  ];
  // The implicit config file lives in the data dir, so env and flags may move it.
  const earlyDataDir = lastString([...defaults, ...fromEnv, ...flags], 'data_dir') ?? dataDirDefault.path;
  const choice = chooseConfigFile(opts.file, env, earlyDataDir, cwd);
  let fromFile: Checked[] = [];
  if (choice !== null) {
    const table = readConfigFile(choice, problems);
    if (table !== undefined) {
      const origin: Origin = {
        source: 'file',
        detail: choice.path,
        label: choice.path,
        baseDir: path.dirname(choice.path),
      };
      fromFile = checked(tableAssignments(table, origin, problems), problems);
    }
  }
  problems.absorb(envProblems);
  problems.absorb(flagProblems);
  problems.throwIfAny();

  const merged: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  for (const a of [...defaults, ...fromFile, ...fromEnv, ...flags]) {
    setPath(merged, a.path, a.value);
    origins.set(a.path.join('.'), a.origin);
  }
  const labelOf = (key: string): string => origins.get(key)?.label ?? 'default';

  const parsed = v.safeParse(ConfigSchema, merged);
  if (!parsed.success) {
    // Every value was checked already; this only fires if the schema and the layer checks disagree.
    for (const i of parsed.issues) {
      const key = v.getDotPath(i) ?? '';
      problems.add(labelOf(key), key, i.message);
    }
    problems.throwIfAny();
    throw new Error('unreachable: configuration failed to parse without reporting a problem');
  }
  const config = parsed.output;
  const raw = v.parse(RawConfigSchema, merged);
  crossCheck(config, raw, labelOf, problems, opts.tokenRules ?? true);
  problems.throwIfAny();

  return { config, sources: collectSources(raw, origins), file: choice?.path ?? null };
}

interface Checked {
  path: string[];
  value: unknown;
  origin: Origin;
}

function lastString(as: readonly Checked[], key: string): string | undefined {
  let found: string | undefined;
  for (const a of as) if (a.path.join('.') === key && typeof a.value === 'string') found = a.value;
  return found;
}

function setPath(obj: Record<string, unknown>, p: readonly string[], value: unknown): void {
  let cur = obj;
  for (let i = 0; i < p.length - 1; i++) {
    const k = p[i] ?? '';
    const next = cur[k];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) cur = next as Record<string, unknown>;
    else {
      const fresh: Record<string, unknown> = {};
      cur[k] = fresh;
      cur = fresh;
    }
  }
  cur[p[p.length - 1] ?? ''] = value;
}

/** Rules that span keys; each problem is blamed on the source of the key that made it a problem. */
function crossCheck(
  config: Config,
  raw: RawConfig,
  labelOf: (key: string) => string,
  problems: Problems,
  tokenRules: boolean,
): void {
  if (config.executor.command.argv.length === 0) {
    const users = [
      ['executor.default', raw.executor.default],
      ['router.executor', raw.router.executor],
      ['closer.executor', raw.closer.executor],
    ] as const;
    for (const [key, kind] of users) {
      if (kind === 'command') {
        problems.add(
          labelOf(key),
          key,
          'selects the "command" executor but executor.command.argv is empty; set [executor.command] argv = ["program", "arg"], ' +
            'ALTER0_EXECUTOR__COMMAND__ARGV=\'["program","arg"]\' or --command',
        );
      }
    }
  }
  judgeModelProblems(config, labelOf, problems);
  telegramProblems(config, labelOf, problems);
  if (tokenRules) tokenRuleProblems(config, labelOf, problems);
  if (config.api.wait_ms > config.api.max_wait_ms) {
    problems.add(
      labelOf('api.wait_ms'),
      'api.wait_ms',
      `${config.api.wait_ms} is above api.max_wait_ms (${config.api.max_wait_ms}); lower it or raise api.max_wait_ms`,
    );
  }
  if (config.queue.backoff_initial_ms > config.queue.backoff_max_ms) {
    problems.add(
      labelOf('queue.backoff_initial_ms'),
      'queue.backoff_initial_ms',
      `${config.queue.backoff_initial_ms} is above queue.backoff_max_ms (${config.queue.backoff_max_ms}); lower it or raise queue.backoff_max_ms`,
    );
  }
}

/** A judge's model and args are CLI flags: the command executor has neither. */
function judgeModelProblems(config: Config, labelOf: (key: string) => string, problems: Problems): void {
  for (const stage of ['router', 'closer'] as const) {
    const c = config[stage];
    if (c.executor !== 'command') continue;
    if (c.model !== '')
      problems.add(
        labelOf(`${stage}.model`),
        `${stage}.model`,
        'is set but the command executor takes no model; use claude or codex, or leave it empty',
      );
    if (c.args !== undefined)
      problems.add(
        labelOf(`${stage}.args`),
        `${stage}.args`,
        'is set but the command executor takes no args (set executor.command.argv); remove it',
      );
  }
}

/** An enabled Telegram channel needs its token and an allowlist: without one, anyone who finds the bot could run agents. */
function telegramProblems(config: Config, labelOf: (key: string) => string, problems: Problems): void {
  const t = config.telegram;
  if (!t.enabled) return;
  if (t.token_file === '') {
    problems.add(
      labelOf('telegram.enabled'),
      'telegram.token_file',
      'is empty but telegram.enabled is true; write the token @BotFather gave into a file (umask 077) and set telegram.token_file to it',
    );
  } else {
    try {
      readBotTokenFile(t.token_file);
    } catch (err) {
      problems.add(labelOf('telegram.token_file'), 'telegram.token_file', errorMessage(err));
    }
  }
  if (t.allowed_chat_ids.length === 0) {
    problems.add(
      labelOf('telegram.enabled'),
      'telegram.allowed_chat_ids',
      'is empty but telegram.enabled is true; list the chat ids allowed to use the bot (your own chat id: see docs/channels.md)',
    );
  }
}

const TOKEN_HOWTO = 'run `alter0 token init` (it creates the token file and sets token_file)';

/**
 * Who can reach the API decides whether it needs a token. Off loopback anyone on the network can; with public_url
 * or allowed_hosts the owner is putting it behind a reverse proxy, which connects from loopback, so a loopback
 * listen protects nothing there either. A token file that is set must be safe to rely on.
 */
function tokenRuleProblems(config: Config, labelOf: (key: string) => string, problems: Problems): void {
  if (config.token_file === '') {
    const { host } = splitListen(config.listen);
    if (!isLoopbackHost(host)) {
      problems.add(
        labelOf('listen'),
        'listen',
        `${host} is not a loopback address, so clients must present a token; ${TOKEN_HOWTO}, or set token_file to a file (mode 0600) holding at least 32 random characters`,
      );
    }
    const proxied = [
      ['public_url', config.public_url !== ''],
      ['allowed_hosts', config.allowed_hosts.length > 0],
    ] as const;
    for (const [key, set] of proxied) {
      if (!set) continue;
      problems.add(
        labelOf(key),
        key,
        `is set, so alter0 is reached through a reverse proxy or another name, and a proxy connects from loopback: without a token anyone who reaches the proxy uses the API; ${TOKEN_HOWTO}, or set token_file`,
      );
    }
    return;
  }
  try {
    readTokenFile(config.token_file);
  } catch (err) {
    problems.add(labelOf('token_file'), 'token_file', errorMessage(err));
  }
}

const DERIVED: Readonly<Record<string, string>> = {
  'router.executor': 'executor.default',
  'closer.executor': 'executor.default',
  'router.model': "the executor's model",
  'router.args': "the executor's args",
  'closer.model': "the executor's model",
  'closer.args': "the executor's args",
  'log.dir': '<data_dir>/logs',
  'backup.dir': '<data_dir>/backups',
};

function collectSources(raw: RawConfig, origins: ReadonlyMap<string, Origin>): Record<string, SourceInfo> {
  const out: Record<string, SourceInfo> = {};
  const info = (key: string): SourceInfo => {
    const o = origins.get(key);
    if (o === undefined) return { source: 'default' };
    return o.detail === undefined ? { source: o.source } : { source: o.source, detail: o.detail };
  };
  const walk = (schema: Parameters<typeof describeSchema>[0], value: unknown, at: string[]): void => {
    const node = describeSchema(schema);
    const key = at.join('.');
    if (node.kind === 'section') {
      const obj = (value ?? {}) as Record<string, unknown>;
      for (const [k, s] of node.entries) walk(s, obj[k], [...at, k]);
    } else if (node.kind === 'record') {
      const keys = Object.keys(value ?? {});
      if (keys.length === 0) out[key] = { source: 'default' };
      for (const k of keys) out[`${key}.${k}`] = info(`${key}.${k}`);
    } else {
      const derived = DERIVED[key];
      out[key] =
        derived !== undefined && (value === '' || value === undefined)
          ? { source: info(key).source, detail: `empty: ${derived}` }
          : info(key);
    }
  };
  walk(RawConfigSchema, raw, []);
  return out;
}
