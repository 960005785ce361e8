import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@alter0/config';
import type { Config } from '@alter0/config';
import { Store } from '@alter0/store';
import { MaintenancePool } from '../src/pool.js';
import { preflight, preflightExitCode } from '../src/preflight.js';
import type { CheckResult } from '../src/preflight.js';
import { otherLoginUsers } from '../src/login-users.js';
import { tightenDataDir } from '../src/private-files.js';
import { backup } from '../src/backup.js';
import { populate, tempDir } from './fixtures.js';

let pool: MaintenancePool;
let dir: string;
let dataDir: string;
let umask: number;

beforeAll(() => {
  pool = new MaintenancePool();
});
afterAll(async () => {
  await pool.close();
});
beforeEach(() => {
  dir = tempDir();
  dataDir = path.join(dir, 'data');
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
  fs.rmSync(dir, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;
const configFor = (data: string, extra: Record<string, string> = {}): Config =>
  loadConfig({ file: null, env: { HOME: dir, ...extra }, cwd: dir, flags: { data_dir: data, command: ['true'] } })
    .config;
const byName = (rs: CheckResult[], check: string): CheckResult => {
  const r = rs.find((x) => x.check === check);
  if (!r) throw new Error(`no ${check} check in ${rs.map((x) => x.check).join(', ')}`);
  return r;
};
const mode = (p: string): number => fs.statSync(p).mode & 0o777;

function passwd(lines: string[]): string {
  const f = path.join(dir, 'passwd');
  fs.writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

describe('a data directory others can change is refused (10)', () => {
  it('doctor/serve preflight: a group- or world-writable data directory is fatal (exit 78), naming the path and the chmod', async () => {
    fs.mkdirSync(dataDir);
    fs.chmodSync(dataDir, 0o777);
    const rs = await preflight({ config: configFor(dataDir), checkExecutors: false, pool, passwdFile: '/nonexistent' });
    const r = byName(rs, 'permissions');
    expect(r).toMatchObject({ ok: false, fatal: true });
    expect(r.detail).toBe(
      `data directory ${dataDir} has mode 0777: other users can write to it and change what alter0 does; run: chmod 700 ${dataDir} (after checking its contents)`,
    );
    expect(preflightExitCode(rs)).toBe(78);
    fs.chmodSync(dataDir, 0o775);
    expect(
      byName(await preflight({ config: configFor(dataDir), checkExecutors: false, pool }), 'permissions').detail,
    ).toContain('has mode 0775');
    fs.chmodSync(dataDir, 0o755);
    expect(byName(await preflight({ config: configFor(dataDir), checkExecutors: false, pool }), 'permissions').ok).toBe(
      true,
    );
  });

  it('a world-writable log folder kept elsewhere is fatal too', async () => {
    const logs = path.join(dir, 'elsewhere-logs');
    fs.mkdirSync(logs);
    fs.chmodSync(logs, 0o1777);
    const rs = await preflight({ config: configFor(dataDir, { ALTER0_LOG__DIR: logs }), checkExecutors: false, pool });
    expect(byName(rs, 'permissions').detail).toContain(`log folder ${logs} has mode 1777`);
  });

  it.runIf(isRoot)('a data directory that belongs to another user is fatal', async () => {
    fs.mkdirSync(dataDir, { mode: 0o700 });
    fs.chownSync(dataDir, 1000, 1000);
    const r = byName(await preflight({ config: configFor(dataDir), checkExecutors: false, pool }), 'permissions');
    expect(r).toMatchObject({ ok: false, fatal: true });
    expect(r.detail).toContain(`data directory ${dataDir} belongs to uid 1000, not to the user alter0 runs as (uid 0)`);
  });
});

describe('shared machine warning (10)', () => {
  const users = [
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:x:1:1::/:/usr/sbin/nologin',
    'me:x:1000:1000::/home/me:/bin/bash',
    'bob:x:1001:1001::/home/bob:/bin/zsh',
    'svc:x:1002:1002::/:/bin/false',
    'nobody:x:65534:65534::/:/bin/sh',
  ];

  it('lists other accounts with a regular uid and a login shell', () => {
    expect(otherLoginUsers(passwd(users), 1000)).toEqual(['bob']);
    expect(otherLoginUsers(passwd(users), 0)).toEqual(['me', 'bob']);
    expect(otherLoginUsers('/nonexistent', 0)).toEqual([]);
  });

  it('warns (not fatal) when others can log in and no token is set; fine with a token or alone', async () => {
    const rs = await preflight({
      config: configFor(dataDir),
      checkExecutors: false,
      pool,
      passwdFile: passwd(users),
      uid: 1000,
    });
    const r = byName(rs, 'shared machine');
    expect(r).toMatchObject({ ok: false, fatal: false });
    expect(r.detail).toBe(
      'loopback is not a boundary on a shared machine: 1 other login user(s) (bob) can use the API at 127.0.0.1:7070 without a token',
    );
    expect(r.fix).toContain('alter0 token init');
    expect(preflightExitCode(rs)).toBe(0);
    const alone = await preflight({
      config: configFor(dataDir),
      checkExecutors: false,
      pool,
      passwdFile: passwd(users.slice(0, 3)),
      uid: 1000,
    });
    expect(byName(alone, 'shared machine').ok).toBe(true);
    const token = path.join(dir, 'token');
    fs.writeFileSync(token, 'd'.repeat(64), { mode: 0o600 });
    const withToken = await preflight({
      config: configFor(dataDir, { ALTER0_TOKEN_FILE: token }),
      checkExecutors: false,
      pool,
      passwdFile: passwd(users),
      uid: 1000,
    });
    expect(byName(withToken, 'shared machine')).toMatchObject({ ok: true });
  });
});

describe('private files (9)', () => {
  it('a backup is 0600 in a 0700 folder under umask 022', async () => {
    const dbFile = path.join(dir, 'alter0.db');
    populate(dbFile);
    const backupDir = path.join(dir, 'backups');
    const r = await backup({ dbFile, backupDir, reason: 'manual', keep: 3, pool });
    expect(mode(backupDir)).toBe(0o700);
    expect(mode(r.path)).toBe(0o600);
  });

  it('tightenDataDir fixes what an older install left readable, and leaves others and workspace contents alone', () => {
    // What alter0 made of a data directory under umask 022 before it set modes.
    Store.open({ file: path.join(dataDir, 'alter0.db') }).close();
    fs.chmodSync(dataDir, 0o755);
    fs.chmodSync(path.join(dataDir, 'alter0.db'), 0o644);
    for (const d of ['backups', 'logs', 'run/groups', 'workspaces/t_1/src'])
      fs.mkdirSync(path.join(dataDir, d), { recursive: true, mode: 0o755 });
    const files = [
      'backups/alter0-x-manual.db',
      'logs/alter0-2025-01-01.log',
      'run/groups/123',
      'alter0.lock',
      'workspaces/t_1/src/run.sh',
      'notes.txt',
    ];
    for (const f of files) fs.writeFileSync(path.join(dataDir, f), 'x', { mode: 0o644 });
    fs.chmodSync(path.join(dataDir, 'workspaces/t_1/src/run.sh'), 0o755);
    fs.symlinkSync('alter0-2025-01-01.log', path.join(dataDir, 'logs/alter0.log'));
    const outside = path.join(dir, 'shared-logs');
    fs.mkdirSync(outside, { mode: 0o755 });
    fs.writeFileSync(path.join(outside, 'alter0-2025-01-01.log'), 'x', { mode: 0o644 });
    fs.writeFileSync(path.join(outside, 'syslog'), 'x', { mode: 0o644 });

    const r = tightenDataDir(dataDir, [outside]);
    expect(r.failed).toEqual([]);
    for (const d of ['', 'backups', 'logs', 'run', 'run/groups', 'workspaces', 'workspaces/t_1'])
      expect(mode(path.join(dataDir, d)), d).toBe(0o700);
    for (const f of [
      'alter0.db',
      'backups/alter0-x-manual.db',
      'logs/alter0-2025-01-01.log',
      'run/groups/123',
      'alter0.lock',
    ])
      expect(mode(path.join(dataDir, f)), f).toBe(0o600);
    // Not alter0's: untouched.
    expect(mode(path.join(dataDir, 'notes.txt'))).toBe(0o644);
    expect(mode(path.join(dataDir, 'workspaces/t_1/src'))).toBe(0o755);
    expect(mode(path.join(dataDir, 'workspaces/t_1/src/run.sh'))).toBe(0o755);
    expect(mode(outside)).toBe(0o755);
    expect(mode(path.join(outside, 'syslog'))).toBe(0o644);
    expect(mode(path.join(outside, 'alter0-2025-01-01.log'))).toBe(0o600);
    expect(r.fixed).toContainEqual({ path: path.join(dataDir, 'alter0.db'), from: '0644', to: '0600' });
    expect(tightenDataDir(dataDir, [outside]).fixed).toEqual([]);
  });
});
