import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { Alter0Error, errorMessage } from '@alter0/core';
import { splitListen } from '@alter0/config';
import type { Store } from '@alter0/store';
import type { Logger } from '@alter0/obs';

type Fetch = Parameters<typeof serve>[0]['fetch'];

/** Binds the HTTP listener on the configured address; a bind that fails says why in the owner's words. */
export function listen(fetch: Fetch, listenAt: string): Promise<ServerType> {
  const { host, port } = splitListen(listenAt);
  return new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch, hostname: host.replace(/^\[|\]$/g, ''), port }, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new Alter0Error(
            'port_in_use',
            `cannot listen on ${listenAt}: the address is in use by another program (another alter0 on a different data directory?). Stop it, or choose another address with --listen or \`listen\` in the config.`,
          ),
        );
      } else if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
        reject(
          new Alter0Error(
            'listen_failed',
            `cannot listen on ${listenAt}: ${err.code} (${err.message}); choose an address this machine has and a port above 1023`,
          ),
        );
      } else reject(err);
    });
  });
}

/**
 * After the bind, a listener error (e.g. out of file descriptors) is logged, recorded and reported as the http
 * channel's (degraded), not fatal: the server keeps accepting once the cause passes.
 */
export function keepListening(
  server: ServerType,
  store: Store,
  logger: Logger,
  now: () => number,
  report: (state: 'ok' | 'degraded', error?: string) => void,
): void {
  let calm: NodeJS.Timeout | null = null;
  server.on('error', (err: Error) => {
    logger.error('HTTP listener error', { err });
    report('degraded', `the HTTP listener failed: ${errorMessage(err)}`);
    // ok again after a minute without another error: the listener itself never stopped.
    if (calm) clearTimeout(calm);
    calm = setTimeout(() => report('ok'), 60_000);
    calm.unref();
    try {
      store.events.add({
        component: 'gateway',
        level: 'error',
        kind: 'listener_error',
        message: errorMessage(err),
        now: now(),
      });
    } catch {
      // the log line above has it
    }
  });
}

/** The URL the bound listener answers on. */
export function urlOf(server: ServerType): string {
  const addr = server.address() as AddressInfo;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${hostForUrl}:${addr.port}`;
}
