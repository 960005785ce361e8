import path from 'node:path';
import * as v from 'valibot';
import { EXECUTOR_KINDS, MAX_DURATION_S } from '@alter0/core';
import { isDuration, parseDuration } from './duration.js';
import { splitListen } from './listen.js';

/*
 * The one schema for alter0's configuration. Keys are snake_case and the TypeScript type mirrors
 * them, so docs/configuration.md, the TOML file and the code all use the same names.
 * Every object is strict (unknown keys are errors) and every key has a default except data_dir,
 * whose default depends on the environment and is supplied by loadConfig.
 */

const str = v.string('expected a string');
const nonEmpty = v.pipe(str, v.minLength(1, 'must not be empty'));
const int = (min: number) =>
  v.pipe(
    v.number('expected a number'),
    v.integer('expected a whole number'),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(Number.MAX_SAFE_INTEGER, 'is too large'),
  );
/*
 * Durations that become timers (waits, timeouts, intervals) stop at MAX_DURATION_S (7 days): Node's timers hold at
 * most ~24.8 days and fire at once beyond it. Ages compared with a clock (retention, stale_after) are not timers and
 * only need to stay far inside safe integers.
 */
const MAX_DURATION_MS = MAX_DURATION_S * 1000;
const MAX_AGE_DAYS = 3650;
const ms = (min: number) =>
  v.pipe(
    int(min),
    v.maxValue(
      MAX_DURATION_MS,
      `must be at most ${MAX_DURATION_MS} (7 days in milliseconds): longer waits overflow timers`,
    ),
  );
const seconds = (min: number) =>
  v.pipe(
    int(min),
    v.maxValue(MAX_DURATION_S, `must be at most ${MAX_DURATION_S} (7 days in seconds): longer waits overflow timers`),
  );
const fraction = v.pipe(
  v.number('expected a number'),
  v.minValue(0, 'must be between 0 and 1'),
  v.maxValue(1, 'must be between 0 and 1'),
);
const bool = v.boolean('expected true or false');
const duration = (maxMs: number, limit: string) =>
  v.pipe(
    str,
    v.check(isDuration, 'expected a duration: a number and one unit of ms, s, m, h, d, w (e.g. "30s", "24h", "14d")'),
    v.check((s) => !isDuration(s) || parseDuration(s) <= maxMs, `must be at most ${limit}`),
  );
/** A wait or interval: becomes a timer. */
const timerDuration = duration(MAX_DURATION_MS, '7d: longer waits overflow timers');
/** An age compared with the clock. */
const ageDuration = duration(MAX_AGE_DAYS * 86_400_000, `${MAX_AGE_DAYS}d (10 years)`);
const stringList = v.array(str, 'expected an array of strings');
const executorKind = v.picklist(EXECUTOR_KINDS, `expected one of ${EXECUTOR_KINDS.map((k) => `"${k}"`).join(', ')}`);
const executorOrDefault = v.picklist(
  ['', ...EXECUTOR_KINDS],
  `expected "" (= executor.default) or one of ${EXECUTOR_KINDS.map((k) => `"${k}"`).join(', ')}`,
);
/** winston-daily-rotate-file's size syntax: a number and k, m or g. */
const size = v.pipe(str, v.regex(/^[1-9]\d*[kmg]$/, 'expected a size: a number and k, m or g (e.g. "500k", "20m")'));
/** winston-daily-rotate-file's retention: a file count or an age in days. Numbers are accepted and kept as text. */
const maxFiles = v.pipe(
  v.union([str, v.pipe(v.number(), v.integer())], 'expected a file count such as "10" or an age such as "14d"'),
  v.transform((x): string => String(x)),
  v.regex(/^[1-9]\d*d?$/, 'expected a file count such as "10" or an age in days such as "14d"'),
);
const listen = v.pipe(
  str,
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      splitListen(dataset.value);
    } catch (err) {
      addIssue({ message: err instanceof Error ? err.message : String(err) });
    }
  }),
);
const hostName = v.pipe(
  str,
  v.regex(
    /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?)$/,
    'expected a host name or IP address without scheme or port (e.g. "alter0.lan", "[fd00::1]")',
  ),
);
const httpUrl = v.pipe(
  str,
  v.check(
    (s) => s === '' || (URL.canParse(s) && /^https?:$/.test(new URL(s).protocol)),
    'expected "" or an http(s) URL such as "https://alter0.example.net"',
  ),
);
const apiRoot = v.pipe(
  str,
  v.check((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'expected an http(s) URL'),
);
const chatId = v.pipe(
  v.number('expected an integer chat id'),
  v.integer('expected an integer chat id'),
  v.check((n) => n !== 0, 'a chat id is never 0'),
);
const permissionRule = v.pipe(
  str,
  v.regex(
    /^[A-Za-z_][\w-]*(\([^()]*\))?$/,
    'expected a permission rule: a tool name, or a tool name and its argument in parentheses (e.g. "Read", "Bash(git status:*)")',
  ),
);
const envName = v.pipe(
  str,
  v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)'),
);
/** A variable name pattern: `*` any run, `?` one character; a leading `!` keeps what earlier patterns dropped. */
const envPattern = v.pipe(
  str,
  v.regex(
    /^!?[A-Za-z0-9_*?]+$/,
    'expected a variable name pattern such as "AWS_*", "*_TOKEN" or "!ANTHROPIC_*" (letters, digits, _, * and ?; a leading ! keeps)',
  ),
);

/**
 * Inherited variables agents do not get (executor.env_drop): cloud and forge credentials, the SSH and GPG agents,
 * and anything named like a token, secret, password or key, except the agent CLIs' own login variables. The last
 * matching pattern wins. Configured `executor.env` entries are always passed.
 */
export const DEFAULT_ENV_DROP: readonly string[] = [
  'AWS_*',
  'AZURE_*',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'CLOUDSDK_*',
  'DIGITALOCEAN_*',
  'SSH_AUTH_SOCK',
  'GPG_AGENT_INFO',
  '*_TOKEN',
  '*_SECRET',
  '*_SECRET_*',
  '*_PASSWORD',
  '*_API_KEY',
  '*_ACCESS_KEY*',
  '*_PRIVATE_KEY',
  '*_CREDENTIALS',
  '!ANTHROPIC_*',
  '!CLAUDE_*',
  '!OPENAI_*',
  '!CODEX_*',
];

const table = <E extends v.ObjectEntries>(entries: E) => v.strictObject(entries, 'expected a table');

const cliExecutor = (bin: string) =>
  v.optional(
    table({
      bin: v.optional(nonEmpty, bin),
      args: v.optional(stringList, []),
      model: v.optional(str, ''),
    }),
    {},
  );

/**
 * The router's and closer's own model and args, so a small fast model can judge while a large one works.
 * Empty model / absent args: the executor's own (`executor.<kind>.model` / `.args`). No default for args, so
 * "absent" and "[]" (no args at all) stay different.
 */
const judgeModel = {
  model: v.optional(str, ''),
  args: v.optional(stringList),
};

export const RawConfigSchema = v.strictObject(
  {
    data_dir: nonEmpty,
    listen: v.optional(listen, '127.0.0.1:7070'),
    allowed_hosts: v.optional(v.array(hostName, 'expected an array of host names'), []),
    token_file: v.optional(str, ''),
    public_url: v.optional(httpUrl, ''),
    api: v.optional(
      table({
        wait_ms: v.optional(ms(0), 30_000),
        max_wait_ms: v.optional(ms(1), 600_000),
        body_limit_bytes: v.optional(int(1), 1_048_576),
        max_event_streams: v.optional(int(1), 32),
      }),
      {},
    ),
    executor: v.optional(
      table({
        default: v.optional(executorKind, 'claude'),
        claude: cliExecutor('claude'),
        codex: cliExecutor('codex'),
        command: v.optional(table({ argv: v.optional(stringList, []) }), {}),
        env: v.optional(v.record(envName, str, 'expected a table of strings'), {}),
        env_drop: v.optional(v.array(envPattern, 'expected an array of variable name patterns'), [...DEFAULT_ENV_DROP]),
        kill_grace_ms: v.optional(ms(1), 3_000),
        max_output_bytes: v.optional(int(1), 4_194_304),
      }),
      {},
    ),
    router: v.optional(
      table({
        executor: v.optional(executorOrDefault, ''),
        template: v.optional(nonEmpty, 'v2'),
        threshold: v.optional(fraction, 0.55),
        max_candidates: v.optional(int(1), 8),
        timeout_s: v.optional(seconds(1), 120),
        ...judgeModel,
        prespawn: v.optional(bool, true),
        /** Tasks closed this recently are candidates too (marked closed); choosing one reopens it. "0s": open tasks only. */
        closed_lookback: v.optional(ageDuration, '7d'),
      }),
      {},
    ),
    closer: v.optional(
      table({
        executor: v.optional(executorOrDefault, ''),
        template: v.optional(nonEmpty, 'v1'),
        threshold: v.optional(fraction, 0.7),
        timeout_s: v.optional(seconds(1), 120),
        enabled: v.optional(bool, true),
        stale_after: v.optional(ageDuration, '14d'),
        ...judgeModel,
      }),
      {},
    ),
    queue: v.optional(
      table({
        interactive_workers: v.optional(int(1), 2),
        background_workers: v.optional(int(1), 1),
        job_timeout_s: v.optional(seconds(1), 1_800),
        max_attempts: v.optional(int(1), 3),
        backoff_initial_ms: v.optional(ms(0), 2_000),
        backoff_max_ms: v.optional(ms(0), 120_000),
        backoff_jitter: v.optional(fraction, 0.2),
        max_depth: v.optional(int(1), 10_000),
      }),
      {},
    ),
    shutdown: v.optional(
      table({
        drain_timeout_s: v.optional(seconds(0), 30),
      }),
      {},
    ),
    log: v.optional(
      table({
        level: v.optional(
          v.picklist(['debug', 'info', 'warn', 'error'], 'expected "debug", "info", "warn" or "error"'),
          'info',
        ),
        dir: v.optional(str, ''),
        max_size: v.optional(size, '20m'),
        max_files: v.optional(maxFiles, '14d'),
        file: v.optional(bool, true),
      }),
      {},
    ),
    status: v.optional(
      table({
        queue_degraded_after: v.optional(timerDuration, '10m'),
        executor_degraded_after_failures: v.optional(int(1), 3),
      }),
      {},
    ),
    backup: v.optional(
      table({
        interval: v.optional(timerDuration, '24h'),
        keep: v.optional(int(1), 7),
        dir: v.optional(str, ''),
      }),
      {},
    ),
    telegram: v.optional(
      table({
        enabled: v.optional(bool, false),
        /** A file (mode 0600) holding the bot token @BotFather gave. */
        token_file: v.optional(str, ''),
        /** Chats whose messages are taken; updates from any other chat are ignored. Required when enabled. */
        allowed_chat_ids: v.optional(v.array(chatId, 'expected an array of chat ids (integers)'), []),
        api_url: v.optional(apiRoot, 'https://api.telegram.org'),
      }),
      {},
    ),
    channels: v.optional(
      table({
        /** First wait before a failed channel is started again; doubles per failure in a row. */
        retry_initial: v.optional(timerDuration, '1s'),
        /** The longest wait between restarts, and the pace at which a channel that needs the owner is retried. */
        retry_max: v.optional(timerDuration, '5m'),
      }),
      {},
    ),
    notify: v.optional(
      table({
        /** POSTed JSON `{event, job_id, task_id, state, reply_excerpt, error, dedup_key}` when a job nobody waited for ends. */
        webhook_urls: v.optional(v.array(apiRoot, 'expected an array of http(s) URLs'), []),
        /** POSTed a plain-text line instead (ntfy-style topics). */
        text_urls: v.optional(v.array(apiRoot, 'expected an array of http(s) URLs'), []),
        /** Attempts per notice before it is given up (an event says so). */
        max_attempts: v.optional(int(1), 12),
        /** Wait after a notice's first failed attempt; doubles per attempt up to retry_max. */
        retry_initial: v.optional(timerDuration, '5s'),
        retry_max: v.optional(timerDuration, '10m'),
        timeout_s: v.optional(seconds(1), 10),
      }),
      {},
    ),
    memory: v.optional(
      table({
        /** The most characters of memory placed before a new session's first message (whole entries; the rest is cut and logged). */
        max_prompt_chars: v.optional(int(0), 4000),
        template: v.optional(nonEmpty, 'v1'),
      }),
      {},
    ),
    schedules: v.optional(
      table({
        /** After downtime: "once" runs a schedule's missed firings as one catch-up run; "skip" drops them. */
        missed: v.optional(v.picklist(['once', 'skip'], 'expected "once" or "skip"'), 'once'),
        /** A schedule whose jobs failed this many times in a row is paused (an event and its status say why). */
        max_consecutive_failures: v.optional(int(1), 5),
      }),
      {},
    ),
    maintenance: v.optional(
      table({
        /** How often the retention job deletes what `[retention]` no longer keeps. */
        retention_every: v.optional(timerDuration, '24h'),
        /** How often the WAL is checkpointed (TRUNCATE), so it stays small between restarts. */
        checkpoint_every: v.optional(timerDuration, '1h'),
        /** How often open tasks untouched for `closer.stale_after` are closed as stale. */
        stale_sweep_every: v.optional(timerDuration, '1h'),
      }),
      {},
    ),
    stats: v.optional(
      table({
        /** How often the stats rollup recomputes the current and previous hour of `stats_hourly` (docs/operations.md). */
        rollup_every: v.optional(timerDuration, '5m'),
      }),
      {},
    ),
    approvals: v.optional(
      table({
        /** ask: the owner decides each tool use a rule does not cover; allow_all / deny_all: nobody is asked. */
        mode: v.optional(
          v.picklist(['ask', 'allow_all', 'deny_all'], 'expected "ask", "allow_all" or "deny_all"'),
          'ask',
        ),
        /** Tool uses that never ask, in claude's rule syntax: "Read", "Bash(git status:*)", "Bash(npm test)". */
        allow: v.optional(v.array(permissionRule, 'expected an array of permission rules'), []),
        /** An approval nobody answered in this time is denied. */
        timeout: v.optional(timerDuration, '30m'),
      }),
      {},
    ),
    retention: v.optional(
      table({
        closed_tasks: v.optional(ageDuration, '90d'),
        decisions: v.optional(ageDuration, '90d'),
        events: v.optional(ageDuration, '30d'),
        finished_jobs: v.optional(ageDuration, '30d'),
        /** The owner's memory notes not changed for this long are removed; "never" keeps them until removed. */
        memory: v.optional(v.union([v.literal('never'), ageDuration], 'expected "never" or a duration'), 'never'),
        /** The hourly stats and usage rollups (`stats_hourly`, `usage_hourly`) older than this. */
        stats: v.optional(ageDuration, '90d'),
      }),
      {},
    ),
  },
  'expected a table',
);

export type RawConfig = v.InferOutput<typeof RawConfigSchema>;

/** Fills the "empty = derived" keys so consumers never re-implement those rules. */
function resolveDerived(raw: RawConfig) {
  return {
    ...raw,
    router: { ...raw.router, executor: raw.router.executor || raw.executor.default },
    closer: { ...raw.closer, executor: raw.closer.executor || raw.executor.default },
    log: { ...raw.log, dir: raw.log.dir || path.join(raw.data_dir, 'logs') },
    backup: { ...raw.backup, dir: raw.backup.dir || path.join(raw.data_dir, 'backups') },
  };
}

export const ConfigSchema = v.pipe(RawConfigSchema, v.transform(resolveDerived));

/**
 * The validated, fully defaulted configuration. Same names as the file; derived values are
 * filled in: router/closer.executor name an executor, log.dir and backup.dir are absolute paths.
 */
export type Config = v.InferOutput<typeof ConfigSchema>;

/** Keys whose values are file system paths: relative values resolve against the config file's folder (file) or the working directory (env, flags). */
export const PATH_KEYS: ReadonlySet<string> = new Set([
  'data_dir',
  'token_file',
  'log.dir',
  'backup.dir',
  'telegram.token_file',
]);
