import fs from 'node:fs';
import path from 'node:path';
import { harnessError, violate } from '../run-state.js';
import type { SoakRun } from '../run-state.js';
import type { SoakFeature } from './feature.js';

/**
 * A watchdog like systemd's `WatchdogSec=` for a `Type=notify` unit. The daemon sends its notifications by running
 * `systemd-notify` (apps/daemon/src/notify.ts); a fake one, first on the daemon's PATH, appends each call to a log
 * (real-clock µs, parent pid, args). When a daemon that is up sends no WATCHDOG=1 for `watchdogSec`, it is declared
 * hung and killed, as systemd would (WatchdogSignal, then SIGKILL); the supervisor restarts it.
 */
export interface WatchdogOptions {
  /** systemd's WatchdogSec: the daemon is given WATCHDOG_USEC and pings every half of it. */
  watchdogSec: number;
  /**
   * Kills the hung daemon (the core wires this to its kill -9 / restart path, so the kill gets the same checks).
   * Without it the watchdog SIGKILLs the process itself and leaves the restart to the supervisor.
   */
  onHung?: (reason: string) => Promise<void>;
  /** How often the log is read and the silence judged (default 200 ms): the precision of the hung verdict. */
  checkEveryMs?: number;
  /** A hang outside an `expectSilence` window is a `hostile_outcome` violation (default true). */
  hangIsViolation?: boolean;
}

/** One declared hang, for the report and the moments. */
interface Hang {
  at: number;
  pid: number;
  gen: number;
  /** How long the daemon had been silent when it was declared hung. */
  silentMs: number;
  expected: boolean;
  reason: string;
  /** Declared hung → the next generation serving (set by afterRestart); null until then. */
  restartedAfterMs: number | null;
}

export interface WatchdogFeature extends SoakFeature {
  readonly watchdogMs: number;
  /** The daemon's ping interval (WatchdogSec / 2, as notify.ts computes it). */
  readonly intervalMs: number;
  /** When the serving daemon last sent WATCHDOG=1 (harness clock, ms); null when it has not yet. */
  lastPing(): number | null;
  /** Every WATCHDOG=1 time (ms) of process `pid` after `since`. */
  pingsOf(pid: number, since?: number): number[];
  /** Whether `pid` sent READY=1. */
  readySeen(pid: number): boolean;
  hangs(): readonly Hang[];
  /** A moment that makes the daemon go quiet on purpose (SIGSTOP, a full disk) says so: a hang until then is expected. */
  expectSilence(untilMs: number): void;
  /** Reads the notify log and judges the silence now (the moments call it for a fresh view). */
  check(run: SoakRun): void;
}

interface PidState {
  /** When the harness first saw this process serving: the watchdog is armed from then. */
  armedAt: number;
  gen: number;
  pings: number[];
  ready: boolean;
  hung: boolean;
}

const FAKE_NOTIFY = (log: string): string =>
  // env -S -u: a clock-faked daemon (LD_PRELOAD=libfaketime) must not fake the stamp; bash's EPOCHREALTIME costs no
  // fork, so a ping stays one short process, as the real systemd-notify is.
  `#!/usr/bin/env -S -u LD_PRELOAD /bin/bash
# The soak's stand-in for systemd-notify (tooling/soak/src/day/watchdog.ts): records the notification, exits 0.
printf '%s %s %s\\n' "\${EPOCHREALTIME/[.,]/}" "$PPID" "$*" >> ${JSON.stringify(log)}
`;

/** The fake notifier, the watchdog's timer and its verdicts. */
export function watchdogFeature(opts: WatchdogOptions): WatchdogFeature {
  const watchdogMs = Math.round(opts.watchdogSec * 1000);
  const s = {
    run: null as SoakRun | null,
    log: '',
    offset: 0,
    partial: '',
    pids: new Map<number, PidState>(),
    hangs: [] as Hang[],
    quietUntil: 0,
    timer: null as NodeJS.Timeout | null,
    pending: new Set<Promise<void>>(),
  };
  const counters = (run: SoakRun): Record<string, number> => (run.result.features.watchdog ??= {});
  const feature: WatchdogFeature = {
    name: 'watchdog',
    watchdogMs,
    intervalMs: Math.floor(watchdogMs / 2),
    prepare: (run) => {
      s.run = run;
      const dir = path.join(run.work, 'watchdog');
      fs.mkdirSync(dir, { recursive: true });
      s.log = path.join(dir, 'notify.log');
      fs.writeFileSync(s.log, '');
      fs.writeFileSync(path.join(dir, 'systemd-notify'), FAKE_NOTIFY(s.log), { mode: 0o755 });
      Object.assign(counters(run), { pings: 0, ready: 0, hung_declared: 0, watchdog_restarts: 0, max_ping_gap_ms: 0 });
      s.timer = setInterval(() => feature.check(run), opts.checkEveryMs ?? 200);
      s.timer.unref();
      return Promise.resolve({
        sets: [],
        env: {
          // The daemon looks the program up on its PATH (inheritedEnv takes the rest of the harness's environment).
          PATH: `${dir}${path.delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
          NOTIFY_SOCKET: path.join(dir, 'notify.sock'),
          WATCHDOG_USEC: String(watchdogMs * 1000),
        },
      });
    },
    poll: (run) => {
      feature.check(run);
      return Promise.resolve();
    },
    afterRestart: (run) => {
      // A new generation after a declared hang is the restart the watchdog asked for.
      const h = s.hangs.find((x) => x.gen === run.gen - 1 && x.restartedAfterMs === null);
      if (h !== undefined) {
        h.restartedAfterMs = Date.now() - h.at;
        const c = counters(run);
        c.watchdog_restarts = (c.watchdog_restarts ?? 0) + 1;
        c.watchdog_restart_max_ms = Math.max(c.watchdog_restart_max_ms ?? 0, h.restartedAfterMs);
      }
      return Promise.resolve();
    },
    final: (run) => {
      feature.check(run);
      checkReady(run, s.pids);
      return Promise.resolve();
    },
    close: async () => {
      if (s.timer !== null) clearInterval(s.timer);
      await Promise.allSettled([...s.pending]);
    },
    lastPing: () => {
      const d = s.run?.daemon;
      return d ? (s.pids.get(d.pid)?.pings.at(-1) ?? null) : null;
    },
    pingsOf: (pid, since = 0) => (s.pids.get(pid)?.pings ?? []).filter((t) => t > since),
    readySeen: (pid) => s.pids.get(pid)?.ready ?? false,
    hangs: () => s.hangs,
    expectSilence: (until) => {
      s.quietUntil = Math.max(s.quietUntil, until);
    },
    check: (run) => {
      readLog(run, s, counters(run));
      judge(run, s, watchdogMs, opts, counters(run));
    },
  };
  return feature;
}

type State = {
  log: string;
  offset: number;
  partial: string;
  pids: Map<number, PidState>;
  hangs: Hang[];
  quietUntil: number;
  pending: Set<Promise<void>>;
};

function pidState(run: SoakRun, s: State, pid: number): PidState {
  let p = s.pids.get(pid);
  if (p === undefined) {
    p = {
      armedAt: Date.now(),
      gen: run.daemon?.pid === pid ? run.daemon.gen : 0,
      pings: [],
      ready: false,
      hung: false,
    };
    s.pids.set(pid, p);
  }
  return p;
}

/** Takes in the notifications appended since the last read. */
function readLog(run: SoakRun, s: State, c: Record<string, number>): void {
  let text: string;
  try {
    const fd = fs.openSync(s.log, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= s.offset) return;
      const buf = Buffer.alloc(Math.min(size - s.offset, 1 << 20));
      fs.readSync(fd, buf, 0, buf.length, s.offset);
      s.offset += buf.length;
      text = s.partial + buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    harnessError(run, 'watchdog: reading the notify log', err);
    return;
  }
  const lines = text.split('\n');
  s.partial = lines.pop() ?? '';
  for (const line of lines) {
    const m = /^(\d+) (\d+) (.*)$/.exec(line);
    if (!m) continue;
    const p = pidState(run, s, Number(m[2]));
    const at = Math.round(Number(m[1]) / 1000);
    if (m[3]?.includes('--ready') === true) {
      p.ready = true;
      c.ready = (c.ready ?? 0) + 1;
    }
    if (m[3] !== 'WATCHDOG=1') continue;
    const prev = p.pings.at(-1) ?? null;
    if (prev !== null) c.max_ping_gap_ms = Math.max(c.max_ping_gap_ms ?? 0, at - prev);
    p.pings.push(at);
    // A day of pings every few seconds is tens of thousands: keep the recent ones (the moments look back seconds).
    if (p.pings.length > 2000) p.pings.splice(0, 1000);
    c.pings = (c.pings ?? 0) + 1;
  }
}

/** systemd's verdict: the serving daemon has been silent for WatchdogSec since its last ping (or since it came up). */
function judge(run: SoakRun, s: State, watchdogMs: number, opts: WatchdogOptions, c: Record<string, number>): void {
  const d = run.daemon;
  if (d === null || !run.up || !d.alive || run.signal.aborted) return;
  const p = pidState(run, s, d.pid);
  p.gen = d.gen;
  const now = Date.now();
  const silentMs = now - Math.max(p.armedAt, p.pings.at(-1) ?? 0);
  if (p.hung || silentMs <= watchdogMs) return;
  p.hung = true;
  const expected = now <= s.quietUntil;
  const reason = `watchdog: no WATCHDOG=1 from alter0 serve pid ${d.pid} (generation ${d.gen}) for ${silentMs} ms (WatchdogSec=${watchdogMs / 1000}s)`;
  s.hangs.push({ at: now, pid: d.pid, gen: d.gen, silentMs, expected, reason, restartedAfterMs: null });
  c.hung_declared = s.hangs.length;
  run.log(`${reason}: declared hung${expected ? ' (expected by a moment)' : ''}; killing it`);
  if (!expected && opts.hangIsViolation !== false) {
    run.result.checks.hostile_outcome++;
    violate(run, 'hostile_outcome', `${reason}, outside any moment that silences it (systemd would have restarted it)`);
  }
  const kill = opts.onHung
    ? opts.onHung(reason)
    : // No supervisor hook: kill it as systemd's final SIGKILL does; whoever supervises restarts it.
      Promise.resolve(d.kill9());
  const done = kill.catch((err: unknown) => harnessError(run, 'watchdog: killing the hung daemon', err));
  s.pending.add(done);
  void done.finally(() => s.pending.delete(done));
}

/** Every generation that served told systemd it was ready (Type=notify would otherwise fail the start). */
function checkReady(run: SoakRun, pids: Map<number, PidState>): void {
  for (const [pid, p] of pids) {
    run.result.checks.hostile_outcome++;
    if (!p.ready)
      violate(run, 'hostile_outcome', `watchdog: alter0 serve pid ${pid} (generation ${p.gen}) never sent READY=1`);
  }
}
