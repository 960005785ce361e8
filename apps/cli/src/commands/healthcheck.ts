import type { CommandModule } from 'yargs';
import { errorMessage } from '@alter0/core';
import { loadConfig, splitListen } from '@alter0/config';
import { EXIT } from '../exit-codes.js';
import { output } from '../output.js';

export interface ProbeResult {
  ok: boolean;
  /** One line: what answered, or why not. */
  detail: string;
}

/** GET `url` with a deadline; ok on 2xx. Never throws. */
async function probe(url: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, deadline]) : deadline, redirect: 'manual' });
    const text = (await res.text()).slice(0, 300);
    let why = text.trim();
    try {
      const body = JSON.parse(text) as { error?: { message?: unknown } };
      if (typeof body.error?.message === 'string') why = body.error.message;
    } catch {
      // Not JSON (another program on that port?): show the raw start of the answer.
    }
    if (res.ok) return { ok: true, detail: `GET ${url}: ${res.status}` };
    return { ok: false, detail: `GET ${url} answered ${res.status}${why ? `: ${why}` : ''}` };
  } catch (err) {
    if (deadline.aborted) return { ok: false, detail: `GET ${url}: no answer within ${timeoutMs} ms` };
    const cause = (err as { cause?: { code?: unknown } }).cause?.code;
    return { ok: false, detail: `GET ${url} failed: ${typeof cause === 'string' ? cause : errorMessage(err)}` };
  }
}

/**
 * Liveness (/healthz: the process answers) then readiness (/readyz: it accepts work). Ready only if both
 * answer 2xx; the first failure is the reason.
 */
export async function healthcheck(addr: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const live = await probe(new URL('/healthz', addr).toString(), timeoutMs, signal);
  if (!live.ok) return { ok: false, detail: `not alive: ${live.detail}` };
  const ready = await probe(new URL('/readyz', addr).toString(), timeoutMs, signal);
  if (!ready.ok) return { ok: false, detail: `alive but not ready: ${ready.detail}` };
  return { ok: true, detail: `ready: ${addr}` };
}

/** --addr, else $ALTER0_URL, else the configured listen address (a wildcard host probed on loopback). */
function defaultAddr(args: HealthcheckArgs): string {
  if (args.addr !== undefined) return args.addr;
  if (process.env.ALTER0_URL) return process.env.ALTER0_URL;
  const { config } = loadConfig({ file: args.config, env: process.env, flags: args.data === undefined ? {} : { data_dir: args.data }, cwd: process.cwd() });
  const { host, port } = splitListen(config.listen);
  const connectHost = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${connectHost}:${port}`;
}

interface HealthcheckArgs {
  addr?: string;
  timeout?: number;
  config?: string;
  data?: string;
}

export const healthcheckCommand: CommandModule<object, HealthcheckArgs> = {
  command: 'healthcheck',
  describe: 'exit 0 when the running service is alive and ready, 1 otherwise (for Docker HEALTHCHECK and scripts)',
  builder: (y) =>
    y
      .option('addr', { type: 'string', describe: 'URL of the service (default: $ALTER0_URL, else the configured listen address)' })
      .option('timeout', { type: 'number', default: 3, describe: 'seconds to wait for each answer' })
      .option('config', { type: 'string', describe: 'config file to read the listen address from' })
      .option('data', { type: 'string', alias: 'data-dir', describe: 'data directory whose config to read' }) as never,
  handler: async (args) => {
    const seconds = args.timeout ?? 3;
    if (!Number.isFinite(seconds) || seconds <= 0) {
      process.stderr.write(`alter0 healthcheck: --timeout must be a positive number of seconds, got ${String(args.timeout)}\n`);
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
  },
};
