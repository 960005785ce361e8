import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync, zstdDecompressSync } from 'node:zlib';
import type { Behaviour } from './behaviour.js';

/** One HTTP request the fake received, as the CLI sent it. */
export interface RecordedRequest {
  /** 1-based arrival order over all requests. */
  seq: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Raw query string without `?` ('' when none). */
  query: string;
  headers: Record<string, string>;
  /** The parsed JSON body; null when the body is empty or not JSON (see `rawBody`). */
  body: unknown;
  rawBody: string;
  receivedAt: number;
  /** The scripted behaviour this request got; null for requests that are not model calls. */
  behaviour: Behaviour | null;
}

/** What a dialect (Anthropic, OpenAI) needs to answer one request. */
export interface ExchangeContext {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  /** Aborted when the fake closes or the client goes away: stop writing then. */
  signal: AbortSignal;
}

export interface Dialect {
  /** Whether this request is a model call, which consumes the next scripted behaviour. */
  isModelCall(method: string, path: string): boolean;
  answerModelCall(ctx: ExchangeContext, behaviour: Behaviour): Promise<void>;
  /** Anything else the CLI calls (token counting, model lists, unknown paths). */
  answerOther(ctx: ExchangeContext): void;
  /** The behaviour used when the script is empty: a loud, non-retryable refusal. */
  whenExhausted(seq: number): Behaviour;
}

export interface ModelFake {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order (model calls and everything else). */
  readonly requests: readonly RecordedRequest[];
  /** Only the model calls (the requests that consumed a behaviour). */
  modelCalls(): RecordedRequest[];
  /** Appends behaviours to the queue; each model call takes the next one. */
  script(behaviours: readonly Behaviour[]): void;
  /** Behaviours not yet consumed. */
  pending(): number;
  /** Resolves once `count` model calls have arrived; rejects after `timeoutMs` or on abort. */
  waitForModelCalls(count: number, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
  /** Ends every open (including hanging) response and stops listening. Idempotent. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** What one fake keeps while it runs: the requests it saw, the behaviours still scripted, and who waits for calls. */
interface FakeState {
  dialect: Dialect;
  lifetime: AbortController;
  requests: RecordedRequest[];
  queue: Behaviour[];
  waiters: Set<() => void>;
  seq: number;
}

export async function startFake(dialect: Dialect, opts: { signal?: AbortSignal } = {}): Promise<ModelFake> {
  const state: FakeState = {
    dialect,
    lifetime: new AbortController(),
    requests: [],
    queue: [],
    waiters: new Set(),
    seq: 0,
  };
  const { lifetime, requests, queue, waiters } = state;
  const server = createServer((req, res) => serveExchange(state, req, res));
  // Sockets stay open for keep-alive and hanging answers; close() destroys them all.
  server.keepAliveTimeout = 60_000;
  const port = await listenOnLoopback(server);

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      lifetime.abort();
      for (const wake of waiters) wake();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  if (opts.signal) {
    if (opts.signal.aborted) await close();
    else opts.signal.addEventListener('abort', () => void close(), { once: true });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    modelCalls: () => modelCallsOf(state),
    script(behaviours) {
      queue.push(...behaviours);
    },
    pending: () => queue.length,
    waitForModelCalls: (count, waitOpts = {}) => waitForModelCalls(state, count, waitOpts),
    close,
  };
}

/** One request: answered in its own abort scope, which ends with the response or with the fake. */
function serveExchange(state: FakeState, req: IncomingMessage, res: ServerResponse): void {
  const exchange = new AbortController();
  const onLifetimeAbort = (): void => exchange.abort();
  state.lifetime.signal.addEventListener('abort', onLifetimeAbort, { once: true });
  res.on('close', () => {
    exchange.abort();
    state.lifetime.signal.removeEventListener('abort', onLifetimeAbort);
  });
  void handle(state, req, res, exchange.signal).catch((err: unknown) => {
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`alter0 fake: internal error: ${err instanceof Error ? err.message : String(err)}`);
    } else {
      res.destroy();
    }
  });
}

/** Records the request; a model call takes the next scripted behaviour (waking the waiters), anything else is answered as such. */
async function handle(state: FakeState, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const { dialect } = state;
  const raw = await readBody(req);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const record: RecordedRequest = {
    seq: ++state.seq,
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.search.replace(/^\?/, ''),
    headers: flattenHeaders(req),
    body: parseJson(raw),
    rawBody: raw,
    receivedAt: Date.now(),
    behaviour: null,
  };
  state.requests.push(record);
  const ctx: ExchangeContext = { req, res, record, signal };
  if (!dialect.isModelCall(record.method, record.path)) {
    dialect.answerOther(ctx);
    return;
  }
  const behaviour = state.queue.shift() ?? dialect.whenExhausted(record.seq);
  record.behaviour = behaviour;
  for (const wake of state.waiters) wake();
  await dialect.answerModelCall(ctx, behaviour);
}

/** Listens on an ephemeral loopback port; resolves with the port. */
async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function modelCallsOf(state: FakeState): RecordedRequest[] {
  return state.requests.filter((r) => r.behaviour !== null);
}

async function waitForModelCalls(
  state: FakeState,
  count: number,
  waitOpts: { timeoutMs?: number; signal?: AbortSignal },
): Promise<void> {
  const timeoutMs = waitOpts.timeoutMs ?? 30_000;
  if (modelCallsOf(state).length >= count) return;
  await new Promise<void>((resolve, reject) => {
    const finish = (err: Error | null): void => {
      clearTimeout(timer);
      state.waiters.delete(check);
      waitOpts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const check = (): void => {
      if (modelCallsOf(state).length >= count) finish(null);
      else if (state.lifetime.signal.aborted) finish(new Error(`fake closed before ${count} model calls arrived`));
    };
    const onAbort = (): void => finish(new Error('waitForModelCalls aborted'));
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${count} model calls (got ${modelCallsOf(state).length})`,
          ),
        ),
      timeoutMs,
    );
    state.waiters.add(check);
    waitOpts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  const body = Buffer.concat(chunks);
  return decode(body, req.headers['content-encoding']).toString('utf8');
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case undefined:
    case '':
    case 'identity':
      return body;
    case 'gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    case 'zstd':
      return zstdDecompressSync(body);
    default:
      throw new Error(`unsupported content-encoding ${encoding}`);
  }
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function parseJson(raw: string): unknown {
  if (raw.length === 0) return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return null;
  }
}

/** Resolves after `ms`, or early (returning false) when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Writes one server-sent event; returns false once the exchange is over. */
export function sendEvent(ctx: ExchangeContext, event: string, data: unknown): boolean {
  if (ctx.signal.aborted || ctx.res.destroyed) return false;
  ctx.res.write(`event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  return true;
}

export function startEventStream(ctx: ExchangeContext, extraHeaders: Record<string, string> = {}): void {
  ctx.res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...extraHeaders,
  });
  ctx.res.flushHeaders();
}

export function sendJson(
  ctx: ExchangeContext,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (ctx.res.destroyed) return;
  const text = JSON.stringify(body);
  ctx.res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  ctx.res.end(text);
}

/** A hanging answer stays open until the client leaves or the fake closes. */
export function holdOpen(ctx: ExchangeContext): Promise<void> {
  return new Promise((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Ids shaped like the real API's: a prefix and a random tail. */
export function fakeId(prefix: string): string {
  return `${prefix}${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}
