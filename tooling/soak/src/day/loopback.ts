import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP server on 127.0.0.1 that can be taken off the network and put back on the same port: `down()` closes the
 * listening socket and every open connection (a client then sees ECONNREFUSED, a real outage), `up()` listens again.
 */
export class LoopbackServer {
  private server: Server | null = null;
  private constructor(
    private readonly handler: RequestListener,
    public port: number,
  ) {}

  /** Listens on `port` (0: an ephemeral one, kept for every later up()). */
  static async start(handler: RequestListener, port = 0): Promise<LoopbackServer> {
    const s = new LoopbackServer(handler, port);
    await s.up();
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get listening(): boolean {
    return this.server !== null;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer(this.handler);
    // The daemon keeps connections alive; closing idle ones first would make its next request fail spuriously.
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
