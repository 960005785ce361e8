import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TelegramApiError, methodNotFound, unauthorized } from './telegram-errors.js';
import { applyFault, sendHtml } from './telegram-faults.js';
import { METHODS } from './telegram-methods.js';
import { parseParams } from './telegram-params.js';
import type { TelegramState } from './telegram-state.js';
import type { TelegramRequest } from './telegram-types.js';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A listening server; stop() drops every open socket (held long polls included). */
export interface Listener {
  readonly port: number;
  stop(): Promise<void>;
}

/** Listens on 127.0.0.1 only; port 0 picks an ephemeral one. */
export async function listenLoopback(port: number, onRequest: RequestListener): Promise<Listener> {
  const server = createServer(onRequest);
  // grammY keeps connections alive; a server closing idle ones first would make its next call fail.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  let stopping: Promise<void> | null = null;
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/** One request, answered in its own abort scope, which ends when the response closes (sent or socket gone). */
export function serveRequest(state: TelegramState, req: IncomingMessage, res: ServerResponse): void {
  const exchange = new AbortController();
  res.on('close', () => exchange.abort());
  void handle(state, req, res, exchange.signal).catch((err: unknown) => {
    const description = `Internal Server Error: alter0 fake: ${err instanceof Error ? err.message : String(err)}`;
    if (!res.headersSent && !res.destroyed) writeJson(res, 500, { ok: false, error_code: 500, description });
    else res.destroy();
  });
}

async function handle(
  state: TelegramState,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const route = /^\/bot([^/]*)\/([^/]+)\/?$/.exec(url.pathname);
  const raw = await readBody(req);
  const record: TelegramRequest = { seq: ++state.seq, method: route?.[2] ?? '', params: {}, status: 0, at: Date.now() };
  state.requests.push(record);
  let parseError: TelegramApiError | null = null;
  try {
    record.params = parseParams(url.searchParams, req.headers['content-type'] ?? '', raw);
  } catch (err) {
    if (!(err instanceof TelegramApiError)) throw err;
    parseError = err;
  }
  state.waiters.notify();
  const answer = (status: number, body: unknown): void => {
    if (signal.aborted || res.destroyed || res.writableEnded || res.socket?.destroyed) return;
    record.status = status;
    writeJson(res, status, body);
    state.waiters.notify();
  };
  try {
    const fault = state.faults.take(record.method);
    if (fault) {
      record.fault = fault.kind;
      const outcome = await applyFault(fault, signal);
      if (outcome.kind === 'error') throw outcome.error;
      if (outcome.kind === 'reset') req.socket.destroy();
      if (outcome.kind === 'html' && !signal.aborted) {
        record.status = outcome.status;
        sendHtml(res, outcome.status, outcome.body);
      }
      if (outcome.kind !== 'proceed') {
        state.waiters.notify();
        return;
      }
    }
    if (parseError) throw parseError;
    answer(200, { ok: true, result: await dispatch(state, route, record, signal) });
  } catch (err) {
    if (!(err instanceof TelegramApiError)) throw err;
    answer(err.code, err.envelope());
  }
}

/** Path /bot<token>/<method>; the token is checked before the method, as Telegram does. */
function dispatch(
  state: TelegramState,
  route: RegExpExecArray | null,
  record: TelegramRequest,
  signal: AbortSignal,
): unknown {
  if (!route) throw new TelegramApiError(404, 'Not Found');
  if (state.revoked || route[1] !== state.token) throw unauthorized();
  const handler = METHODS[record.method.toLowerCase()];
  if (!handler) throw methodNotFound();
  return handler(state, record.params, signal);
}

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
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
  return Buffer.concat(chunks).toString('utf8');
}
