import { Writable } from 'node:stream';
import type { ExecRequest, ExecResult, Executor, ExecutorProbe, Stage } from '@alter0/core';
import { ExecutorError, clampTimerMs } from '@alter0/core';
import { childEnv } from './child-env.js';
import { claudeArgv, claudeResult } from './claude-executor.js';
import type { ClaudeExecutorConfig, ExecutorDeps } from './config.js';
import { anchorProgram, createExecutor } from './create-executor.js';
import { redacting } from './redacting.js';
import { runProcess } from './run-process.js';
import type { RunOutcome, SpawnFn, SpawnedChild } from './run-process.js';
import { adapterRuntime } from './runtime.js';
import type { AdapterRuntime } from './runtime.js';

/*
 * A pre-spawned claude judge (router or closer). Measured against the pinned CLI (docs/executors.md, "Pre-spawned
 * router"): with `--input-format text` claude reads the whole prompt before it sets its session up, so a process
 * spawned early saves only ~0.4 s; with `--input-format stream-json` it sets everything up first and then waits
 * for the first message on stdin, so a process started while alter0 is idle answers a prompt with little more
 * than the model's latency. Each process serves one call (one message, then stdin is closed and it exits): no
 * conversation is shared between decisions.
 */

export interface WarmJudgeOptions {
  /** The stage whose calls use the warm process; others go straight to the normal executor. */
  stage: Extract<Stage, 'route' | 'close'>;
  /** A process unused this long is replaced (default 10 minutes), so a long-idle one never serves. */
  maxIdleMs?: number;
  /** Told when a warm process could not answer and a normal call was made instead (for the log). */
  onFallback?: (reason: string) => void;
}

export interface WarmJudgeStats {
  spawned: number;
  served: number;
  fallbacks: number;
}

const RESPAWN_POLL_MS = 200;
const RESPAWN_MAX_WAIT_MS = 60_000;

/** The niceness of a pre-spawned judge (coreutils `nice`): below the agents and the daemon. */
export const WARM_NICE = 10;

/** The process could not answer (died, gave no result): the caller makes a normal call instead. */
class NoAnswer extends Error {}

const DEFAULT_MAX_IDLE_MS = 10 * 60_000;
/** Backstop for runProcess's own timer; the idle timer and each call's own deadline end a process sooner. */
const LIFETIME_SLACK_MS = 60 * 60_000;

/** One pre-spawned process: started by runProcess (own group, registered, killed on abort), fed one prompt. */
class WarmProcess {
  readonly outcome: Promise<RunOutcome>;
  readonly abort = new AbortController();
  private stdin: Writable | null = null;
  private child: SpawnedChild | null = null;
  private idle: NodeJS.Timeout;
  timedOut = false;
  ended = false;

  constructor(
    readonly cwd: string,
    argv: readonly string[],
    env: Record<string, string>,
    rt: AdapterRuntime,
    maxIdleMs: number,
  ) {
    // runProcess writes its stdin at spawn; the gate takes that (empty) write and keeps the child's real stdin
    // open for the prompt.
    const spawn: SpawnFn = (program, args, options) => {
      const child = rt.runner.spawn(program, args, options);
      this.stdin = child.stdin;
      this.child = child;
      return gated(child);
    };
    this.outcome = runProcess(
      {
        argv,
        cwd,
        env,
        stdin: '',
        timeoutMs: maxIdleMs + LIFETIME_SLACK_MS,
        signal: this.abort.signal,
        label: 'claude (pre-spawned)',
        keepStdoutLine: isResultLine,
      },
      { ...rt.runner, spawn },
    );
    this.outcome.then(
      () => (this.ended = true),
      () => (this.ended = true),
    );
    this.idle = setTimeout(() => this.abort.abort(new Error('idle too long')), clampTimerMs(maxIdleMs));
    this.idle.unref();
  }

  /** The child's pid (its process group) once it runs. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Sends the one prompt and waits for the result; a process that gives none throws NoAnswer. */
  async ask(req: ExecRequest): Promise<ExecResult> {
    clearTimeout(this.idle);
    const stdin = this.stdin;
    if (this.ended || stdin === null || stdin.destroyed) throw new NoAnswer('the process had already ended');
    const onAbort = (): void => this.abort.abort(req.signal.reason);
    req.signal.addEventListener('abort', onAbort, { once: true });
    const deadline = setTimeout(() => {
      this.timedOut = true;
      this.abort.abort(new Error('timeout'));
    }, clampTimerMs(req.timeoutMs));
    try {
      stdin.on('error', () => undefined);
      stdin.end(JSON.stringify({ type: 'user', message: { role: 'user', content: req.prompt } }) + '\n');
      const out = await this.outcome.catch((err: unknown) => {
        if (this.timedOut) throw new ExecutorError('timeout', `claude: no answer within ${req.timeoutMs} ms`);
        if (req.signal.aborted) throw err;
        throw new NoAnswer(err instanceof Error ? err.message : String(err));
      });
      const line = out.stdout.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) throw new NoAnswer(`exit ${out.exitCode ?? out.exitSignal} without a result`);
      return claudeResult(req, { ...out, stdout: line });
    } finally {
      clearTimeout(deadline);
      req.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Ends the process (idle, stop); settles once its group is gone. */
  async kill(reason: string): Promise<void> {
    clearTimeout(this.idle);
    this.abort.abort(new Error(reason));
    await this.outcome.catch(() => undefined);
  }
}

/** claude's stream-json `result` event: the same object `--output-format json` prints (its keys in any order). */
function isResultLine(line: string): boolean {
  if (!line.includes('"result"')) return false;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'result';
  } catch {
    return false;
  }
}

/** The child as runProcess sees it, with a stdin that swallows runProcess's write. */
function gated(child: SpawnedChild): SpawnedChild {
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const view = {
    get pid() {
      return child.pid;
    },
    stdin: sink,
    stdout: child.stdout,
    stderr: child.stderr,
    once(event: never, listener: never) {
      child.once(event, listener);
      return view;
    },
    on(event: never, listener: never) {
      child.on(event, listener);
      return view;
    },
    off(event: never, listener: never) {
      child.off(event, listener);
      return view;
    },
  };
  return view;
}

/**
 * Owns at most one waiting claude judge process for one stage. `executor` runs that stage's calls on the waiting
 * process when there is one for the call's cwd (else, or when it fails to answer, as a normal call), then starts
 * the next one. Nothing is spawned before the first call (that call tells the cwd) or after `stop`.
 */
export class WarmJudge {
  /** The executor to hand the router or closer (redacted like createExecutor's). */
  readonly executor: Executor;
  readonly stats: WarmJudgeStats = { spawned: 0, served: 0, fallbacks: 0 };
  private readonly cold: Executor;
  private readonly rt: AdapterRuntime;
  private readonly config: ClaudeExecutorConfig;
  private readonly maxIdleMs: number;
  private waiting: WarmProcess | null = null;
  private readonly live = new Set<WarmProcess>();
  private stopped = false;

  constructor(
    config: ClaudeExecutorConfig,
    deps: ExecutorDeps,
    private readonly opts: WarmJudgeOptions,
  ) {
    // Redaction is applied once, around the warm path and the cold one alike.
    const { redact, ...plain } = deps;
    this.cold = createExecutor(config, plain);
    this.config = config.bin === undefined ? config : { ...config, bin: anchorProgram(config.bin) };
    this.rt = adapterRuntime(config, deps);
    this.maxIdleMs = opts.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
    const inner: Executor = {
      kind: 'claude',
      run: (req) => this.run(req),
      probe: (signal): Promise<ExecutorProbe> => this.cold.probe(signal),
    };
    this.executor = redact === undefined ? inner : redacting(inner, redact);
  }

  /** The pid (and process group) of the waiting process, if one is waiting. */
  waitingPid(): number | null {
    return this.waiting?.pid ?? null;
  }

  /** Starts a waiting process in `cwd` now (instead of after the first call). */
  start(cwd: string): void {
    if (this.waiting === null) this.spawn(cwd);
  }

  /** Kills every process it started (waiting or answering) and starts no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting = null;
    await Promise.all([...this.live].map((w) => w.kill('alter0 is stopping')));
  }

  private async run(req: ExecRequest): Promise<ExecResult> {
    // Another stage, or a call canceled before it starts (the normal path refuses it): the waiting one stays.
    if (req.stage !== this.opts.stage || req.signal.aborted) return this.cold.run(req);
    const w = this.waiting !== null && this.waiting.cwd === req.cwd && !this.waiting.ended ? this.waiting : null;
    if (this.waiting !== null && w === null) void this.waiting.kill('replaced');
    this.waiting = null;
    try {
      if (w === null) return await this.cold.run(req);
      try {
        const res = await w.ask(req);
        this.stats.served++;
        return res;
      } catch (err) {
        if (!(err instanceof NoAnswer)) throw err;
        this.stats.fallbacks++;
        this.opts.onFallback?.(err.message);
        return await this.cold.run(req);
      }
    } finally {
      // Replaced after use (never serves two calls), once no agent runs: the replacement's start-up (~1 s of CPU)
      // would otherwise compete with the very call the message was routed for.
      if (!req.signal.aborted) this.spawnWhenIdle(req.cwd);
    }
  }

  /**
   * Spawns the next waiting process when no other process group is live in the registry (no agent or other judge
   * running), checking every RESPAWN_POLL_MS, or after RESPAWN_MAX_WAIT_MS at the latest.
   */
  private spawnWhenIdle(cwd: string, since = Date.now()): void {
    if (this.stopped || this.waiting !== null) return;
    const busy = (this.rt.runner.groups?.size ?? 0) - this.live.size > 0;
    if (!busy || Date.now() - since >= RESPAWN_MAX_WAIT_MS) {
      this.spawn(cwd);
      return;
    }
    setTimeout(() => this.spawnWhenIdle(cwd, since), RESPAWN_POLL_MS).unref();
  }

  private spawn(cwd: string): void {
    if (this.stopped || this.waiting !== null) return;
    // At a lower CPU priority (`nice`, inherited by every thread of the CLI): its start-up runs while the message it
    // was replaced for is still being executed, and on a small machine it must not slow that call down. Waiting and
    // answering cost it next to no CPU, so the priority does not slow the next decision.
    const argv = [
      'nice',
      '-n',
      String(WARM_NICE),
      ...warmArgv(claudeArgv(this.config, { stage: this.opts.stage, sessionId: null })),
    ];
    const env = childEnv(
      this.rt.baseEnv,
      this.rt.extraEnv,
      { stage: this.opts.stage, taskId: null, jobId: null, sessionId: null },
      this.rt.envFilter,
    );
    const w = new WarmProcess(cwd, argv, env, this.rt, this.maxIdleMs);
    this.stats.spawned++;
    this.waiting = w;
    this.live.add(w);
    void w.outcome
      .catch(() => undefined)
      .finally(() => {
        this.live.delete(w);
        if (this.waiting !== w) return;
        this.waiting = null;
        // Replaced when it idled out; one that died on its own waits for the next call (no respawn loop).
        if (w.abort.signal.aborted) this.spawn(cwd);
      });
  }
}

/** The judge argv in stream-json mode: claude then sets up before it reads its first message. */
export function warmArgv(judgeArgv: readonly string[]): string[] {
  const argv = [...judgeArgv];
  const at = argv.indexOf('--output-format');
  if (at < 0 || argv[at + 1] !== 'json')
    throw new Error('warmArgv: expected claude judge argv with --output-format json');
  argv.splice(at, 2, '--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose');
  return argv;
}
