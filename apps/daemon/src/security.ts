import { timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { sendError } from './errors.js';

/** Host of a Host header or URL authority, without the port, lower-cased ("[::1]" keeps its brackets). */
function hostOnly(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end === -1 ? a : a.slice(0, end + 1);
  }
  const colon = a.lastIndexOf(':');
  return colon === -1 ? a : a.slice(0, colon);
}

/** DNS-rebinding defence: only known Host names reach the API or the console. */
export function hostAllowlist(allowed: ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    if (!host) {
      return sendError(
        c,
        403,
        'host_not_allowed',
        'the request has no Host header; send the name you reach alter0 by (HTTP/1.1 clients do)',
      );
    }
    if (!allowed.has(hostOnly(host))) {
      // The allowed names are not listed: a probe learns nothing about the owner's other names for this machine.
      const name = hostOnly(host).slice(0, 100);
      return sendError(
        c,
        403,
        'host_not_allowed',
        `Host "${name}" is not allowed (DNS-rebinding defence). If you reach alter0 by this name, add "${name}" to allowed_hosts in the config (or set public_url to the URL you use) and restart alter0.`,
      );
    }
    await next();
  };
}

/**
 * Cross-origin protection for state-changing requests, after Go's http.CrossOriginProtection: a browser's
 * Sec-Fetch-Site must be same-origin (or none: typed by the user); without it, an Origin header must name this
 * host. Requests with neither come from non-browser clients (curl, the CLI) and pass.
 */
export function crossOriginProtection(): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    if (!sameOrigin(c.req.header('sec-fetch-site'), c.req.header('origin'), c.req.header('host'))) {
      return sendError(
        c,
        403,
        'cross_origin',
        'cross-origin request refused: state can only be changed from the console itself or from non-browser clients',
      );
    }
    await next();
  };
}

export function sameOrigin(
  secFetchSite: string | undefined,
  origin: string | undefined,
  host: string | undefined,
): boolean {
  if (secFetchSite !== undefined) return secFetchSite === 'same-origin' || secFetchSite === 'none';
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    return new URL(origin).host.toLowerCase() === (host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

/** POST and PATCH bodies are JSON only: a form or text/plain post (what a foreign page can send without preflight) is refused. */
export function requireJson(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'POST' || c.req.method === 'PATCH') {
      const ct = c.req.header('content-type') ?? '';
      if (!/^application\/json(\s*;|$)/i.test(ct)) {
        return sendError(
          c,
          415,
          'unsupported_media_type',
          'send the request body as JSON with Content-Type: application/json',
        );
      }
    }
    await next();
  };
}

/** Bearer token (required when listening beyond loopback), compared in constant time. */
export function bearerToken(token: string): MiddlewareHandler {
  const want = createHash('sha256').update(token).digest();
  return async (c, next) => {
    const auth = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    const got = createHash('sha256')
      .update(m?.[1]?.trim() ?? '')
      .digest();
    if (!m || !timingSafeEqual(want, got)) {
      return sendError(
        c,
        401,
        'unauthorized',
        'missing or wrong bearer token: send Authorization: Bearer <token from token_file>',
      );
    }
    await next();
  };
}
