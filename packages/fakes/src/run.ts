import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';

export interface RunOptions {
  program: string;
  args: readonly string[];
  /** The complete environment: nothing is inherited from this process. */
  env: Record<string, string>;
  cwd: string;
  /** Written to stdin, which is then closed; null closes stdin at once. */
  stdin: string | null;
  timeoutMs: number;
  /** Grace between SIGTERM and SIGKILL to the process group. */
  killGraceMs?: number;
  signal?: AbortSignal;
}

export interface RunResult {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
  pid: number | null;
}

const OUTPUT_CAP = 8 * 1024 * 1024;

/**
 * Runs one CLI as its own process group (detached, no shell) and kills the whole group on
 * timeout or abort: TERM, then KILL after the grace. Resolves once the child has exited and its
 * pipes are closed, so nothing is left behind.
 */
export function runCli(opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(opts.program, opts.args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const output = collectOutput(child);
    // A CLI that exits before reading stdin makes the write fail with EPIPE: not our failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? undefined);
    const stops = armStops(child, opts);

    child.once('error', (err) => {
      stops.disarm();
      reject(new Error(`could not start ${opts.program}: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, sig) => {
      stops.disarm();
      // The leader is gone; make sure no grandchild of the group outlives it.
      killGroup(child, 'SIGKILL');
      resolve({
        exitCode: code,
        exitSignal: sig,
        stdout: output.stdout,
        stderr: output.stderr,
        timedOut: stops.timedOut,
        aborted: stops.aborted,
        durationMs: Date.now() - started,
        pid: child.pid ?? null,
      });
    });
  });
}

/** The child's stdout and stderr as text, each kept up to the cap. */
function collectOutput(child: ChildProcessWithoutNullStreams): { stdout: string; stderr: string } {
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    if (output.stdout.length < OUTPUT_CAP) output.stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (output.stderr.length < OUTPUT_CAP) output.stderr += s;
  });
  return output;
}

interface Stops {
  timedOut: boolean;
  aborted: boolean;
  /** Clears the timeout, the pending SIGKILL and the abort listener. */
  disarm(): void;
}

/** Stops the group (TERM, then KILL after the grace) at the timeout or on abort, and says which it was. */
function armStops(child: ChildProcessWithoutNullStreams, opts: RunOptions): Stops {
  let killTimer: NodeJS.Timeout | null = null;
  const stop = (): void => {
    killGroup(child, 'SIGTERM');
    killTimer ??= setTimeout(() => killGroup(child, 'SIGKILL'), opts.killGraceMs ?? 2_000);
  };
  const timer = setTimeout(() => {
    stops.timedOut = true;
    stop();
  }, opts.timeoutMs);
  const onAbort = (): void => {
    stops.aborted = true;
    stop();
  };
  const stops: Stops = {
    timedOut: false,
    aborted: false,
    disarm: () => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  return stops;
}

function killGroup(child: ChildProcessWithoutNullStreams, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    // The group is already gone.
  }
}
