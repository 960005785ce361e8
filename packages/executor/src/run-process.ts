import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ExecutorError, clampTimerMs, errorMessage } from '@alter0/core';
import { JOB_ID_ENV } from './child-env.js';
import { RunGroups, groupAlive, isErrno, signalGroup } from './process-group.js';
import type { ProcessGroups } from './process-group.js';

/** One program run: no shell, own process group, prompt on stdin. */
export interface RunSpec {
  /** argv[0] is the program (a name looked up on PATH, or a path). */
  argv: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  stdin: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Name used in error messages ("claude", "codex", or the command's program). */
  label: string;
  /** Sees every complete stderr line, even those that fall out of the kept tail. */
  onStderrLine?: (line: string) => void;
  /**
   * Keep only the stdout lines this accepts; dropped lines do not count against the cap (so a
   * long codex run's command output does not crowd out its reply). Unset keeps all of stdout.
   */
  keepStdoutLine?: (line: string) => boolean;
}

export interface RunnerOptions {
  /** Time between SIGTERM and SIGKILL to the group. */
  killGraceMs: number;
  /** Stdout beyond this is an error (bad_output): the reply would be cut. */
  maxStdoutBytes: number;
  /** Only the last bytes of stderr are kept. */
  stderrTailBytes: number;
  /** After the child exits, how long to wait for its pipes to close (grandchildren may hold them). */
  drainMs: number;
  /** Where live groups are registered for a shutdown-time kill; null to not track. */
  groups: ProcessGroups | null;
  /** Starts the child: node's spawn in this process, or a `Spawner`'s (off the event loop). */
  spawn: SpawnFn;
}

/** What a run needs of a started child; node's ChildProcess is one, a `Spawner`'s RemoteChild another. */
export interface SpawnedChild {
  /** Set once the child runs ('spawn' has fired); undefined before and after a failed spawn. */
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  once(event: 'spawn', listener: () => void): this;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  off(event: 'spawn', listener: () => void): this;
  off(event: 'error', listener: (err: Error) => void): this;
}

/** The options every run spawns with: no shell, own process group (detached), three pipes. */
export interface SpawnRequest {
  cwd: string;
  env: Readonly<Record<string, string>>;
  detached: true;
  stdio: ['pipe', 'pipe', 'pipe'];
}

export type SpawnFn = (program: string, args: readonly string[], options: SpawnRequest) => SpawnedChild;

/** Node's spawn, in this process: it blocks the event loop for the fork+exec (10–30 ms in a big process). */
export const spawnInProcess: SpawnFn = (program, args, options) =>
  spawn(program, args, { ...options, env: { ...options.env } });

export const DEFAULT_RUNNER_OPTIONS: Readonly<RunnerOptions> = {
  killGraceMs: 3000,
  maxStdoutBytes: 4 * 1024 * 1024,
  stderrTailBytes: 16 * 1024,
  drainMs: 250,
  groups: null,
  spawn: spawnInProcess,
};

export interface RunOutcome {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  stderrTail: string;
  pid: number;
  durationMs: number;
}

/** How long to wait for a SIGKILLed group to disappear before giving up (only D-state can delay it). */
const KILL_WAIT_MS = 2000;
const POLL_MS = 25;

/** `lost`: the child's spawner died, so nothing more is known about the child (see Spawner). */
type StopReason = 'timeout' | 'canceled' | 'overflow' | 'lost';

/**
 * Run one program to completion. Resolves with its exit status and output (a non-zero exit is
 * not an error here: the adapter classifies it). Rejects with `ExecutorError` for not_found,
 * timeout, canceled, bad_output (stdout over the cap) and internal. When it settles, no process
 * of the child's group is left running.
 */
export async function runProcess(spec: RunSpec, opts: RunnerOptions): Promise<RunOutcome> {
  const program = spec.argv[0];
  if (program === undefined || program === '') {
    throw new ExecutorError('internal', `${spec.label}: the executor's argv is empty; configure a program to run`);
  }
  if (spec.signal.aborted) {
    // Say why: a job past its deadline or a shutdown is not a cancel by the owner.
    const why = spec.signal.reason instanceof Error ? spec.signal.reason.message : 'canceled';
    throw new ExecutorError('canceled', `${spec.label} run was not started: ${why}`);
  }
  await assertDirectory(spec.cwd, spec.label);

  const started = performance.now();
  let child: SpawnedChild;
  try {
    child = opts.spawn(program, spec.argv.slice(1), {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    throw spawnError(err, program, spec.label);
  }
  const pid = await spawned(child).catch((err: unknown) => {
    throw spawnError(err, program, spec.label);
  });
  return supervise(child, pid, spec, opts, started);
}

/**
 * The child's pid once it runs. Spawn failures (ENOENT, EACCES) arrive as an 'error' event with no pid; a remote
 * spawn knows its pid only when the helper answers. Both fire before any output or exit of the child.
 */
function spawned(child: SpawnedChild): Promise<number> {
  return new Promise((resolve, reject) => {
    const onSpawn = (): void => {
      child.off('error', onError);
      if (child.pid === undefined) reject(new Error('the child was started but has no pid'));
      else resolve(child.pid);
    };
    const onError = (err: Error): void => {
      child.off('spawn', onSpawn);
      reject(err);
    };
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}

async function supervise(
  child: SpawnedChild,
  pid: number,
  spec: RunSpec,
  opts: RunnerOptions,
  started: number,
): Promise<RunOutcome> {
  const { stdin, stdout, stderr } = child;
  if (stdin === null || stdout === null || stderr === null) {
    signalGroup(pid, 'SIGKILL');
    throw new ExecutorError('internal', `${spec.label}: child stdio pipes are missing (pid ${pid})`);
  }
  opts.groups?.add(pid, spec.env[JOB_ID_ENV] || null);

  const stop = stopSwitch();
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // An ExecutorError after the spawn means the child is lost (its spawner died); node's own errors after a
  // successful spawn (a failed internal kill) carry no information we act on.
  child.on('error', (err) => {
    if (!(err instanceof ExecutorError)) return;
    stop.lost ??= err;
    stop.request('lost');
  });
  const output = captureOutput(stdout, stderr, spec, opts, stop.request);

  // The child may exit without reading its stdin: EPIPE is expected, not a failure.
  stdin.on('error', () => undefined);
  stdin.end(spec.stdin);

  const disarm = armStops(spec, stop.request);
  try {
    const first = await Promise.race([exited, stop.stopped]);
    if (typeof first === 'string') {
      await terminateGroup(pid, opts.killGraceMs);
      await within(exited, KILL_WAIT_MS);
      destroyPipes(child);
      throw stopError(stop, spec, opts, output.err.text());
    }
    // The run is decided by the child's exit; a timer or abort after it changes nothing.
    disarm();
    return await settleExit(child, pid, first, { output, stop, spec, opts, started });
  } finally {
    disarm();
    opts.groups?.delete(pid);
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The first reason to stop a run wins; later ones change nothing. */
interface StopSwitch {
  stopped: Promise<StopReason>;
  request(r: StopReason): void;
  reason(): StopReason | null;
  /** Why the child was lost, with the `lost` reason. */
  lost: ExecutorError | null;
}

function stopSwitch(): StopSwitch {
  let stopReason: StopReason | null = null;
  let request: (r: StopReason) => void = () => undefined;
  const stopped = new Promise<StopReason>((resolve) => {
    request = (r) => {
      if (stopReason !== null) return;
      stopReason = r;
      resolve(r);
    };
  });
  return { stopped, request: (r) => request(r), reason: () => stopReason, lost: null };
}

/** What the child wrote: stdout (capped, optionally filtered by line), the stderr tail, and when both pipes closed. */
interface Output {
  out: CappedBuffer;
  err: TailBuffer;
  filter: StdoutFilter | null;
  lines: LineSplitter | null;
  pipesClosed: Promise<unknown>;
}

/** Reads the child's stdout and stderr as they come; stdout over the cap requests an `overflow` stop. */
function captureOutput(
  stdout: Readable,
  stderr: Readable,
  spec: RunSpec,
  opts: RunnerOptions,
  requestStop: (r: StopReason) => void,
): Output {
  const out = new CappedBuffer(opts.maxStdoutBytes);
  const err = new TailBuffer(opts.stderrTailBytes);
  const filter = spec.keepStdoutLine === undefined ? null : new StdoutFilter(spec.keepStdoutLine, out);
  stdout.on('data', (chunk: Buffer) => {
    if (!(filter === null ? out.push(chunk) : filter.push(chunk))) requestStop('overflow');
  });
  const lines = spec.onStderrLine === undefined ? null : new LineSplitter(spec.onStderrLine);
  stderr.on('data', (chunk: Buffer) => {
    err.push(chunk);
    lines?.push(chunk);
  });
  const pipesClosed = Promise.all([closeOf(stdout), closeOf(stderr)]);
  return { out, err, filter, lines, pipesClosed };
}

/** Arms the run's timeout and its abort; returns the function that disarms both (safe to call twice). */
function armStops(spec: RunSpec, requestStop: (r: StopReason) => void): () => void {
  const timer = setTimeout(() => requestStop('timeout'), Math.max(1, clampTimerMs(spec.timeoutMs)));
  const onAbort = (): void => requestStop('canceled');
  spec.signal.addEventListener('abort', onAbort, { once: true });
  // An abort that landed while we were spawning fired no event for this listener.
  if (spec.signal.aborted) onAbort();
  return () => {
    clearTimeout(timer);
    spec.signal.removeEventListener('abort', onAbort);
  };
}

/** After the child exited on its own: drain its pipes, kill what it left in its group, and build the outcome. */
async function settleExit(
  child: SpawnedChild,
  pid: number,
  exit: Exit,
  r: { output: Output; stop: StopSwitch; spec: RunSpec; opts: RunnerOptions; started: number },
): Promise<RunOutcome> {
  const { output, stop, spec, opts } = r;
  await within(output.pipesClosed, opts.drainMs);
  destroyPipes(child);
  output.lines?.flush();
  if (output.filter !== null && !output.filter.flush()) stop.request('overflow');
  // Whatever the child left behind in its group (daemonized helpers, pipe-holding grandchildren) dies with the run.
  if (groupAlive(pid)) await terminateGroup(pid, opts.killGraceMs);
  // Overflow, or the spawner died before all of the output was relayed: the reply would be cut.
  if (stop.reason() === 'overflow' || stop.reason() === 'lost') throw stopError(stop, spec, opts, output.err.text());
  return {
    exitCode: exit.code,
    exitSignal: exit.signal,
    stdout: output.out.text(),
    stderrTail: output.err.text(),
    pid,
    durationMs: Math.round(performance.now() - r.started),
  };
}

/**
 * SIGTERM the group and every process group its members' descendants run in (agent CLIs start
 * tools in sessions of their own), give them `graceMs`, then SIGKILL them all; returns once none
 * of them has a running process. The tree is looked at again before the SIGKILL: tools started
 * during the grace are in it, and those whose parent already died stay in from the first look.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  const tree = new RunGroups(pgid);
  if (tree.signal('SIGTERM') === 0) return;
  if (await waitGone(tree, graceMs)) return;
  tree.snapshot();
  tree.signal('SIGKILL');
  await waitGone(tree, KILL_WAIT_MS);
}

async function waitGone(tree: RunGroups, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (!tree.alive()) return true;
    if (performance.now() >= deadline) return false;
    await delay(POLL_MS);
  }
}

/** Wait for `p`, at most `ms`; the timer is cleared either way so no handle outlives the run. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function closeOf(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

function destroyPipes(child: SpawnedChild): void {
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}

async function assertDirectory(cwd: string, label: string): Promise<void> {
  try {
    const st = await stat(cwd);
    if (st.isDirectory()) return;
  } catch (err) {
    if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) {
      throw new ExecutorError('internal', `${label}: cannot use working directory ${cwd}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }
  throw new ExecutorError(
    'internal',
    `${label}: working directory ${cwd} does not exist or is not a directory; create it or fix the task's workspace path`,
  );
}

function spawnError(err: unknown, program: string, label: string): ExecutorError {
  if (isErrno(err, 'ENOENT')) {
    return new ExecutorError(
      'not_found',
      `${label}: program "${program}" was not found (ENOENT); install it or configure its absolute path`,
      { cause: err },
    );
  }
  if (isErrno(err, 'EACCES')) {
    return new ExecutorError(
      'not_found',
      `${label}: program "${program}" exists but cannot be executed (EACCES); make it executable (chmod +x) or configure the right path`,
      { cause: err },
    );
  }
  return new ExecutorError('internal', `${label}: could not start "${program}": ${errorMessage(err)}`, { cause: err });
}

function stopError(stop: StopSwitch, spec: RunSpec, opts: RunnerOptions, stderrTail: string): ExecutorError {
  const reason = stop.reason() ?? 'canceled';
  switch (reason) {
    case 'lost':
      return new ExecutorError('internal', stop.lost?.message ?? `${spec.label}: the child was lost`, {
        stderrTail,
        cause: stop.lost,
      });
    case 'timeout':
      return new ExecutorError(
        'timeout',
        `${spec.label} did not finish within ${spec.timeoutMs} ms and was killed; raise the timeout if the work needs longer, or look at the stderr tail for where it hung`,
        { stderrTail },
      );
    case 'canceled':
      return new ExecutorError('canceled', `${spec.label} run was canceled; its process group was killed`, {
        stderrTail,
      });
    case 'overflow':
      return new ExecutorError(
        'bad_output',
        `${spec.label} wrote more than ${opts.maxStdoutBytes} bytes to stdout and was stopped; raise maxStdoutBytes or make the program print less`,
        { stderrTail },
      );
  }
}

/** Collects up to `cap` bytes; push returns false once more than that arrived. */
class CappedBuffer {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #over = false;
  constructor(readonly cap: number) {}

  push(chunk: Buffer): boolean {
    if (this.#over) return false;
    if (this.#bytes + chunk.length > this.cap) {
      this.#over = true;
      return false;
    }
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    return true;
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}

/**
 * Splits stdout into lines at byte level ('\n' never occurs inside a UTF-8 sequence) and passes
 * the accepted ones to `out`. A single unfinished line longer than the cap is an overflow too.
 */
class StdoutFilter {
  #partial: Buffer[] = [];
  #partialBytes = 0;
  constructor(
    private readonly keep: (line: string) => boolean,
    private readonly out: CappedBuffer,
  ) {}

  push(chunk: Buffer): boolean {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      if (!this.#line(chunk.subarray(start, nl + 1))) return false;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#partial.push(chunk.subarray(start));
      this.#partialBytes += chunk.length - start;
      if (this.#partialBytes > this.out.cap) return false;
    }
    return true;
  }

  /** The last line, when the output did not end with a newline. */
  flush(): boolean {
    return this.#partialBytes === 0 ? true : this.#line(Buffer.alloc(0));
  }

  #line(tail: Buffer): boolean {
    const line = this.#partial.length === 0 ? tail : Buffer.concat([...this.#partial, tail]);
    this.#partial = [];
    this.#partialBytes = 0;
    return this.keep(line.toString('utf8')) ? this.out.push(line) : true;
  }
}

/** Keeps the last `cap` bytes. */
class TailBuffer {
  #buf = Buffer.alloc(0);
  #dropped = false;
  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    // Trim only when well over the cap so a chatty stderr does not copy on every chunk.
    if (this.#buf.length > 2 * this.cap) {
      this.#buf = this.#buf.subarray(this.#buf.length - this.cap);
      this.#dropped = true;
    }
  }

  text(): string {
    const cut = this.#buf.length > this.cap;
    let tail = cut ? this.#buf.subarray(this.#buf.length - this.cap) : this.#buf;
    if (cut || this.#dropped) {
      // Do not start in the middle of a UTF-8 sequence (continuation bytes are 10xxxxxx).
      let skip = 0;
      while (skip < tail.length && skip < 4 && ((tail[skip] ?? 0) & 0xc0) === 0x80) skip += 1;
      tail = tail.subarray(skip);
    }
    return tail.toString('utf8');
  }
}

/** Calls `onLine` per complete line; a line longer than 64 KiB is cut (no one prints markers that long). */
class LineSplitter {
  #partial = '';
  readonly #decoder = new TextDecoder('utf-8');
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const parts = text.split('\n');
    this.#partial = (parts.pop() ?? '').slice(-65536);
    for (const line of parts) this.onLine(line.replace(/\r$/, ''));
  }

  flush(): void {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = '';
    if (rest !== '') this.onLine(rest.replace(/\r$/, ''));
  }
}
