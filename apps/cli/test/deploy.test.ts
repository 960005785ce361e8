import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '@alter0/obs';
import { loadConfig, parseDuration } from '@alter0/config';
import { DAEMON_NODE_FLAGS } from '@alter0/core';
import { execArg, renderUnit, servicePath, hiddenFromSystemUnit, CLI_ENTRY } from '../src/commands/service.js';
import type { UnitInputs } from '../src/commands/service.js';
// The notifier lives in the daemon, which wires it into startup; its behaviour as a deployable piece is tested here.
import { createNotifier, watchdogInterval } from '@alter0/daemon';
import type { SpawnFn } from '@alter0/daemon';
import { BIN, cli, serve, tempDir, until } from './harness.js';
import type { Served } from './harness.js';

const REQUIRE_TOOLS = process.env.ALTER0_REQUIRE_TOOLS === '1';
const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => fs.existsSync(p)) ?? null;
const SYSTEMD_INSTALL_HINT = 'apt-get install systemd';
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

const dirs: string[] = [];
function tmp(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Lines systemd-analyze prints about the unit file itself (unknown keys, unparsable values, missing binaries). */
function verifyUnit(file: string, user: boolean): { status: number | null; problems: string[]; stderr: string } {
  if (!SYSTEMD_ANALYZE) throw new Error('systemd-analyze is not installed');
  const runtime = tmp('alter0-xdg-');
  fs.chmodSync(runtime, 0o700);
  const r = spawnSync(SYSTEMD_ANALYZE, ['verify', ...(user ? ['--user'] : []), file], {
    encoding: 'utf8',
    timeout: 30_000,
    // The user manager's lookup paths need a runtime directory.
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' },
  });
  const base = path.basename(file);
  const problems = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes(base));
  return { status: r.status, problems, stderr: r.stderr };
}

const describeSystemd = SYSTEMD_ANALYZE || REQUIRE_TOOLS ? describe : describe.skip;
if (!SYSTEMD_ANALYZE) {
  console.warn(
    `deploy.test: systemd-analyze not found, unit verification skipped; install it with: ${SYSTEMD_INSTALL_HINT}`,
  );
}

describeSystemd('systemd units written by alter0 service install --dry-run', () => {
  it('has systemd-analyze (required with ALTER0_REQUIRE_TOOLS=1)', () => {
    if (!SYSTEMD_ANALYZE)
      throw new Error(
        `systemd-analyze is missing and ALTER0_REQUIRE_TOOLS=1; install it with: ${SYSTEMD_INSTALL_HINT}`,
      );
  });

  it('the verifier used here does catch a broken unit', () => {
    const d = tmp('alter0-unit-');
    const f = path.join(d, 'broken.service');
    fs.writeFileSync(
      f,
      `[Service]\nType=notify\nProtectSystem=sometimes\nFrobnicate=yes\nExecStart=${path.join(d, 'missing-node')} x\n`,
    );
    const v = verifyUnit(f, false);
    expect(v.problems.join('\n')).toMatch(/Frobnicate/);
    expect(v.problems.join('\n')).toMatch(/protect system/i);
  });

  it('the system unit verifies and runs this Node and this checkout', async () => {
    const r = await cli(['service', 'install', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    const d = tmp('alter0-unit-');
    const f = path.join(d, 'alter0.service');
    fs.writeFileSync(f, r.stdout);
    const v = verifyUnit(f, false);
    expect(v.problems, v.stderr).toEqual([]);
    expect(v.status, v.stderr).toBe(0);
    expect(r.stdout).toContain(
      `ExecStart=${process.execPath} ${DAEMON_NODE_FLAGS.join(' ')} ${BIN} serve --data-dir /var/lib/alter0\n`,
    );
    expect(r.stdout).toMatch(/^Type=notify$/m);
    expect(r.stdout).toMatch(/^NotifyAccess=all$/m);
    expect(r.stdout).toMatch(/^WatchdogSec=\d+s$/m);
    expect(r.stdout).toMatch(/^RestartPreventExitStatus=78$/m);
    expect(r.stdout).toMatch(/^KillMode=mixed$/m);
    expect(r.stdout).toMatch(/^User=alter0$/m);
    expect(r.stdout).toMatch(/^StateDirectory=alter0$/m);
    expect(r.stdout).toMatch(/^ReadWritePaths=\/var\/lib\/alter0$/m);
    expect(r.stdout).toContain(`Environment="PATH=${path.dirname(process.execPath)}:`);
    // Default drain 30 s + kill grace 3 s + 15 s margin.
    expect(r.stdout).toMatch(/^TimeoutStopSec=48s$/m);
    expect(r.stdout).not.toMatch(/@[A-Z_]+@/);
  });

  it('the user unit verifies, keeps the installing PATH and names the config and data given', async () => {
    const d = tmp('alter0-unit-');
    const config = path.join(d, 'alter0.toml');
    fs.writeFileSync(config, '[shutdown]\ndrain_timeout_s = 100\n');
    const r = await cli(
      ['service', 'install', '--user', '--dry-run', '--config', config, '--data', path.join(d, 'data')],
      { PATH: `/opt/agents/bin:${process.env.PATH ?? ''}` },
    );
    expect(r.code, r.stderr).toBe(0);
    const f = path.join(d, 'alter0-user.service');
    fs.writeFileSync(f, r.stdout);
    const v = verifyUnit(f, true);
    expect(v.problems, v.stderr).toEqual([]);
    expect(v.status, v.stderr).toBe(0);
    expect(r.stdout).toContain(
      `ExecStart=${process.execPath} ${DAEMON_NODE_FLAGS.join(' ')} ${BIN} serve --data-dir ${path.join(d, 'data')} --config ${config}\n`,
    );
    expect(r.stdout).toMatch(/^Environment="PATH=[^"]*:\/opt\/agents\/bin:/m);
    expect(r.stdout).toMatch(/^TimeoutStopSec=118s$/m);
    expect(r.stdout).toMatch(/^WantedBy=default.target$/m);
    expect(r.stdout).not.toMatch(/^User=/m);
  });
  it('the sysusers file declares the alter0 system user with its home in /var/lib/alter0', () => {
    const sysusers = path.join(path.dirname(SYSTEMD_ANALYZE ?? '/usr/bin/x'), 'systemd-sysusers');
    const root = tmp('alter0-sysroot-');
    fs.mkdirSync(path.join(root, 'etc'));
    for (const f of ['passwd', 'group'])
      fs.writeFileSync(path.join(root, 'etc', f), f === 'passwd' ? 'root:x:0:0:root:/root:/bin/sh\n' : 'root:x:0:\n');
    const r = spawnSync(
      sysusers,
      ['--root', root, '--dry-run', path.join(REPO, 'deploy', 'systemd', 'alter0.sysusers')],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Creating user 'alter0' \(alter0 agent gateway\)/);
    expect(fs.readFileSync(path.join(REPO, 'deploy', 'systemd', 'alter0.sysusers'), 'utf8')).toMatch(
      /^u alter0 - "alter0 agent gateway" \/var\/lib\/alter0 \/usr\/sbin\/nologin$/m,
    );
  });
});

describe('alter0 service install', () => {
  it('writes the user unit under $XDG_CONFIG_HOME and prints the next commands', async () => {
    const home = tmp('alter0-home-');
    const data = path.join(home, 'data');
    const r = await cli(['service', 'install', '--user', '--data', data], {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, 'cfg'),
    });
    expect(r.code, r.stderr).toBe(0);
    const unit = path.join(home, 'cfg', 'systemd', 'user', 'alter0.service');
    expect(fs.readFileSync(unit, 'utf8')).toContain(`--data-dir ${data}`);
    expect(fs.statSync(data).isDirectory()).toBe(true);
    expect(r.stdout).toContain(`wrote ${unit}`);
    expect(r.stdout).toContain('systemctl --user daemon-reload && systemctl --user enable --now alter0');
  });

  it('refuses a system data directory a unit cannot name, and an invalid config', async () => {
    const d = tmp('alter0-unit-');
    const spaced = await cli(['service', 'install', '--dry-run', '--data', path.join(d, 'my data')]);
    expect(spaced.code).toBe(1);
    expect(spaced.stderr).toMatch(/contains whitespace.*choose a simpler path/);
    const config = path.join(d, 'bad.toml');
    fs.writeFileSync(config, '[shutdown]\ndrain_timeout = 5\n');
    const bad = await cli(['service', 'install', '--user', '--dry-run', '--config', config]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/drain_timeout: unknown key/);
  });

  it('warns that the system unit cannot see a checkout under /home (ProtectHome=yes)', () => {
    expect(hiddenFromSystemUnit('/home/me/alter0/apps/cli/bin/alter0.js')).toBe(true);
    expect(hiddenFromSystemUnit('/root/.tools/node/bin/node')).toBe(true);
    expect(hiddenFromSystemUnit('/homework/node')).toBe(false);
    expect(hiddenFromSystemUnit('/opt/alter0/apps/cli/bin/alter0.js')).toBe(false);
  });

  it('resolves the CLI entry of this checkout', () => {
    expect(CLI_ENTRY).toBe(BIN);
    expect(fs.existsSync(path.join(REPO, 'deploy', 'systemd', 'alter0.service'))).toBe(true);
  });
});

describe('unit rendering', () => {
  const base: UnitInputs = {
    mode: 'system',
    node: '/opt/node/bin/node',
    cli: '/opt/alter0/apps/cli/bin/alter0.js',
    dataDir: '/var/lib/alter0',
    configFile: null,
    pathDirs: ['/opt/node/bin', '/usr/bin'],
    timeoutStopS: 48,
  };

  it('escapes specifiers, variables and quotes in ExecStart arguments', () => {
    expect(execArg('/opt/a/node')).toBe('/opt/a/node');
    expect(execArg('/opt/my dir/node')).toBe('"/opt/my dir/node"');
    expect(execArg('/opt/100%/x')).toBe('/opt/100%%/x');
    expect(execArg('/opt/$HOME/x')).toBe('"/opt/$$HOME/x"');
    expect(execArg('/opt/a"b\\c')).toBe('"/opt/a\\"b\\\\c"');
  });

  it('fills every field and refuses unknown ones', () => {
    const out = renderUnit(
      'ExecStart=@EXEC_START@\nReadWritePaths=@DATA_DIR@\nTimeoutStopSec=@TIMEOUT_STOP_S@s\nEnvironment="PATH=@PATH@"\n',
      {
        ...base,
        configFile: '/etc/alter0/alter0.toml',
      },
    );
    expect(out).toBe(
      'ExecStart=/opt/node/bin/node --max-semi-space-size=1 /opt/alter0/apps/cli/bin/alter0.js serve --data-dir /var/lib/alter0 --config /etc/alter0/alter0.toml\n' +
        'ReadWritePaths=/var/lib/alter0\nTimeoutStopSec=48s\nEnvironment="PATH=/opt/node/bin:/usr/bin"\n',
    );
    expect(() => renderUnit('X=@NOPE@\nReadWritePaths=@DATA_DIR@\n', base)).toThrow(/unknown field @NOPE@/);
    expect(() => renderUnit('ExecStart=@EXEC_START@\n', base)).toThrow(/does not use @DATA_DIR@/);
    expect(() => renderUnit('ReadWritePaths=@DATA_DIR@\n', { ...base, node: 'node' })).toThrow(/absolute path/);
  });

  it('puts the running Node first on PATH, once, and drops relative entries', () => {
    expect(servicePath('/opt/node/bin/node', ['/usr/bin', '/opt/node/bin', 'bin', '', '/usr/bin'])).toEqual([
      '/opt/node/bin',
      '/usr/bin',
    ]);
  });
});

/** A fake `systemd-notify` that appends {argv, socket, readyz} as a JSON line to $FAKE_NOTIFY_LOG. */
function fakeSystemdNotify(opts: { exitCode?: number } = {}): {
  bin: string;
  log: string;
  calls: () => { argv: string[]; socket: string; readyz?: number | string }[];
} {
  const d = tmp('alter0-notify-');
  const bin = path.join(d, 'bin');
  fs.mkdirSync(bin);
  const log = path.join(d, 'calls.jsonl');
  const script = `#!${process.execPath}
import fs from 'node:fs';
const rec = { argv: process.argv.slice(2), socket: process.env.NOTIFY_SOCKET ?? '' };
// With FAKE_NOTIFY_PROBE set, record whether the service answered /readyz at the moment it said READY.
if (process.env.FAKE_NOTIFY_PROBE) {
  // Under the notifier's 10 s send timeout, with room for this script's own start on a loaded machine.
  try { rec.readyz = (await fetch(process.env.FAKE_NOTIFY_PROBE, { signal: AbortSignal.timeout(7000) })).status; }
  catch (e) { rec.readyz = String(e.cause?.code ?? e.message); }
}
fs.appendFileSync(process.env.FAKE_NOTIFY_LOG, JSON.stringify(rec) + '\\n');
process.exit(${opts.exitCode ?? 0});
`;
  fs.writeFileSync(path.join(bin, 'systemd-notify'), script, { mode: 0o755 });
  return {
    bin,
    log,
    calls: () =>
      fs.existsSync(log)
        ? fs
            .readFileSync(log, 'utf8')
            .split('\n')
            .slice(0, -1) // a line still being written (no newline yet) is not a call yet
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { argv: string[]; socket: string; readyz?: number | string })
        : [],
  };
}

/** A fast fake (a shell script) that appends its arguments as one line; for the timing-sensitive watchdog test. */
function fakeShellNotify(): { bin: string; log: string; lines: () => string[] } {
  const d = tmp('alter0-notify-');
  const bin = path.join(d, 'bin');
  fs.mkdirSync(bin);
  const log = path.join(d, 'calls.txt');
  fs.writeFileSync(path.join(bin, 'systemd-notify'), `#!/bin/sh\necho "$*" >> '${log}'\n`, { mode: 0o755 });
  return {
    bin,
    log,
    lines: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}

interface Logged {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}
function recordingLogger(): { logger: Logger; records: Logged[] } {
  const records: Logged[] = [];
  const at =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      records.push({ level, msg, fields });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
    isLevelEnabled: () => true,
    close: () => Promise.resolve(),
  };
  return { logger, records };
}

describe('systemd notifier', () => {
  const stops: (() => void)[] = [];
  afterEach(() => {
    for (const s of stops.splice(0)) s();
  });

  it('is a no-op without NOTIFY_SOCKET', async () => {
    const fake = fakeSystemdNotify();
    let spawned = 0;
    const counting: SpawnFn = (cmd, args, o) => {
      spawned++;
      return spawn(cmd, args, o);
    };
    const n = createNotifier({
      env: { PATH: fake.bin, FAKE_NOTIFY_LOG: fake.log, WATCHDOG_USEC: '100000' },
      logger: recordingLogger().logger,
      spawn: counting,
    });
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs).toBeNull();
    await n.ready();
    n.status('x');
    n.stopping();
    stops.push(n.startWatchdog(() => true));
    // Nothing is ever started (checked at the spawn itself, whatever the machine's speed); the wait covers
    // several would-be watchdog intervals of 50 ms.
    await new Promise((r) => setTimeout(r, 300));
    expect(spawned).toBe(0);
    expect(fake.calls()).toEqual([]);
  });

  it('sends READY=1 with the main pid, STATUS and STOPPING=1 through systemd-notify', async () => {
    const fake = fakeSystemdNotify();
    const { logger, records } = recordingLogger();
    const env: NodeJS.ProcessEnv = {
      PATH: fake.bin,
      FAKE_NOTIFY_LOG: fake.log,
      NOTIFY_SOCKET: '/run/fake/notify',
      WATCHDOG_USEC: '30000000',
    };
    const n = createNotifier({ env, logger, pid: 4242 });
    expect(n.enabled).toBe(true);
    // Read, then removed, so the agent CLIs spawned later cannot notify systemd; the sender still gets it.
    expect(env).toEqual({ PATH: fake.bin, FAKE_NOTIFY_LOG: fake.log });
    await n.ready();
    expect(fake.calls()).toEqual([{ argv: ['--ready', '--pid=4242'], socket: '/run/fake/notify' }]);
    n.status('listening on\nhttp://127.0.0.1:7070');
    n.stopping();
    await until(() => fake.calls().length === 3, { timeoutMs: 10_000, what: 'status and stopping notifications' });
    expect(
      fake
        .calls()
        .slice(1)
        .map((c) => c.argv),
    ).toEqual(expect.arrayContaining([['--status=listening on http://127.0.0.1:7070'], ['STOPPING=1']]));
    expect(records.filter((r) => r.level === 'error')).toEqual([]);
  });

  // Found by the day soak's control run: after a 14 s SIGSTOP with no job running, the workers' sign of life was
  // stale for a second, the check failed, and the next ping came a whole interval (10 s) later: 24 s of silence
  // under WatchdogSec 20 s, and a healthy daemon was killed.
  it('checks a failed live check again within a second, not a whole ping interval later', async () => {
    const fake = fakeShellNotify();
    const n = createNotifier({
      env: { PATH: `${fake.bin}:/usr/bin:/bin`, NOTIFY_SOCKET: '/run/fake/notify', WATCHDOG_USEC: '60000000' },
      logger: recordingLogger().logger,
    });
    expect(n.watchdogIntervalMs).toBe(30_000);
    const staleUntil = Date.now() + 300;
    const startedAt = Date.now();
    stops.push(n.startWatchdog(() => Date.now() >= staleUntil));
    await until(() => fake.lines().includes('WATCHDOG=1'), { timeoutMs: 10_000, what: 'the first ping' });
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  // Found by the sixth two-hour day: a 21 s SIGSTOP right after a ping went out, before its sender was reaped. The
  // overdue tick after SIGCONT found the sender still in flight and waited a whole interval (15 s): 30 s of silence
  // under WatchdogSec 30 s, and a healthy daemon was killed.
  it('looks again within a second when a tick finds the last sender still in flight', async () => {
    vi.useFakeTimers();
    try {
      const senders: (EventEmitter & { kill: () => boolean })[] = [];
      const fakeSpawn: SpawnFn = () => {
        const c = Object.assign(new EventEmitter(), { kill: () => true });
        senders.push(c);
        return c as unknown as ChildProcess;
      };
      const n = createNotifier({
        env: { PATH: '/nowhere', NOTIFY_SOCKET: '/run/fake/notify', WATCHDOG_USEC: '30000000' },
        logger: recordingLogger().logger,
        spawn: fakeSpawn,
      });
      stops.push(n.startWatchdog(() => true));
      expect(senders).toHaveLength(1);
      // The pause: the interval's tick comes while the first sender has not been reaped.
      await vi.advanceTimersByTimeAsync(15_000);
      expect(senders).toHaveLength(1);
      senders[0]?.emit('close', 0, null);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(senders).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('pings WATCHDOG=1 every WATCHDOG_USEC/2 only while the live check passes', async () => {
    const fake = fakeShellNotify();
    const { logger, records } = recordingLogger();
    // Every sender the notifier starts, so the test can wait for the ones in flight to finish instead of guessing.
    const senders: ChildProcess[] = [];
    const settled = new WeakSet<ChildProcess>();
    const tracked: SpawnFn = (cmd, args, o) => {
      const c = spawn(cmd, args, o);
      senders.push(c);
      c.once('close', () => settled.add(c));
      c.once('error', () => settled.add(c));
      return c;
    };
    const idle = (what: string): Promise<true> =>
      until(() => senders.every((c) => settled.has(c)), {
        timeoutMs: 15_000,
        what: `the watchdog senders in flight ${what} to finish`,
      });
    const n = createNotifier({
      env: { PATH: `${fake.bin}:/usr/bin:/bin`, NOTIFY_SOCKET: '/run/fake/notify', WATCHDOG_USEC: '400000' },
      logger,
      spawn: tracked,
    });
    expect(n.watchdogIntervalMs).toBe(200);
    let healthy = true;
    const stop = n.startWatchdog(() => healthy);
    stops.push(stop);
    const pings = (): number => fake.lines().filter((l) => l === 'WATCHDOG=1').length;
    await until(() => pings() >= 2, { timeoutMs: 15_000, what: 'two watchdog pings' });
    healthy = false;
    // The "paused" warning is logged by the first tick that finds no sender in flight; after it none is started.
    await until(() => records.some((r) => r.level === 'warn' && /watchdog pings paused/.test(r.msg)), {
      timeoutMs: 15_000,
      what: 'the "watchdog pings paused" warning',
    });
    await idle('when paused');
    const paused = pings();
    const spawnedWhilePaused = senders.length;
    // Several intervals of silence.
    await new Promise((r) => setTimeout(r, 1000));
    expect(pings()).toBe(paused);
    expect(senders.length).toBe(spawnedWhilePaused);
    healthy = true;
    await until(() => pings() > paused, { timeoutMs: 15_000, what: 'pings to resume' });
    stop();
    await idle('at stop');
    const stopped = pings();
    const spawnedAtStop = senders.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(pings()).toBe(stopped);
    expect(senders.length).toBe(spawnedAtStop);
  });

  it('reads WATCHDOG_USEC only when it is meant for this process', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000' }, 10)).toBe(15_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '10' }, 10)).toBe(15_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '11' }, 10)).toBeNull();
    expect(watchdogInterval({ WATCHDOG_USEC: 'soon' }, 10)).toBeNull();
    expect(watchdogInterval({}, 10)).toBeNull();
  });

  it('logs, and never throws, when systemd-notify fails or is missing', async () => {
    const failing = fakeSystemdNotify({ exitCode: 1 });
    const a = recordingLogger();
    await createNotifier({
      env: { PATH: failing.bin, FAKE_NOTIFY_LOG: failing.log, NOTIFY_SOCKET: '/run/x' },
      logger: a.logger,
    }).ready();
    expect(a.records.find((r) => r.level === 'error')?.fields).toMatchObject({
      exit_code: 1,
      args: ['--ready', `--pid=${process.pid}`],
    });

    const empty = tmp('alter0-nopath-');
    const b = recordingLogger();
    await createNotifier({ env: { PATH: empty, NOTIFY_SOCKET: '/run/x' }, logger: b.logger }).ready();
    expect(String(b.records.find((r) => r.level === 'error')?.fields.fix)).toMatch(/not on PATH; install systemd/);
  });
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('alter0 healthcheck', () => {
  let served: Served | null = null;
  let fakeServer: http.Server | null = null;
  afterEach(async () => {
    await served?.stop();
    served = null;
    if (fakeServer) {
      fakeServer.closeAllConnections();
      await new Promise<void>((r) => fakeServer?.close(() => r()));
      fakeServer = null;
    }
  });

  it('exits 0 against a running alter0 serve', async () => {
    served = await serve({ data: tmp('alter0-hc-') });
    const r = await cli(['healthcheck', '--addr', served.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ready: ${served.url}`);
  });

  it('exits 1 against a closed port, saying why', async () => {
    const port = await closedPort();
    const r = await cli(['healthcheck', '--addr', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not alive: GET http:\/\/127\.0\.0\.1:\d+\/healthz failed: ECONNREFUSED/);
  });

  it('exits 1 when alive but not ready, and when the answer does not come in time', async () => {
    let hang = false;
    fakeServer = http.createServer((req, res) => {
      if (hang) return; // never answers
      if (req.url === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      else
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"ready":false,"error":{"code":"unavailable","message":"shutting down"}}');
    });
    await new Promise<void>((r) => fakeServer?.listen(0, '127.0.0.1', r));
    const addr = `http://127.0.0.1:${(fakeServer.address() as AddressInfo).port}`;
    const notReady = await cli(['healthcheck', '--addr', addr]);
    expect(notReady.code).toBe(1);
    expect(notReady.stderr).toContain('alive but not ready: GET');
    expect(notReady.stderr).toContain('/readyz answered 503: shutting down');
    hang = true;
    const slow = await cli(['healthcheck', '--addr', addr, '--timeout', '0.3']);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toContain('no answer within 300 ms');
  });

  it('finds the address in the configuration when no --addr is given', async () => {
    const port = await closedPort();
    const d = tmp('alter0-hc-');
    // A wildcard listen address needs a token file; the healthcheck itself sends none (/healthz and /readyz are open).
    const token = path.join(d, 'token');
    fs.writeFileSync(token, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    const r = await cli(['healthcheck', '--data', d], {
      ALTER0_LISTEN: `0.0.0.0:${port}`,
      ALTER0_TOKEN_FILE: token,
      ALTER0_URL: '',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`GET http://127.0.0.1:${port}/healthz failed`);
  });
});

/** True once the daemon (or serve) calls createNotifier: then `alter0 serve` itself must honour NOTIFY_SOCKET. */
function notifierWired(): boolean {
  const srcDirs = [
    path.join(REPO, 'apps', 'daemon', 'src'),
    path.join(REPO, 'apps', 'cli', 'src', 'commands'),
    path.join(REPO, 'apps', 'cli', 'src'),
  ];
  return srcDirs.some((d) =>
    fs
      .readdirSync(d)
      .filter((f) => f.endsWith('.ts') && f !== 'notify.ts')
      .some((f) => fs.readFileSync(path.join(d, f), 'utf8').includes('createNotifier(')),
  );
}

describe.skipIf(!notifierWired())('alter0 serve under Type=notify', () => {
  let proc: ChildProcess | null = null;
  afterEach(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc?.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    proc = null;
  });

  it('sends READY=1 only once it answers /readyz', async () => {
    const fake = fakeSystemdNotify();
    const port = await closedPort();
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--data', tmp('alter0-notify-serve-'), '--listen', `127.0.0.1:${port}`, '--command', 'true'],
      {
        env: {
          ...process.env,
          ALTER0_CONFIG: '',
          PATH: `${fake.bin}:${process.env.PATH ?? ''}`,
          NOTIFY_SOCKET: path.join(path.dirname(fake.log), 'notify.sock'),
          FAKE_NOTIFY_LOG: fake.log,
          FAKE_NOTIFY_PROBE: `http://127.0.0.1:${port}/readyz`,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    proc = child;
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const ready = await until(() => fake.calls().find((c) => c.argv.includes('--ready')), {
      timeoutMs: 40_000,
      what: 'READY=1 from alter0 serve',
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; the service's log:\n${stderr}`);
    });
    expect(ready.readyz, `the fake sender's GET /readyz at the moment of READY=1; the service's log:\n${stderr}`).toBe(
      200,
    );
    expect(ready.argv).toContain(`--pid=${child.pid}`);
    // The fake records the call before it exits; serve logs "told systemd…" only after the sender has exited 0,
    // and "listening" after that. Wait for those lines rather than reading the log the moment the call lands.
    const told = '"message":"told systemd the service is ready"';
    const listening = '"message":"listening"';
    await until(() => stderr.includes(told) && stderr.includes(listening), {
      timeoutMs: 15_000,
      what: 'the "told systemd" and "listening" log lines',
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; the service's log:\n${stderr}`);
    });
    expect(
      fake.calls().filter((c) => c.argv.includes('--ready')),
      'READY=1 is sent once',
    ).toHaveLength(1);
  });
});

const DOCKER_DIR = path.join(REPO, 'deploy', 'docker');
const COMPOSE = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => fs.existsSync(p)) ?? null;
const COMPOSE_INSTALL_HINT = 'apt-get install docker-compose';

describe('docker files', () => {
  const dockerfile = fs.readFileSync(path.join(DOCKER_DIR, 'Dockerfile'), 'utf8');
  const compose = fs.readFileSync(path.join(DOCKER_DIR, 'docker-compose.yml'), 'utf8');
  const versions = Object.fromEntries(
    fs
      .readFileSync(path.join(REPO, 'tooling', 'versions.env'), 'utf8')
      .split('\n')
      .map((l) => /^([A-Z0-9_]+)=(\S+)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  ) as Record<string, string>;

  it('build with the toolchain the repository pins', () => {
    expect(dockerfile).toContain(`ARG PNPM_VERSION=${versions.ALTER0_PNPM_VERSION}\n`);
    const nodeMajor = versions.ALTER0_NODE_VERSION?.split('.')[0];
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_IMAGE=node:${nodeMajor}-`, 'm'));
  });

  it('give a stop more time than the default drain and kill grace', () => {
    const { config } = loadConfig({ env: { HOME: tmp('alter0-home-') }, flags: {}, cwd: REPO });
    const needMs = config.shutdown.drain_timeout_s * 1000 + config.executor.kill_grace_ms;
    const grace = /^\s*stop_grace_period:\s*(\S+)\s*$/m.exec(compose)?.[1];
    expect(grace).toBeDefined();
    expect(parseDuration(grace ?? '0s')).toBeGreaterThan(needMs);
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m);
  });

  it('run alter0 under tini, as a non-root user, with the healthcheck command', () => {
    expect(dockerfile).toMatch(
      /^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "\/app\/apps\/cli\/bin\/alter0\.js"\]$/m,
    );
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["alter0", "healthcheck"/m);
    expect(dockerfile).toMatch(/ALTER0_DATA_DIR=\/data/);
  });

  (COMPOSE || REQUIRE_TOOLS ? it : it.skip)('docker-compose.yml is a valid compose file', () => {
    if (!COMPOSE)
      throw new Error(`docker-compose is missing and ALTER0_REQUIRE_TOOLS=1; install it with: ${COMPOSE_INSTALL_HINT}`);
    const r = spawnSync(COMPOSE, ['-f', path.join(DOCKER_DIR, 'docker-compose.yml'), 'config'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, HOME: tmp('alter0-home-'), DOCKER_ALTER0_TOKEN: '/run/secrets-example/token' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/stop_grace_period: 50s/);
    expect(r.stdout).toMatch(/file: \/run\/secrets-example\/token/);
    expect(r.stdout).toMatch(/- 127\.0\.0\.1:7070:7070/);
  });
});
if (!COMPOSE) {
  console.warn(
    `deploy.test: docker-compose not found, compose file validation skipped; install it with: ${COMPOSE_INSTALL_HINT}`,
  );
}
