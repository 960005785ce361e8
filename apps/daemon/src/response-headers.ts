import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

/**
 * The console's Content-Security-Policy. Vite's build (apps/web/dist/index.html) loads one module script and one
 * stylesheet from this origin and has no inline script or style; its icons, web app manifest and service worker
 * (sw.js, which caches nothing) are files of this origin; live updates and API calls go to this origin. Nothing
 * else is allowed: a model reply rendered by the console cannot load or send anything elsewhere, and no other site
 * may frame the console (clickjacking).
 */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  manifestSrc: ["'self'"],
  workerSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** Security headers on every answer (API, console, errors), set after the handler so early refusals get them too. */
export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    // HSTS is the TLS terminator's call (a reverse proxy in front of public_url): over plain HTTP on loopback it
    // means nothing, and includeSubDomains could bind the owner's other hosts.
    strictTransportSecurity: false,
  });
}

/** API answers are live state (and may carry replies): no browser or proxy keeps a copy, SSE and errors included. */
export function noStore(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.res.headers.set('Cache-Control', 'no-store');
  };
}
