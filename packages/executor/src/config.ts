import type { ProcessGroups } from './process-group.js';
import type { SpawnFn } from './run-process.js';

/** Options every executor kind accepts. */
export interface ExecutorCommonOptions {
  /** Time between SIGTERM and SIGKILL to the child's process group (default 3000 ms). */
  killGraceMs?: number;
  /** Stdout cap; more is a bad_output error (default 4 MiB). */
  maxStdoutBytes?: number;
  /** Extra environment for the child, e.g. ANTHROPIC_BASE_URL; wins over the inherited environment. */
  env?: Record<string, string>;
  /**
   * Inherited variables the child does not get (`executor.env_drop`): `*`/`?` globs, a leading `!` keeps again,
   * the last match wins. alter0's own secrets (ALTER0_TOKEN …) are dropped whatever this says. `env` is always passed.
   */
  envDrop?: readonly string[];
}

export interface ClaudeExecutorConfig extends ExecutorCommonOptions {
  kind: 'claude';
  /** Program name on PATH or an absolute path (default "claude"). */
  bin?: string;
  /** Appended to every call, e.g. ["--permission-mode", "acceptEdits"]. */
  args?: string[];
  /** Passed as --model; empty or absent leaves the CLI's default. */
  model?: string;
}

export interface CodexExecutorConfig extends ExecutorCommonOptions {
  kind: 'codex';
  /** Program name on PATH or an absolute path (default "codex"). */
  bin?: string;
  /** Inserted after alter0's own `codex exec` options (before `resume`), e.g. ["-c", "model_provider=\"x\""]. */
  args?: string[];
  /** Passed as --model; empty or absent leaves the CLI's default. */
  model?: string;
  /**
   * approvals.mode. `codex exec` cannot ask anyone, so the mode becomes its sandbox for execute runs: ask →
   * workspace-write (what it may do unasked, nothing more), allow_all → danger-full-access, deny_all → read-only.
   */
  approvals?: 'ask' | 'allow_all' | 'deny_all';
}

export interface CommandExecutorConfig extends ExecutorCommonOptions {
  kind: 'command';
  /** The program and its arguments; no shell is involved (use ["sh", "-c", "..."] to get one). */
  argv: string[];
}

export type ExecutorConfig = ClaudeExecutorConfig | CodexExecutorConfig | CommandExecutorConfig;

/** What the executors take from their surroundings, injected so tests and the daemon control it. */
export interface ExecutorDeps {
  /** Environment the child inherits (default: process.env). */
  baseEnv?: Readonly<Record<string, string | undefined>>;
  /** Registry of live process groups, for the daemon's shutdown kill. */
  groups?: ProcessGroups;
  /** Timeout for `probe` (default 10000 ms). */
  probeTimeoutMs?: number;
  /** After the child exits, how long to wait for its pipes to close (default 250 ms). */
  drainMs?: number;
  /** Stderr bytes kept (default 16 KiB). */
  stderrTailBytes?: number;
  /**
   * Hides secrets in what a run hands back (stderr tail, error messages, probe errors) before anyone stores or
   * prints it: the daemon's one redactor, built from the config. Default: nothing is hidden.
   */
  redact?: (text: string) => string;
  /** Inherited variables holding one of these values are not passed (the API token, under whatever name). */
  secretValues?: readonly string[];
  /** Starts each child (default: node's spawn in this process; the daemon passes its `Spawner`'s). */
  spawn?: SpawnFn;
}
