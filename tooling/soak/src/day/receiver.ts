import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackServer } from './loopback.js';

/** up: 204; error: 502; timeout: never answers (the daemon gives up after notify.timeout_s); refuse: not listening. */
export type ReceiverMode = 'up' | 'error' | 'timeout' | 'refuse';

/** One POST the receiver got, with what it answered (0: nothing, the request was held or cut). */
export interface Post {
  at: number;
  jobId: string;
  event: string;
  state: string;
  dedupKey: string;
  idempotencyKey: string;
  status: number;
}

/** Bounds the bookkeeping of a run (a 2 h day at 0.5 jobs/s is a few thousand notices per receiver). */
const MAX_POSTS = 200_000;
const MAX_BODY = 64 * 1024;
/** A held ("timeout") request is cut after this, in case the daemon never gives up on it. */
const HOLD_MS = 60_000;

/** A webhook receiver on 127.0.0.1 that records every POST and can fail in each way a real one does. */
export class Receiver {
  readonly posts: Post[] = [];
  /** The job ids it answered 2xx for, with how many times (a repeat is a duplicate: delivery is at least once). */
  readonly delivered = new Map<string, number>();
  malformed = 0;
  private mode: ReceiverMode = 'up';
  private readonly held = new Set<ServerResponse>();
  private server: LoopbackServer | null = null;

  constructor(readonly name: string) {}

  async start(): Promise<void> {
    this.server = await LoopbackServer.start((req, res) => this.onRequest(req, res));
  }

  /** The URL for notify.webhook_urls (a path and query, as a real receiver's would carry a secret). */
  get url(): string {
    if (this.server === null) throw new Error(`receiver ${this.name} is not started`);
    return `${this.server.url}/hook/${this.name}?key=soak-secret`;
  }

  get current(): ReceiverMode {
    return this.mode;
  }

  async setMode(mode: ReceiverMode): Promise<void> {
    this.mode = mode;
    // A mode change ends what was held: the outage's requests do not linger into the next mode.
    for (const res of this.held) res.destroy();
    this.held.clear();
    if (mode === 'refuse') await this.server?.down();
    else await this.server?.up();
  }

  /** Deliveries (2xx) of `jobId`; 0 when none. */
  count(jobId: string): number {
    return this.delivered.get(jobId) ?? 0;
  }

  duplicates(): number {
    let n = 0;
    for (const c of this.delivered.values()) n += Math.max(0, c - 1);
    return n;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.held.clear();
    await this.server?.down();
    this.server = null;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size <= MAX_BODY) chunks.push(b);
    });
    req.on('end', () => this.answer(req, res, Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => res.destroy());
  }

  private answer(req: IncomingMessage, res: ServerResponse, text: string): void {
    const mode = this.mode;
    const status = req.method !== 'POST' ? 405 : mode === 'up' ? 204 : mode === 'error' ? 502 : 0;
    this.record(req, text, status);
    if (mode === 'timeout' && req.method === 'POST') {
      this.held.add(res);
      const cut = setTimeout(() => res.destroy(), HOLD_MS);
      res.on('close', () => {
        clearTimeout(cut);
        this.held.delete(res);
      });
      return;
    }
    res.writeHead(status === 0 ? 502 : status).end();
  }

  private record(req: IncomingMessage, text: string, status: number): void {
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
    } catch {
      this.malformed++;
    }
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const jobId = str(body.job_id);
    if (status >= 200 && status < 300 && jobId !== '') this.delivered.set(jobId, this.count(jobId) + 1);
    if (this.posts.length >= MAX_POSTS) return;
    this.posts.push({
      at: Date.now(),
      jobId,
      event: str(body.event),
      state: str(body.state),
      dedupKey: str(body.dedup_key),
      idempotencyKey: str(req.headers['idempotency-key']),
      status,
    });
  }
}
