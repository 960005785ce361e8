import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ApiClient, MessageDone, MessageRequest } from '@alter0/api';
import { ALTER0_BIN, inheritedEnv, startDaemon, tempDir as testkitTempDir } from '@alter0/testkit';

export { liveProcess, until, untilText } from '@alter0/testkit';

/** The real `alter0` command, as the owner runs it. */
export const BIN = ALTER0_BIN;
export const AGENT = fileURLToPath(new URL('./fixtures/agent.mjs', import.meta.url));

export function tempDir(prefix = 'alter0-it-'): string {
  return testkitTempDir(prefix);
}

export interface Served {
  url: string;
  proc: ChildProcess;
  /** The daemon's JSON log so far. */
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
  /** SIGKILL the daemon's process group (a no-op once it has exited); for afterEach/afterAll. */
  cleanup(): Promise<void>;
  /** @alter0/api's typed client (from @alter0/testkit): the way to make an ordinary request. */
  client: ApiClient;
  /**
   * A raw JSON request whose answer is not validated, for the tests of the HTTP layer itself: malformed input,
   * foreign headers, answers the client would refuse to send or read.
   */
  api<T = unknown>(
    method: string,
    p: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
}

export interface ServeOptions {
  data: string;
  env?: Record<string, string>;
  args?: string[];
  agentArgs?: string[];
  /** The whole --command value instead of the fixture agent. */
  command?: string;
  /** Bound on start-up (default: the testkit's START_TIMEOUT_MS). */
  startMs?: number;
}

/** Default bound for `waitForLog`: a job through the fixture agent spawns Node two or three times. */
const WAIT_MS = 30_000;

/** Starts `alter0 serve` (@alter0/testkit) on an ephemeral loopback port with the fixture agent. */
export async function serve(opts: ServeOptions): Promise<Served> {
  const d = await startDaemon({
    data: opts.data,
    env: inheritedEnv(opts.env),
    args: [
      '--command',
      opts.command ?? [process.execPath, AGENT, ...(opts.agentArgs ?? [])].map((a) => JSON.stringify(a)).join(' '),
      ...(opts.args ?? []),
    ],
    ...(opts.startMs === undefined ? {} : { startTimeoutMs: opts.startMs }),
  });
  const api = async <T>(method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(d.url + p, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  return {
    url: d.url,
    proc: d.proc,
    stderr: d.stderr,
    waitForLog: (pattern, what, ms = WAIT_MS) =>
      d.waitForLog(pattern, { what: what ?? String(pattern), timeoutMs: ms }),
    exited: d.exited.then((e) => e.code),
    client: d.client,
    api,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => (await d.stop(signal, 60_000)).code,
    cleanup: d.cleanup,
  };
}

/** POST /api/message that must answer 200 (the job ended within wait_ms); a 202 fails the test. */
export async function reply(s: Served, req: MessageRequest): Promise<MessageDone> {
  const r = await s.client.sendMessage(req);
  if (r.status !== 200)
    throw new Error(`POST /api/message answered 202 (still working), not 200: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Runs the alter0 CLI to completion. */
export function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: inheritedEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export function readAgentLog(file: string): Record<string, unknown>[] {
  if (!fs.existsSync(file)) return [];
  return (
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      // A line an agent is appending right now (no newline yet) is read next time.
      .slice(0, -1)
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  );
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
      {
        host: u.hostname,
        port: u.port,
        path: p,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
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
