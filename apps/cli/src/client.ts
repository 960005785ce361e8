import { Alter0Error } from '@alter0/core';

/** An API error answer, or a failure to reach the service, with a message that says what to do. */
export class ClientError extends Alter0Error {
  constructor(
    code: string,
    message: string,
    readonly status: number | null,
  ) {
    super(code, message);
  }
}

export interface ClientOptions {
  addr: string;
  token: string | null;
  signal?: AbortSignal;
}

export class ApiClient {
  constructor(private readonly opts: ClientOptions) {}

  async get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async post<T>(path: string, body: unknown = {}): Promise<{ status: number; body: T }> {
    return this.requestWithStatus<T>('POST', path, body);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.requestWithStatus<T>(method, path, body)).body;
  }

  async requestWithStatus<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const url = new URL(path, this.opts.addr).toString();
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    headers['x-alter0-channel'] = 'cli';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: this.opts.signal,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ClientError(
        'unreachable',
        `cannot reach alter0 at ${this.opts.addr} (${cause}). Is it running? Start it with \`alter0 serve\`, or pass --addr.`,
        null,
      );
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? (JSON.parse(text) as unknown) : null;
    } catch {
      parsed = null;
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ClientError(e?.code ?? 'http_error', e?.message ?? `${method} ${path} answered HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
    }
    return { status: res.status, body: parsed as T };
  }
}
