// The CLI's client: @alter0/api's createApiClient with the CLI's headers, its failures in the CLI's words.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Alter0Error } from '@alter0/core';
import { ClientError, clientErrorOf, createCliClient } from '../src/client.js';

const ADDR = 'http://127.0.0.1:7070';

function answering(
  status: number,
  body: unknown,
  seen: Headers[] = [],
): (url: string, init: RequestInit) => Promise<Response> {
  return async (_url, init) => {
    seen.push(new Headers(init.headers));
    return Response.json(body, { status });
  };
}

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('createCliClient', () => {
  it('sends the token and the cli channel, and returns the validated answer', async () => {
    const seen: Headers[] = [];
    const c = createCliClient({ addr: ADDR, token: 'tok', fetch: answering(200, { tasks: [] }, seen) });
    await expect(c.listTasks({ state: 'open' })).resolves.toEqual([]);
    expect(seen[0]?.get('authorization')).toBe('Bearer tok');
    expect(seen[0]?.get('x-alter0-channel')).toBe('cli');
  });

  it('says the service is unreachable with the address as given and the system error code', async () => {
    const addr = `http://127.0.0.1:${await closedPort()}`;
    const err = await createCliClient({ addr, token: null })
      .status()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toBeInstanceOf(Alter0Error);
    expect(err).toMatchObject({ code: 'unreachable', status: null });
    expect((err as Error).message).toBe(
      `cannot reach alter0 at ${addr} (ECONNREFUSED). Is it running? Start it with \`alter0 serve\`, or pass --addr.`,
    );
  });

  it("passes the daemon's error envelope through as its code, status and message", async () => {
    const c = createCliClient({
      addr: ADDR,
      token: null,
      fetch: answering(404, { error: { code: 'not_found', message: 'no job j_x' } }),
    });
    const err = await c.getJob('j_x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'not_found', status: 404, message: 'no job j_x' });
  });

  it('names the endpoint and the field of an answer that breaks the contract, and asks about versions', async () => {
    const c = createCliClient({ addr: ADDR, token: null, fetch: answering(200, { jobs: [{ id: 42 }] }) });
    const err = await c.listJobs().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'contract', status: 200 });
    expect((err as Error).message).toContain('GET /api/jobs');
    expect((err as Error).message).toContain('jobs.0.id');
    expect((err as Error).message).toContain(`Is this alter0 CLI the same version as the service at ${ADDR}?`);
  });
});

describe('clientErrorOf', () => {
  it('leaves errors that are not the api client’s as they are', () => {
    const abort = new DOMException('aborted', 'AbortError');
    expect(clientErrorOf(abort, ADDR)).toBe(abort);
  });
});
