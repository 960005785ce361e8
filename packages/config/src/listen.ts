import { isIP } from 'node:net';
import { ConfigError } from '@alter0/core';

export interface ListenAddress {
  /** Host without brackets (`::1`, not `[::1]`). */
  host: string;
  port: number;
}

/**
 * Splits `host:port` (`127.0.0.1:7070`, `[::1]:7070`, `localhost:0`). IPv6 hosts must be bracketed
 * because their colons would make the port ambiguous. Port 0 asks the OS for an ephemeral port.
 */
export function splitListen(listen: string): ListenAddress {
  const fail = (why: string): never => {
    throw new ConfigError(
      `invalid listen address ${JSON.stringify(listen)}: ${why}; write host:port such as "127.0.0.1:7070" or "[::1]:7070"`,
    );
  };
  let host: string;
  let portText: string;
  if (listen.startsWith('[')) {
    const close = listen.indexOf(']');
    if (close < 0) return fail('missing "]" after the IPv6 address');
    host = listen.slice(1, close);
    if (isIP(host) !== 6) return fail(`${JSON.stringify(host)} is not an IPv6 address`);
    if (listen[close + 1] !== ':') return fail('missing ":port" after "]"');
    portText = listen.slice(close + 2);
  } else {
    const colon = listen.lastIndexOf(':');
    if (colon < 0) return fail('missing ":port"');
    host = listen.slice(0, colon);
    portText = listen.slice(colon + 1);
    if (host.includes(':')) return fail('IPv6 addresses must be in brackets');
    if (host === '') return fail('missing host');
    if (
      isIP(host) === 0 &&
      !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)
    ) {
      return fail(`${JSON.stringify(host)} is not an IP address or host name`);
    }
  }
  if (!/^\d{1,5}$/.test(portText)) return fail(`port ${JSON.stringify(portText)} is not a number`);
  const port = Number(portText);
  if (port > 65535) return fail(`port ${port} is above 65535`);
  return { host, port };
}

/**
 * True for names and addresses that only this machine can reach: `localhost` (and `*.localhost`),
 * 127.0.0.0/8, `::1` and IPv4-mapped loopback. Brackets around IPv6 are accepted.
 */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^(?:0:0:0:0:0:|::)ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h)?.[1];
    return mapped !== undefined && mapped.startsWith('127.');
  }
  return false;
}
