import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DaemonSpec {
  /** apps/cli/bin/alter0.js */
  bin: string;
  data: string;
  /** The --command value: the fake agent with its run marker. */
  command: string;
  /** `--set key=value` overrides. */
  sets: string[];
  /** Extra environment (the agent inherits it through the daemon). */
  env: Record<string, string>;
}

export interface Recovered {
  requeued: string[];
  failed: string[];
  completed: string[];
}

const START_TIMEOUT_MS = 60_000;
const LOG_TAIL_LINES = 40;

/**
 * One lifetime of the real `alter0 serve`, started as a child process in its own process group (so the
 * terminal's Ctrl-C reaches the harness only, and the harness decides how the daemon stops).
 */
export class DaemonProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Recovery the daemon logged at start ("recovered jobs left running by the previous process"), if any. */
  recovered: Recovered | null = null;
  /** Log lines at level error (counted for the report), and the last few kept. */
  errorLines = 0;
  readonly lastErrors: string[] = [];
  private readonly tail: string[] = [];
  private url_: string | null = null;
  private onListening: ((url: string) => void) | null = null;

  private constructor(
    readonly gen: number,
    private readonly proc: ChildProcessWithoutNullStreams,
    readonly spawnedAt: number,
  ) {
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    let partial = '';
    proc.stderr.on('data', (b: Buffer) => {
      const lines = (partial + b.toString()).split('\n');
      partial = lines.pop() ?? '';
      // A line longer than this is not one we parse; do not let it grow without bound.
      if (partial.length > 1_000_000) partial = '';
      for (const line of lines) this.line(line);
    });
    proc.stdout.on('data', () => undefined);
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get url(): string {
    if (this.url_ === null) throw new Error(`alter0 serve (generation ${this.gen}) is not listening yet`);
    return this.url_;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  logTail(): string {
    return this.tail.join('\n');
  }

  static async start(spec: DaemonSpec, gen: number, signal: AbortSignal): Promise<DaemonProcess> {
    const args = [spec.bin, 'serve', '--data', spec.data, '--listen', '127.0.0.1:0', '--command', spec.command];
    for (const s of spec.sets) args.push('--set', s);
    const proc = spawn(process.execPath, args, {
      env: { ...process.env, ALTER0_CONFIG: '', ...spec.env, SOAK_GEN: String(gen) },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    proc.stdin.end();
    const d = new DaemonProcess(gen, proc, Date.now());
    const listening = new Promise<string>((resolve) => (d.onListening = resolve));
    const failed = d.exited.then(({ code, signal: sig }) => {
      throw new Error(`alter0 serve (generation ${gen}) exited with ${code ?? sig} before it was ready:\n${d.logTail()}`);
    });
    const timeout = sleep(START_TIMEOUT_MS, undefined, { signal }).then(() => {
      throw new Error(`alter0 serve (generation ${gen}) did not report listening within ${START_TIMEOUT_MS / 1000}s:\n${d.logTail()}`);
    });
    try {
      d.url_ = await Promise.race([listening, failed, timeout]);
      await d.waitReady(signal);
    } catch (err) {
      d.kill9();
      throw err;
    } finally {
      failed.catch(() => undefined);
      timeout.catch(() => undefined);
    }
    return d;
  }

  /** Polls /readyz until 200: listening is not yet accepting work. */
  private async waitReady(signal: AbortSignal): Promise<void> {
    const end = Date.now() + START_TIMEOUT_MS;
    for (let i = 0; Date.now() < end; i++) {
      if (!this.alive) throw new Error(`alter0 serve (generation ${this.gen}) exited while starting:\n${this.logTail()}`);
      try {
        const r = await fetch(`${this.url}/readyz`, { signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]) });
        await r.arrayBuffer();
        if (r.status === 200) return;
      } catch (err) {
        if (signal.aborted) throw err;
      }
      await sleep(Math.min(200, 20 * (i + 1)), undefined, { signal });
    }
    throw new Error(`alter0 serve (generation ${this.gen}) listened but /readyz never answered 200 within ${START_TIMEOUT_MS / 1000}s`);
  }

  /** SIGKILL, no grace: the crash the soak is about. */
  kill9(): void {
    if (!this.alive) return;
    try {
      this.proc.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /**
   * Graceful stop (SIGTERM: the daemon drains running jobs), SIGKILL after `graceMs`. `hurry` sends a second
   * SIGTERM soon after the first (the daemon's "stop now": running jobs are aborted and re-queued), for an
   * interrupted run that should not wait for hanging agents. Resolves when it has exited.
   */
  async stop(graceMs: number, hurry = false): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
    if (!this.alive) return { ...(await this.exited), forced: false };
    this.proc.kill('SIGTERM');
    const again = hurry ? setTimeout(() => this.alive && this.proc.kill('SIGTERM'), 500) : undefined;
    const timer = setTimeout(() => this.kill9(), graceMs);
    const r = await this.exited;
    clearTimeout(timer);
    clearTimeout(again);
    return { ...r, forced: r.signal === 'SIGKILL' };
  }

  private line(line: string): void {
    if (line.trim() === '') return;
    this.tail.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof rec !== 'object' || rec === null) return;
    const r = rec as Record<string, unknown>;
    if (r.message === 'listening' && typeof r.url === 'string') this.onListening?.(r.url);
    if (r.message === 'recovered jobs left running by the previous process') {
      this.recovered = { requeued: strings(r.requeued), failed: strings(r.failed), completed: strings(r.completed) };
    }
    if (r.level === 'error') {
      this.errorLines++;
      this.lastErrors.push(line.slice(0, 500));
      if (this.lastErrors.length > 10) this.lastErrors.shift();
    }
  }
}

function strings(x: unknown): string[] {
  return Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : [];
}
