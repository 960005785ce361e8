import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryError } from '../src/delivery.js';
import type { Delivery, JobNotice } from '../src/notice.js';
import { noticeLine } from '../src/notice.js';
import { WebhookDeliverer } from '../src/webhook.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let origin: string;
let received: Received[];
let respond: (req: Received, res: http.ServerResponse) => void;

beforeEach(async () => {
  received = [];
  respond = (_req, res) => res.writeHead(200).end('ok');
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      respond(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const NOTICE: JobNotice = {
  event: 'job.succeeded',
  job_id: 'j_01',
  task_id: 't_01',
  state: 'succeeded',
  reply_excerpt: 'the build is green',
  error: null,
};

function delivery(target: string, payload: JobNotice = NOTICE): Delivery {
  return {
    id: 'n_01',
    channel: 'webhook',
    target,
    event: payload.event,
    dedupKey: 'j_01:job.succeeded:webhook',
    payload,
    attempts: 0,
    progress: 0,
  };
}

function deliverer(o: { timeoutMs?: number; textUrls?: string[] } = {}): WebhookDeliverer {
  return new WebhookDeliverer({
    timeoutMs: o.timeoutMs ?? 2_000,
    textUrls: new Set(o.textUrls ?? []),
    userAgent: 'alter0-test',
  });
}

const noProgress = (): void => undefined;

async function failure(p: Promise<void>): Promise<DeliveryError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

describe('WebhookDeliverer', () => {
  it('POSTs the job end as JSON with exactly the documented fields and the dedup key as Idempotency-Key', async () => {
    await deliverer().deliver(delivery(`${origin}/hook`), noProgress, new AbortController().signal);
    expect(received).toHaveLength(1);
    const [req] = received;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/hook');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['idempotency-key']).toBe('j_01:job.succeeded:webhook');
    expect(req?.headers['user-agent']).toBe('alter0-test');
    const body = JSON.parse(req?.body ?? '') as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      ['dedup_key', 'error', 'event', 'job_id', 'reply_excerpt', 'state', 'task_id'].sort(),
    );
    expect(body).toEqual({
      event: 'job.succeeded',
      job_id: 'j_01',
      task_id: 't_01',
      state: 'succeeded',
      reply_excerpt: 'the build is green',
      error: null,
      dedup_key: 'j_01:job.succeeded:webhook',
    });
  });

  it('sends a text receiver (ntfy and the like) the one notice line as plain text', async () => {
    const url = `${origin}/alerts`;
    const failed: JobNotice = {
      ...NOTICE,
      event: 'job.failed',
      state: 'failed',
      reply_excerpt: null,
      error: 'the agent timed out',
    };
    await deliverer({ textUrls: [url] }).deliver(delivery(url, failed), noProgress, new AbortController().signal);
    const [req] = received;
    expect(req?.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(req?.headers['idempotency-key']).toBe('j_01:job.succeeded:webhook');
    expect(req?.body).toBe(noticeLine(failed));
    expect(req?.body).toBe('alter0: job j_01 (task t_01) failed: the agent timed out');
  });

  it('counts any 2xx answer as delivered', async () => {
    respond = (_req, res) => res.writeHead(204).end();
    await expect(
      deliverer().deliver(delivery(`${origin}/hook`), noProgress, new AbortController().signal),
    ).resolves.toBeUndefined();
  });

  it('fails on a 500 naming only the receiver origin, never the path or query that may hold a secret', async () => {
    respond = (_req, res) => res.writeHead(500).end('boom');
    const url = `${origin}/topic-s3cr3t/hook?token=hunter2`;
    const err = await failure(deliverer().deliver(delivery(url), noProgress, new AbortController().signal));
    expect(err.message).toBe(`webhook ${origin} answered 500 Internal Server Error`);
    expect(err.message).not.toContain('s3cr3t');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain('/hook');
    expect(err.retryAfterMs).toBeNull();
  });

  it('waits as long as a 429 asks in Retry-After (seconds)', async () => {
    respond = (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end();
    const err = await failure(
      deliverer().deliver(delivery(`${origin}/hook`), noProgress, new AbortController().signal),
    );
    expect(err.message).toContain('429');
    expect(err.retryAfterMs).toBe(7_000);
  });

  it('waits until the time a 503 gives in Retry-After (an HTTP date)', async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    respond = (_req, res) => res.writeHead(503, { 'retry-after': at }).end();
    const err = await failure(
      deliverer().deliver(delivery(`${origin}/hook`), noProgress, new AbortController().signal),
    );
    expect(err.retryAfterMs).toBeGreaterThan(55_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('gives up on a receiver that never answers after the timeout, saying there was no answer', async () => {
    respond = () => undefined;
    const started = performance.now();
    const err = await failure(
      deliverer({ timeoutMs: 150 }).deliver(delivery(`${origin}/hook`), noProgress, new AbortController().signal),
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(err.message).toBe(`webhook ${origin} could not be reached: no answer in 150 ms`);
  });

  it('does not follow a redirect and counts it as a failure', async () => {
    respond = (req, res) => {
      if (req.url === '/hook') res.writeHead(302, { location: `${origin}/elsewhere` }).end();
      else res.writeHead(200).end();
    };
    const err = await failure(
      deliverer().deliver(delivery(`${origin}/hook`), noProgress, new AbortController().signal),
    );
    expect(received.map((r) => r.url)).toEqual(['/hook']);
    expect(err.message).toContain(origin);
    expect(err.message).not.toContain('/hook');
  });

  it('fails with "could not be reached" when nothing listens on the port', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(
      deliverer().deliver(delivery(`http://127.0.0.1:${port}/hook?key=abc`), noProgress, new AbortController().signal),
    );
    expect(err.message).toMatch(new RegExp(`^webhook http://127\\.0\\.0\\.1:${port} could not be reached: `));
    expect(err.message).not.toContain('key=abc');
  });

  it('stops at once when the dispatcher stops', async () => {
    respond = () => undefined;
    const stop = new AbortController();
    const p = deliverer({ timeoutMs: 10_000 }).deliver(delivery(`${origin}/hook`), noProgress, stop.signal);
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    stop.abort(new Error('alter0 is stopping'));
    await failure(p);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
