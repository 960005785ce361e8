import { spawn } from 'node:child_process';
import http from 'node:http';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real `alter0` command, as the owner runs it. */
export const BIN = fileURLToPath(new URL('../bin/alter0.js', import.meta.url));
export const AGENT = fileURLToPath(new URL('./fixtures/agent.mjs', import.meta.url));

export function tempDir(prefix = 'alter0-it-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Served {
  url: string;
  proc: ChildProcessWithoutNullStreams;
  stderr: () => string;
  /**
   * Waits until the daemon's stderr (its JSON log) matches `pattern` and returns the log so far. The log reaches
   * this process through a pipe, independently of the HTTP answers: a line logged before a job's state changed
   * can still arrive after the API reports the new state, so never read `stderr()` once right after an action.
   */
  waitForLog(pattern: RegExp | string, what?: string, ms?: number): Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  api<T = unknown>(method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
}

export interface ServeOptions {
  data: string;
  env?: Record<string, string>;
  args?: string[];
  agentArgs?: string[];
  /** The whole --command value instead of the fixture agent. */
  command?: string;
  /** How long to wait for the "listening" log line (default SERVE_START_MS). */
  startMs?: number;
}

/**
 * A cold `alter0 serve` (Node start, migrations, recovery, bind) takes about a second on an idle machine and
 * several on a loaded two-core one; the bound is generous and stays under the files' 60 s test timeout.
 */
export const SERVE_START_MS = 40_000;
/** Default bound for `until` and `waitForLog`: a job through the fixture agent spawns Node two or three times. */
export const WAIT_MS = 30_000;

/** Starts `alter0 serve` as a child process on an ephemeral loopback port with the fixture agent. */
export async function serve(opts: ServeOptions): Promise<Served> {
  const args = [
    BIN,
    'serve',
    '--data',
    opts.data,
    '--listen',
    '127.0.0.1:0',
    '--command',
    opts.command ?? [process.execPath, AGENT, ...(opts.agentArgs ?? [])].map((a) => JSON.stringify(a)).join(' '),
    ...(opts.args ?? []),
  ];
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ALTER0_CONFIG: '', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
  proc.stdout.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const startMs = opts.startMs ?? SERVE_START_MS;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`alter0 serve did not log "listening" within ${startMs} ms:\n${err.slice(-3000)}`));
    }, startMs);
    const check = (): void => {
      const m = /"message":"listening","url":"([^"]+)"/.exec(err);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stderr.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`alter0 serve exited with ${code} before listening:\n${err.slice(-3000)}`));
    });
  });
  const api = async <T>(method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + p, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  return {
    url,
    proc,
    stderr: () => err,
    waitForLog: (pattern, what, ms = WAIT_MS) => waitForText(() => err, pattern, what ?? String(pattern), ms),
    exited,
    api,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Runs the alter0 CLI to completion. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ALTER0_CONFIG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls `fn` every 50 ms until it returns a truthy value; throws after `ms`, naming `what`. */
export async function until<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = WAIT_MS, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `text()` until it matches `pattern`; the error carries the tail of the text. */
export async function waitForText(text: () => string, pattern: RegExp | string, what: string, ms = WAIT_MS): Promise<string> {
  const matches = (t: string): boolean => (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t));
  try {
    return await until(() => {
      const t = text();
      return matches(t) && t;
    }, ms, what);
  } catch (err) {
    throw new Error(`${String(err)}; the text so far ends with:\n${text().slice(-3000)}`);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Running and not a zombie (an orphan can wait a while for PID 1 to reap it). */
export function liveProcess(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function readAgentLog(file: string): Record<string, unknown>[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    // A line an agent is appending right now (no newline yet) is read next time.
    .slice(0, -1)
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface JobJson {
  id: string;
  state: string;
  stage: string | null;
  task_id: string | null;
  attempt: number;
  max_attempts: number;
  reply: string | null;
  error: { class: string; message: string; stderr_tail: string } | null;
  route: { decision: string; fallback: string | null; reason: string; task_id: string } | null;
  timings: Record<string, number | null>;
  retry_of: string | null;
}

/** A GET with a chosen Host header (fetch does not let a caller set Host). */
export function rawGet(base: string, p: string, host: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: p, method: 'GET', headers: { host } }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A JSON POST that reads the answer even when the server answers (and closes) before the body is all sent. */
export function rawPost(base: string, p: string, body: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: p, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.on('data', (b: Buffer) => (text += b.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    req.end(body);
  });
}
