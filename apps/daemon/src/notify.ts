import { spawn as nodeSpawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { errorMessage } from '@alter0/core';
import type { Logger } from '@alter0/obs';

/**
 * systemd readiness and watchdog notifications (sd_notify protocol) for `Type=notify` units.
 *
 * Node has no unix datagram sockets, so each message is sent by running `systemd-notify`, which ships with
 * systemd itself (wherever NOTIFY_SOCKET is set, it is there) and needs no native addon. Since systemd 246
 * `systemd-notify` waits until PID 1 has processed the message (sd_notify_barrier), which closes the old race
 * where a short-lived sender exited before PID 1 could attribute its message to the unit. The sender is a
 * child of the main process, so the unit needs `NotifyAccess=all`; `--pid=` names the main process.
 */

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface NotifierOptions {
  /** The environment systemd gave this process: NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID (and PATH to find the program). */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Replaces child_process.spawn (tests). */
  spawn?: SpawnFn;
  /** The sender program; default `systemd-notify`, looked up on env.PATH. */
  program?: string;
  /** The main process id reported with READY=1; default process.pid. */
  pid?: number;
  /** Kills a sender that has not finished after this long (PID 1 stalled); default 10 s. */
  sendTimeoutMs?: number;
  /** Aborting stops the watchdog and kills senders still running. */
  signal?: AbortSignal;
  /**
   * Remove NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from `env` once read (default true), like
   * sd_notify's unset_environment: with NotifyAccess=all any process of the unit may notify systemd, so the
   * agent CLIs and their tools must not inherit the socket. Create the notifier before spawning anything.
   */
  unsetEnvironment?: boolean;
}

export interface Notifier {
  /** False when NOTIFY_SOCKET is absent (not started by systemd as Type=notify): every method is then a no-op. */
  readonly enabled: boolean;
  /** Ping interval (half of WATCHDOG_USEC) when systemd asked this process for watchdog pings, else null. */
  readonly watchdogIntervalMs: number | null;
  /** READY=1: call once the database is open and the listener bound. Never rejects: a failure is logged. */
  ready(): Promise<void>;
  /** STOPPING=1: call when a graceful stop begins, so systemd shows "deactivating" rather than a hang. */
  stopping(): void;
  /**
   * Sends WATCHDOG=1 every `watchdogIntervalMs`, but only while `healthy()` returns true: a stuck worker loop or
   * an unwritable database stops the pings and systemd restarts the service after WatchdogSec. Returns `stop`.
   */
  startWatchdog(healthy: () => boolean): () => void;
  /** STATUS=<text>: the one-line state `systemctl status alter0` shows. */
  status(text: string): void;
}

const DEFAULT_SEND_TIMEOUT_MS = 10_000;
const STDERR_TAIL_CHARS = 500;

/** WATCHDOG_USEC halved, in ms; null when absent, malformed, or meant for another process (WATCHDOG_PID). */
export function watchdogInterval(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = env.WATCHDOG_USEC;
  if (!usec || !/^\d+$/.test(usec)) return null;
  const forPid = env.WATCHDOG_PID;
  if (forPid && forPid !== String(pid)) return null;
  const ms = Math.floor(Number(usec) / 2000);
  return ms > 0 ? ms : null;
}

export function createNotifier(opts: NotifierOptions): Notifier {
  const { env, logger } = opts;
  const pid = opts.pid ?? process.pid;
  const socket = env.NOTIFY_SOCKET ?? '';
  const enabled = socket !== '';
  const intervalMs = enabled ? watchdogInterval(env, pid) : null;
  if (opts.unsetEnvironment !== false) {
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
  }
  const sender: Sender = {
    enabled,
    env: { ...env, NOTIFY_SOCKET: socket },
    spawn: opts.spawn ?? nodeSpawn,
    program: opts.program ?? 'systemd-notify',
    timeoutMs: opts.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
    running: new Set<ChildProcess>(),
    log: logger.child({ component: 'notify' }),
    signal: opts.signal,
  };
  const { log } = sender;

  opts.signal?.addEventListener(
    'abort',
    () => {
      for (const child of sender.running) child.kill('SIGKILL');
    },
    { once: true },
  );
  const send = (args: string[]): Promise<boolean> => sendOnce(sender, args);

  return {
    enabled,
    watchdogIntervalMs: intervalMs,
    async ready() {
      if (await send(['--ready', `--pid=${pid}`])) log.info('told systemd the service is ready');
    },
    stopping() {
      void send(['STOPPING=1']);
    },
    status(text) {
      // The status is one line; systemd would cut at the first newline anyway.
      void send([`--status=${text.replace(/\s+/g, ' ').trim()}`]);
    },
    startWatchdog(healthy) {
      if (intervalMs === null || opts.signal?.aborted) return () => {};
      return startWatchdog(sender, intervalMs, healthy);
    },
  };
}

/** How messages reach systemd: one run of the sender program per message. */
interface Sender {
  enabled: boolean;
  env: NodeJS.ProcessEnv;
  spawn: SpawnFn;
  program: string;
  timeoutMs: number;
  /** Senders still running (killed when the notifier's signal aborts). */
  running: Set<ChildProcess>;
  log: Logger;
  signal: AbortSignal | undefined;
}

/** Runs the sender once; resolves true when it exited 0. Never rejects. */
function sendOnce(s: Sender, args: string[]): Promise<boolean> {
  if (!s.enabled || s.signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    let child: ChildProcess;
    try {
      child = s.spawn(s.program, args, { env: s.env, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      s.log.error('could not run systemd-notify', {
        args,
        error: errorMessage(err),
        fix: 'install systemd (it ships systemd-notify) or put it on PATH',
      });
      resolve(false);
      return;
    }
    s.running.add(child);
    awaitSender(s, child, args, resolve);
  });
}

/** Settles one send once its sender exits, fails to run, or is killed for taking longer than the send timeout. */
function awaitSender(s: Sender, child: ChildProcess, args: string[], resolve: (ok: boolean) => void): void {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_TAIL_CHARS);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), s.timeoutMs);
  timer.unref();
  let settled = false;
  const finish = (ok: boolean, fields: Record<string, unknown>): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    s.running.delete(child);
    if (!ok) s.log.error('systemd notification failed', { args, ...fields, stderr: stderr.trim() || undefined });
    resolve(ok);
  };
  child.once('error', (err) => {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    finish(false, {
      error: errorMessage(err),
      fix: missing ? `${s.program} is not on PATH; install systemd (it ships systemd-notify)` : undefined,
    });
  });
  child.once('close', (code, sig) => {
    if (code === 0) finish(true, {});
    else
      finish(false, {
        exit_code: code,
        signal: sig ?? undefined,
        error: sig === 'SIGKILL' ? `no answer from systemd within ${s.timeoutMs} ms` : undefined,
      });
  });
}

/** How soon a failed live check is tried again (at most the ping interval). */
const RECHECK_MS = 1_000;

/** Pings the watchdog every interval while `healthy()` holds; returns the function that stops the pings. */
function startWatchdog(s: Sender, intervalMs: number, healthy: () => boolean): () => void {
  const { log } = s;
  let inFlight = false;
  let wasHealthy = true;
  let recheck: NodeJS.Timeout | null = null;
  const recheckSoon = (): void => {
    if (s.signal?.aborted) return;
    recheck = setTimeout(tick, Math.min(RECHECK_MS, intervalMs));
    recheck.unref();
  };
  const tick = (): void => {
    if (recheck) clearTimeout(recheck);
    recheck = null;
    // A sender still waiting on PID 1 is enough; piling more up would not help. But look again soon: a pause
    // (SIGSTOP, a suspend) that lands after a ping went out and before its sender was reaped leaves this tick —
    // the overdue one, first thing after the pause — seeing it in flight, and skipping to the next interval added
    // a whole interval to the silence (a 21 s stop under WatchdogSec 30 s got a healthy daemon killed).
    if (inFlight) {
      recheckSoon();
      return;
    }
    let ok: boolean;
    try {
      ok = healthy();
    } catch (err) {
      log.error('live check threw; treated as unhealthy', { error: errorMessage(err) });
      ok = false;
    }
    if (!ok) {
      if (wasHealthy)
        log.warn('live check failed: watchdog pings paused; systemd restarts the service if it stays unhealthy', {
          interval_ms: intervalMs,
        });
      wasHealthy = false;
      // Soon, not a whole interval later: after a stop (SIGSTOP, a suspend) the workers' sign of life is stale
      // until their next round, a second or so; waiting the interval added it to the silence, and a stop shorter
      // than WatchdogSec got a healthy daemon killed.
      recheckSoon();
      return;
    }
    if (!wasHealthy) log.info('live check passes again: watchdog pings resumed');
    wasHealthy = true;
    inFlight = true;
    void sendOnce(s, ['WATCHDOG=1']).finally(() => {
      inFlight = false;
    });
  };
  const timer = setInterval(tick, intervalMs);
  // The watchdog must never be what keeps the process alive at shutdown.
  timer.unref();
  tick();
  const stop = (): void => {
    clearInterval(timer);
    if (recheck) clearTimeout(recheck);
  };
  s.signal?.addEventListener('abort', stop, { once: true });
  return stop;
}
