import type { Config } from './schema.js';
import { splitListen } from './listen.js';

/**
 * Host names (as they appear in a Host header, without the port; IPv6 in brackets, lower case)
 * the gateway should accept: the loopback names, the listen host, public_url's host and allowed_hosts.
 */
export function allowedHosts(config: Pick<Config, 'listen' | 'public_url' | 'allowed_hosts'>): string[] {
  const hosts = new Set(['localhost', '127.0.0.1', '[::1]']);
  const { host } = splitListen(config.listen);
  hosts.add(host.includes(':') ? `[${host.toLowerCase()}]` : host.toLowerCase());
  if (config.public_url !== '') hosts.add(new URL(config.public_url).hostname.toLowerCase());
  for (const h of config.allowed_hosts) hosts.add(h.toLowerCase().replace(/\.$/, ''));
  return [...hosts];
}
