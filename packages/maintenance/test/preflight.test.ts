import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ConfigError } from '@alter0/core';
import { loadConfig } from '@alter0/config';
import type { Config } from '@alter0/config';
import { Store, acquireDataDirLock } from '@alter0/store';
import { MaintenancePool } from '../src/pool.js';
import { formatChecks, preflight, preflightExitCode } from '../src/preflight.js';
import type { CheckResult } from '../src/preflight.js';
import { holdLock } from './lock-holder.js';
import { tempDir } from './fixtures.js';

let pool: MaintenancePool;
let dir: string;
let dataDir: string;

beforeAll(() => {
  pool = new MaintenancePool();
});
afterAll(async () => {
  await pool.close();
});
beforeEach(() => {
  dir = tempDir();
  dataDir = path.join(dir, 'data');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const configFor = (data: string, command = ['true']): Config =>
  loadConfig({ file: null, env: { HOME: dir }, cwd: dir, flags: { data_dir: data, command } }).config;
const byName = (rs: CheckResult[], check: string): CheckResult => {
  const r = rs.find((x) => x.check === check);
  if (!r) throw new Error(`no ${check} check in ${rs.map((x) => x.check).join(', ')}`);
  return r;
};

describe('preflight', () => {
  it('passes on a fresh data directory (the database will be created) and finds the executor', async () => {
    // No other login users (this machine may have some: that is a warning of its own, tested in permissions.test.ts).
    const rs = await preflight({ config: configFor(dataDir), checkExecutors: true, pool, passwdFile: '/nonexistent' });
    expect(rs.map((r) => r.check)).toEqual([
      'config',
      'permissions',
      'data directory',
      'database',
      'schema',
      'disk space',
      'lock',
      'shared machine',
      'executor command',
    ]);
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(byName(rs, 'database').detail).toContain('will be created');
    expect(byName(rs, 'data directory').detail).toContain('will be created');
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(preflightExitCode(rs)).toBe(0);
    expect(formatChecks(rs)).toMatch(/all checks passed$/);
  });

  it('a config error is fatal with exit code 78', async () => {
    const err = new ConfigError('/etc/alter0.toml: queue.interactive_workers: must be at least 1');
    const rs = await preflight({ config: null, configError: err, checkExecutors: true });
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({ check: 'config', ok: false, fatal: true, detail: err.message });
    expect(preflightExitCode(rs)).toBe(78);
    expect(formatChecks(rs)).toContain('-> fix the settings named above');
  });

  it('an unwritable data directory is fatal', async () => {
    let data: string;
    if (process.getuid?.() === 0) {
      // root writes through file modes; sysfs refuses new files even to root.
      data = '/sys/alter0-preflight-test/data';
    } else {
      fs.mkdirSync(dataDir, { recursive: true });
      fs.chmodSync(dataDir, 0o555);
      data = dataDir;
    }
    const rs = await preflight({ config: configFor(data), checkExecutors: false, pool });
    const r = byName(rs, 'data directory');
    expect(r).toMatchObject({ ok: false, fatal: true });
    expect(r.detail).toMatch(/^cannot write in /);
    expect(r.fix).toContain('writable');
    expect(preflightExitCode(rs)).toBe(1);
    if (data === dataDir) fs.chmodSync(dataDir, 0o755);
  });

  it('a database with a newer schema is fatal with the store message and exit code 78', async () => {
    const store = Store.open({ file: path.join(dataDir, 'alter0.db') });
    store.close();
    const db = new Database(path.join(dataDir, 'alter0.db'));
    db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('future', Date.now() + 1e12);
    db.close();
    const rs = await preflight({ config: configFor(dataDir), checkExecutors: false, pool });
    expect(byName(rs, 'database').ok).toBe(true);
    const r = byName(rs, 'schema');
    expect(r).toMatchObject({ ok: false, fatal: true });
    expect(r.detail).toMatch(/newer than this alter0 knows/);
    expect(r.fix).toContain('alter0 db restore');
    expect(preflightExitCode(rs)).toBe(78);
  });

  it('checks an existing database without leaving files behind in the data directory', async () => {
    Store.open({ file: path.join(dataDir, 'alter0.db') }).close();
    const before = fs.readdirSync(dataDir).sort();
    const rs = await preflight({ config: configFor(dataDir), checkExecutors: false, pool, passwdFile: '/nonexistent' });
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(byName(rs, 'database').detail).toContain('passes quick_check');
    expect(fs.readdirSync(dataDir).sort()).toEqual(before);
  });

  it('a damaged database is fatal and points at restore', async () => {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'alter0.db'), Buffer.alloc(8192, 7));
    const rs = await preflight({ config: configFor(dataDir), checkExecutors: false, pool });
    expect(byName(rs, 'database')).toMatchObject({ ok: false, fatal: true });
    expect(byName(rs, 'database').fix).toContain('alter0 db restore');
  });

  it('a held lock is fatal and names the holder pid; held by this process it is fine', async () => {
    const holder = await holdLock(dataDir);
    try {
      const rs = await preflight({ config: configFor(dataDir), checkExecutors: false, pool });
      const r = byName(rs, 'lock');
      expect(r).toMatchObject({ ok: false, fatal: true });
      expect(r.detail).toContain(`pid ${holder.pid}`);
      expect(r.fix).toContain(`kill ${holder.pid}`);
    } finally {
      await holder.release();
    }
    const own = acquireDataDirLock(dataDir);
    try {
      const rs = await preflight({ config: configFor(dataDir), checkExecutors: false, pool });
      expect(byName(rs, 'lock')).toMatchObject({ ok: true, detail: `held by this process (pid ${process.pid})` });
    } finally {
      own.release();
    }
  });

  it('low disk space: a warning below warnFreeBytes, fatal below minFreeBytes', async () => {
    const st = fs.statfsSync(dir);
    const free = st.bavail * st.bsize;
    const warn = await preflight({
      config: configFor(dataDir),
      checkExecutors: false,
      pool,
      warnFreeBytes: free * 2,
      minFreeBytes: 1,
    });
    expect(byName(warn, 'disk space')).toMatchObject({ ok: false, fatal: false });
    expect(preflightExitCode(warn)).toBe(0);
    const fatal = await preflight({
      config: configFor(dataDir),
      checkExecutors: false,
      pool,
      warnFreeBytes: free * 4,
      minFreeBytes: free * 2,
    });
    const r = byName(fatal, 'disk space');
    expect(r).toMatchObject({ ok: false, fatal: true });
    expect(r.detail).toMatch(/below the minimum of/);
    expect(formatChecks(fatal)).toMatch(/disk space\s+FATAL/);
  });

  it('a missing executor is a warning (alter0 runs degraded), not fatal', async () => {
    const rs = await preflight({
      config: configFor(dataDir, ['alter0-no-such-program-xyz']),
      checkExecutors: true,
      pool,
    });
    const r = byName(rs, 'executor command');
    expect(r).toMatchObject({ ok: false, fatal: false });
    expect(r.detail).toContain('degraded');
    expect(r.fix).toContain('executor.command.argv');
    expect(preflightExitCode(rs)).toBe(0);
    expect(formatChecks(rs)).toMatch(/executor command\s+WARN/);
  });
});
