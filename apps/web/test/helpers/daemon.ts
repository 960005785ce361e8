import type { ApiClient } from '@alter0/api';
import { inheritedEnv, startDaemon as startServe } from '@alter0/testkit';

export interface Daemon {
  url: string;
  /** @alter0/api's typed client (from @alter0/testkit); it validates every answer. */
  client: ApiClient;
  /** stderr so far: the daemon's JSON log, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface DaemonOptions {
  dataDir: string;
  /** The `command` executor's program and arguments. */
  command: readonly string[];
  /** host:port; port 0 picks a free one. */
  listen?: string;
  /** More `alter0 serve` arguments, e.g. ['--set', 'token_file=/path']. */
  extraArgs?: readonly string[];
  /** More environment variables, e.g. settings such as ALTER0_NOTIFY__WEBHOOK_URLS. */
  env?: Readonly<Record<string, string>>;
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Starts `alter0 serve` (@alter0/testkit) with the command executor and resolves once it is ready. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const d = await startServe({
    // ALTER0_BIN points the tests at another build (e.g. an installed one); default: the repository's.
    ...(process.env.ALTER0_BIN === undefined ? {} : { bin: process.env.ALTER0_BIN }),
    data: opts.dataDir,
    ...(opts.listen === undefined ? {} : { listen: opts.listen }),
    args: ['--executor', 'command', '--command', opts.command.join(' '), ...(opts.extraArgs ?? [])],
    env: { ...inheritedEnv(), ALTER0_CONFIG: process.env.ALTER0_CONFIG ?? '', NO_COLOR: '1', ...opts.env },
    // A cold start is about a second on an idle machine, several on a loaded two-core one.
    startTimeoutMs: opts.startTimeoutMs ?? 45_000,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  return {
    url: d.url,
    client: d.client,
    log: d.stderr,
    async stop() {
      await d.stop('SIGTERM', 10_000);
      await d.cleanup();
    },
  };
}
