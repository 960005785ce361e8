import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/** The alter0 entry point under test; ALTER0_BIN points the tests at another build (e.g. an installed one). */
export const ALTER0_BIN = process.env.ALTER0_BIN ?? `${REPO}apps/cli/bin/alter0.js`;

export interface Daemon {
  url: string;
  /** stderr so far: the daemon's JSON log, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface DaemonOptions {
  dataDir: string;
  /** The `command` executor's program and arguments. */
  command: readonly string[];
  /** host:port; port 0 picks a free one. */
  listen?: string;
  /** More `alter0 serve` arguments, e.g. ['--set', 'token_file=/path']. */
  extraArgs?: readonly string[];
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Finds the daemon's `{"message":"listening","url":...}` log line (`msg` is accepted too). */
export function parseListening(line: string): string | null {
  try {
    const v: unknown = JSON.parse(line);
    if (typeof v !== 'object' || v === null) return null;
    const { msg, message } = v as { msg?: unknown; message?: unknown };
    if (msg === 'listening' || message === 'listening') {
      const url = (v as { url?: unknown }).url;
      if (typeof url === 'string') return url.replace(/\/$/, '');
    }
  } catch {
    // not a JSON log line
  }
  return null;
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `alter0 serve` as a child process and resolves once it logs that it listens. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const built = fileURLToPath(new URL('../dist/bin.js', pathToFileURL(ALTER0_BIN)));
  if (!process.env.ALTER0_BIN && !existsSync(built)) {
    throw new Error(`${built} is missing: build the daemon first (cd ${REPO} && pnpm exec tsc -b)`);
  }
  const args = [
    ALTER0_BIN,
    'serve',
    '--data',
    opts.dataDir,
    '--listen',
    opts.listen ?? '127.0.0.1:0',
    '--executor',
    'command',
    '--command',
    opts.command.join(' '),
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const log = (): string => `${stderr}${stdout ? `\n[stdout]\n${stdout}` : ''}`;
  // A cold start is about a second on an idle machine, several on a loaded two-core one.
  const timeoutMs = opts.startTimeoutMs ?? 45_000;

  const url = await new Promise<string>((resolve, reject) => {
    let pending = '';
    const fail = (why: string): void => {
      cleanup();
      void stopChild(child, 2_000).finally(() => reject(new Error(`alter0 serve ${why}\ncommand: node ${args.join(' ')}\n--- log ---\n${log()}`)));
    };
    const onData = (d: string): void => {
      stderr += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const u = parseListening(line);
        if (u) {
          cleanup();
          resolve(u);
          return;
        }
      }
    };
    const onExit = (code: number | null, sig: string | null): void => fail(`exited (code ${code}, signal ${sig}) before it logged "listening"`);
    const onAbort = (): void => fail('start was aborted');
    const timer = setTimeout(() => fail(`did not log "listening" within ${timeoutMs} ms`), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.stderr.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });

  return { url, log, stop: () => stopChild(child, 10_000) };
}
