import { ConfigError } from '@alter0/core';
import { formatConfigReport, redactorFor } from '@alter0/config';
import { createLogger } from '@alter0/obs';
import { apiToken, startDaemon } from '@alter0/daemon';
import type { Daemon } from '@alter0/daemon';
import { checkPermissions } from '@alter0/maintenance';
import { loadLocalConfig } from '../config-args.js';
import type { ServeArgs } from '../descriptors/serve.js';

/** `alter0 serve`: the daemon in this process, with signal handling and the log. */
export async function serve(args: ServeArgs): Promise<void> {
  const loaded = loadLocalConfig(args);
  if (args['print-config']) {
    process.stdout.write(`${formatConfigReport(loaded)}\n`);
    return;
  }
  const { config } = loaded;
  // Before anything writes into the data directory (the logger is first): one that others can change is refused.
  const permissions = checkPermissions(config, process.getuid?.() ?? null);
  if (!permissions.ok) throw new ConfigError(`${permissions.detail}\n${permissions.fix ?? ''}`);
  // The one redactor, from the config and the token: the log, stored agent stderr and error messages use it.
  const redact = redactorFor(config, apiToken(config));
  const logger = createLogger({
    level: config.log.level,
    dir: config.log.file ? config.log.dir : null,
    maxSize: config.log.max_size,
    maxFiles: config.log.max_files,
    console: true,
    redact,
  });
  logger.info('starting', {
    config_file: loaded.file ?? undefined,
    data_dir: config.data_dir,
    listen: config.listen,
    pid: process.pid,
  });
  // The signal handlers go in before the daemon starts (its workers may start agents before startDaemon
  // returns): a SIGTERM during start-up stops it gracefully once it is up, instead of killing the process with
  // its agents still running.
  let daemon: Daemon | null = null;
  let signals = 0;
  const stopGracefully = (d: Daemon): void => {
    void d.stop().then(
      async () => {
        await logger.close();
        process.exit(0);
      },
      async (err: unknown) => {
        logger.error('shutdown failed', { err });
        await logger.close();
        process.exit(1);
      },
    );
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      logger.info('signal received: stopping gracefully (send it again to stop at once)', {
        signal: sig,
        starting: daemon === null,
      });
      if (daemon) stopGracefully(daemon);
    } else {
      // Fast path: kill every agent process tree now and go. Everything committed is safe; jobs left running
      // are recovered (re-queued) at the next start.
      const killed = daemon?.killAgents() ?? 0;
      logger.warn('second signal: stopping now', { signal: sig, agent_groups_killed: killed });
      void logger.close().finally(() => process.exit(0));
      setTimeout(() => process.exit(0), 1000).unref();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    daemon = await startDaemon({ config, logger, redact });
  } catch (err) {
    logger.error('start failed', { err });
    await logger.close();
    throw err;
  }
  if (signals > 0) stopGracefully(daemon);
}
