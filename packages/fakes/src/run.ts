import { spawn } from 'node:child_process';

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
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | null = null;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      if (stdout.length < OUTPUT_CAP) stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < OUTPUT_CAP) stderr += s;
    });
    // A CLI that exits before reading stdin makes the write fail with EPIPE: not our failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? undefined);

    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // The group is already gone.
      }
    };
    const stop = (): void => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 2_000);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();

    child.once('error', (err) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new Error(`could not start ${opts.program}: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // The leader is gone; make sure no grandchild of the group outlives it.
      killGroup('SIGKILL');
      if (killTimer) clearTimeout(killTimer);
      resolve({
        exitCode: code,
        exitSignal: sig,
        stdout,
        stderr,
        timedOut,
        aborted,
        durationMs: Date.now() - started,
        pid: child.pid ?? null,
      });
    });
  });
}
