import { errorMessage } from '@alter0/core';
import { loadConfig, splitListen } from '@alter0/config';
import { ApiRequestError, ApiUnreachableError, createApiClient } from '@alter0/api';
import { networkCause } from '../client.js';
import { EXIT } from '../exit-codes.js';
import { output } from '../output.js';
import type { HealthcheckArgs } from '../descriptors/healthcheck.js';

export interface ProbeResult {
  ok: boolean;
  /** One line: what answered, or why not. */
  detail: string;
}

/** GET `url` through `call` with a deadline; `call` returns null when the answer is good, else why not. Never throws. */
async function probe(
  url: string,
  call: (signal: AbortSignal) => Promise<string | null>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeResult> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const why = await call(signal ? AbortSignal.any([signal, deadline]) : deadline);
    return why === null ? { ok: true, detail: `GET ${url}: 200` } : { ok: false, detail: `GET ${url} ${why}` };
  } catch (err) {
    if (deadline.aborted) return { ok: false, detail: `GET ${url}: no answer within ${timeoutMs} ms` };
    if (err instanceof ApiUnreachableError) return { ok: false, detail: `GET ${url} failed: ${networkCause(err)}` };
    // An error envelope quotes the service; anything else (another program on that port?) says what came back.
    if (err instanceof ApiRequestError)
      return { ok: false, detail: `GET ${url} answered ${err.status}: ${err.message}` };
    return { ok: false, detail: `GET ${url} failed: ${errorMessage(err)}` };
  }
}

/**
 * Liveness (/healthz: the process answers) then readiness (/readyz: it accepts work). Ready only if both
 * answer 200 with their documented bodies; the first failure is the reason. No token: both are open.
 */
export async function healthcheck(addr: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  // A redirect is not an answer of alter0's: report it instead of following it elsewhere.
  const api = createApiClient({ baseUrl: addr, fetch: (url, init) => fetch(url, { ...init, redirect: 'manual' }) });
  const base = addr.replace(/\/+$/, '');
  const live = await probe(`${base}/healthz`, async (s) => (await api.healthz({ signal: s }), null), timeoutMs, signal);
  if (!live.ok) return { ok: false, detail: `not alive: ${live.detail}` };
  const ready = await probe(
    `${base}/readyz`,
    async (s) => {
      const r = await api.readyz({ signal: s });
      return r.body.ready ? null : `answered ${r.status}: ${r.body.error.message}`;
    },
    timeoutMs,
    signal,
  );
  if (!ready.ok) return { ok: false, detail: `alive but not ready: ${ready.detail}` };
  return { ok: true, detail: `ready: ${addr}` };
}

/** --addr, else $ALTER0_URL, else the configured listen address (a wildcard host probed on loopback). */
function defaultAddr(args: HealthcheckArgs): string {
  if (args.addr !== undefined) return args.addr;
  if (process.env.ALTER0_URL) return process.env.ALTER0_URL;
  const { config } = loadConfig({
    file: args.config,
    env: process.env,
    flags: args.data === undefined ? {} : { data_dir: args.data },
    cwd: process.cwd(),
  });
  const { host, port } = splitListen(config.listen);
  const connectHost = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${connectHost}:${port}`;
}

/** `alter0 healthcheck`: both probes against the service; exit 0 when it is ready. */
export async function runHealthcheck(args: HealthcheckArgs): Promise<void> {
  const seconds = args.timeout ?? 3;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    process.stderr.write(
      `alter0 healthcheck: --timeout must be a positive number of seconds, got ${String(args.timeout)}\n`,
    );
    process.exitCode = EXIT.usage;
    return;
  }
  let addr: string;
  try {
    addr = defaultAddr(args);
    new URL('/', addr);
  } catch (err) {
    process.stderr.write(`alter0 healthcheck: cannot tell where the service listens: ${errorMessage(err)}\n`);
    process.exitCode = EXIT.failure;
    return;
  }
  const result = await healthcheck(addr, Math.round(seconds * 1000));
  // The detail quotes the service's answer.
  if (result.ok) output.text(result.detail);
  else output.note(`alter0 healthcheck: ${result.detail}`);
  process.exitCode = result.ok ? EXIT.ok : EXIT.failure;
}
