import { inheritedEnv, startDaemon } from '@alter0/testkit';
import type { Daemon, Exit } from '@alter0/testkit';
import type { ApiClient } from '@alter0/api';

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
 * One lifetime of the real `alter0 serve`, started by @alter0/testkit as a child process in its own process group
 * (so the terminal's Ctrl-C reaches the harness only, and the harness decides how the daemon stops).
 */
export class DaemonProcess {
  /** Recovery the daemon logged at start ("recovered jobs left running by the previous process"), if any. */
  recovered: Recovered | null = null;
  /** The harness killed or stopped it on purpose (any other exit is the daemon's own doing). */
  expectedExit = false;
  /** Log lines at level error (counted for the report), and the last few kept. */
  errorLines = 0;
  readonly lastErrors: string[] = [];
  /** Called with every log line as it arrives (a hostile moment counts the lines written while the disk is full). */
  readonly lineListeners = new Set<(line: string) => void>();
  private readonly tail: string[] = [];
  private partial = '';

  private constructor(
    readonly gen: number,
    private readonly d: Daemon,
    readonly spawnedAt: number,
  ) {}

  get exited(): Promise<Exit> {
    return this.d.exited;
  }

  get pid(): number {
    return this.d.pid;
  }

  get url(): string {
    return this.d.url;
  }

  /** @alter0/api's client of this lifetime (from @alter0/testkit). */
  get client(): ApiClient {
    return this.d.client;
  }

  get alive(): boolean {
    return this.d.alive();
  }

  logTail(): string {
    return this.tail.join('\n');
  }

  /** Starts generation `gen` and resolves once GET /readyz answers 200 (listening is not yet accepting work). */
  static async start(spec: DaemonSpec, gen: number, signal: AbortSignal): Promise<DaemonProcess> {
    const args = ['--command', spec.command];
    for (const s of spec.sets) args.push('--set', s);
    const spawnedAt = Date.now();
    const d = await startDaemon({
      bin: spec.bin,
      data: spec.data,
      args,
      env: inheritedEnv({ ...spec.env, SOAK_GEN: String(gen) }),
      startTimeoutMs: START_TIMEOUT_MS,
      signal,
    }).catch((err: unknown) => {
      throw new Error(
        `alter0 serve (generation ${gen}) did not start: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    const p = new DaemonProcess(gen, d, spawnedAt);
    // The start-up lines (recovery among them) are in the log already; the rest arrives as it is written.
    p.chunk(d.stderr());
    d.onStderr((c) => p.chunk(c));
    return p;
  }

  private chunk(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    // A line longer than this is not one we parse; do not let it grow without bound.
    if (this.partial.length > 1_000_000) this.partial = '';
    for (const line of lines) this.line(line);
  }

  /** SIGKILL, no grace: the crash the soak is about. */
  kill9(): void {
    this.expectedExit = true;
    void this.d.kill9();
  }

  /**
   * Graceful stop (SIGTERM: the daemon drains running jobs), SIGKILL after `graceMs`. `hurry` sends a second
   * SIGTERM soon after the first (the daemon's "stop now": running jobs are aborted and re-queued), for an
   * interrupted run that should not wait for hanging agents. Resolves when it has exited.
   */
  async stop(
    graceMs: number,
    hurry = false,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
    this.expectedExit = true;
    if (!this.alive) return { ...(await this.exited), forced: false };
    const again = hurry ? setTimeout(() => this.alive && this.d.proc.kill('SIGTERM'), 500) : undefined;
    const r = await this.d.stop('SIGTERM', graceMs);
    clearTimeout(again);
    return { ...r, forced: r.signal === 'SIGKILL' };
  }

  private line(line: string): void {
    if (line.trim() === '') return;
    for (const l of this.lineListeners) l(line);
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
