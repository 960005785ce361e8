import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Executor, ExecutorKind } from '@alter0/core';
import { ConfigError, errorMessage } from '@alter0/core';
import type { Config } from '@alter0/config';
import { currentUid, trustProblem } from '@alter0/config';
import { configuredExecutors, createExecutor, executorConfigFor } from '@alter0/executor';
import type { ExecutorConfig } from '@alter0/executor';
import { isDataDirLocked } from '@alter0/store';
import { dbFileFor } from './paths.js';
import { otherLoginUsers } from './login-users.js';
import { withPool } from './pool.js';
import type { MaintenancePool } from './pool.js';

export interface CheckResult {
  check: string;
  ok: boolean;
  /** Serving is impossible or unsafe; `ok: false, fatal: false` means it runs degraded. */
  fatal: boolean;
  detail: string;
  /** What to do about it (null when ok). */
  fix: string | null;
}

export const MIB = 1024 * 1024;

export interface PreflightOptions {
  /** The loaded configuration, or null when loading it failed (pass the error as configError). */
  config: Config | null;
  configError?: unknown;
  /** The config file that was read, for the report. */
  configFile?: string | null;
  /** Probe each configured executor (runs `<cli> --version`; a few seconds at most). */
  checkExecutors: boolean;
  /**
   * Open the database in a worker thread for its quick_check and schema (default true). The daemon's start passes
   * false: it checks the database on its own connection when it opens it (`quickCheck` of the store's openDb).
   */
  checkDatabase?: boolean;
  signal?: AbortSignal;
  pool?: MaintenancePool;
  /** Free space below this is a warning (default 500 MiB). */
  warnFreeBytes?: number;
  /** Free space below this is fatal (default 100 MiB): SQLite, logs and backups would start failing. */
  minFreeBytes?: number;
  /** Builds executors for probing (tests); default createExecutor from @alter0/executor. */
  createExecutor?: (config: ExecutorConfig) => Executor;
  migrationsFolder?: string;
  /** The accounts file read for other login users (default /etc/passwd; tests). */
  passwdFile?: string;
  /** The user alter0 runs as (default: this process's uid; tests). */
  uid?: number | null;
}

/** Checks whose fatal failure is a configuration problem (doctor exits 78, EX_CONFIG: restarting will not help). */
export const CONFIG_CHECKS: ReadonlySet<string> = new Set(['config', 'schema', 'permissions']);

/**
 * What must hold before serving: a valid config, a writable data directory, a readable database with a
 * compatible schema, free disk, a free lock, and (optionally) the executors' CLIs. Never changes anything
 * (the write test removes its file). Each result says what to do.
 */
export async function preflight(opts: PreflightOptions): Promise<CheckResult[]> {
  if (opts.config === null) {
    return [
      {
        check: 'config',
        ok: false,
        fatal: true,
        detail: opts.configError === undefined ? 'no configuration' : errorMessage(opts.configError),
        fix: 'fix the settings named above in the config file, ALTER0_* variable or flag; `alter0 serve --print-config` shows where each setting comes from (docs/configuration.md)',
      },
    ];
  }
  const config = opts.config;
  const results: CheckResult[] = [
    ok(
      'config',
      opts.configFile ? `valid (${opts.configFile})` : 'valid (defaults, environment and flags; no config file)',
    ),
  ];
  const probes = opts.checkExecutors ? checkExecutors(config, opts) : Promise.resolve([]);
  results.push(checkPermissions(config, opts.uid === undefined ? currentUid() : opts.uid));
  results.push(await checkDataDir(config.data_dir));
  if (opts.checkDatabase ?? true) results.push(...(await checkDatabase(config.data_dir, opts)));
  results.push(await checkDisk(config.data_dir, opts.warnFreeBytes ?? 500 * MIB, opts.minFreeBytes ?? 100 * MIB));
  results.push(checkLock(config.data_dir));
  results.push(checkSharedMachine(config, opts));
  results.push(...(await probes));
  return results;
}

function ok(check: string, detail: string): CheckResult {
  return { check, ok: true, fatal: false, detail, fix: null };
}

/** The directory itself, or the nearest ancestor that exists (where it would be created). */
function existingAncestor(dir: string): string {
  let d = path.resolve(dir);
  while (!fs.existsSync(d)) {
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  return d;
}

/**
 * The folders alter0 acts on must be the owner's alone: in a data directory others can write, a planted
 * alter0.toml would name the program alter0 runs and a planted run/groups record would get a process killed; in a
 * log folder, a planted symlink would redirect the log. (The config and token files are checked where they are
 * read, so a bad one fails the `config` check.)
 */
export function checkPermissions(config: Pick<Config, 'data_dir' | 'log' | 'backup'>, uid: number | null): CheckResult {
  const dirs: [string, string][] = [
    ['data directory', config.data_dir],
    ['log folder', config.log.dir],
    ['backup folder', config.backup.dir],
  ];
  const problems: string[] = [];
  for (const [what, dir] of dirs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch {
      continue; // created by alter0 with mode 0700
    }
    const p = trustProblem(dir, st, what, uid);
    if (p !== null && !problems.includes(p)) problems.push(p);
  }
  if (problems.length === 0)
    return ok('permissions', 'the data, log and backup folders belong to this user and no one else can write to them');
  return {
    check: 'permissions',
    ok: false,
    fatal: true,
    detail: problems.join('\n'),
    fix: 'make them private as shown (another user may already have changed their contents: look before you fix), then start again; see "Security model" in docs/operations.md',
  };
}

/** Off a single-user machine, the loopback address keeps no one out: everyone logged in can connect to it. */
function checkSharedMachine(config: Config, opts: PreflightOptions): CheckResult {
  if (config.token_file !== '')
    return ok('shared machine', `clients must present the API token (${config.token_file})`);
  const others = otherLoginUsers(opts.passwdFile ?? '/etc/passwd', opts.uid === undefined ? currentUid() : opts.uid);
  if (others.length === 0) return ok('shared machine', 'no other login users on this machine');
  const names = others.slice(0, 5).join(', ') + (others.length > 5 ? ', …' : '');
  return {
    check: 'shared machine',
    ok: false,
    fatal: false,
    detail: `loopback is not a boundary on a shared machine: ${others.length} other login user(s) (${names}) can use the API at ${config.listen} without a token`,
    fix: 'run `alter0 token init` and restart alter0, so every client must present the token',
  };
}

async function checkDataDir(dataDir: string): Promise<CheckResult> {
  const target = existingAncestor(dataDir);
  const exists = target === path.resolve(dataDir);
  const probe = path.join(target, `.alter0-preflight-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const st = await fs.promises.stat(target);
    if (!st.isDirectory()) throw new Error(`${target} is not a directory`);
    // A real write and fsync: a read-only mount or a full disk shows here, not at the first accepted message.
    const h = await fs.promises.open(probe, 'wx', 0o600);
    try {
      await h.writeFile('alter0 preflight\n');
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.promises.rm(probe);
    return ok(
      'data directory',
      exists ? `${dataDir} is writable` : `${dataDir} does not exist yet; it will be created (${target} is writable)`,
    );
  } catch (err) {
    await fs.promises.rm(probe, { force: true }).catch(() => undefined);
    return {
      check: 'data directory',
      ok: false,
      fatal: true,
      detail: `cannot write in ${target}${exists ? '' : ` (to create ${dataDir})`}: ${errorMessage(err)}`,
      fix: `make ${target} writable by the user alter0 runs as (e.g. chown/chmod), or point --data / data_dir elsewhere`,
    };
  }
}

async function checkDatabase(dataDir: string, opts: PreflightOptions): Promise<CheckResult[]> {
  const file = dbFileFor(dataDir);
  if (!fs.existsSync(file)) {
    return [
      ok('database', `${file} does not exist yet; it will be created`),
      ok('schema', 'a new database gets the current schema'),
    ];
  }
  let check;
  try {
    check = await withPool(opts.pool, (pool) =>
      pool.run(
        {
          op: 'check',
          file,
          level: 'quick',
          live: true,
          ...(opts.migrationsFolder ? { migrationsFolder: opts.migrationsFolder } : {}),
        },
        opts.signal,
      ),
    );
  } catch (err) {
    return [
      {
        check: 'database',
        ok: false,
        fatal: true,
        detail: `could not check ${file}: ${errorMessage(err)}`,
        fix: 'run `alter0 db verify` for details',
      },
    ];
  }
  const out: CheckResult[] = [];
  out.push(
    check.ok
      ? ok('database', `${file} opens and passes quick_check`)
      : {
          check: 'database',
          ok: false,
          fatal: true,
          detail: `${file} is damaged: ${check.problems.slice(0, 3).join('; ')}`,
          fix: 'stop alter0 and restore the newest good backup: `alter0 db restore <backup>` (list them in the backups directory; see docs/operations.md)',
        },
  );
  if (check.schema) {
    const s = check.schema;
    out.push(
      ok(
        'schema',
        s.pending === 0
          ? `version ${s.dbVersion} (current)`
          : `version ${s.dbVersion}; ${s.pending} migration(s) to version ${s.codeVersion} will be applied at start, after a backup`,
      ),
    );
  } else {
    out.push({
      check: 'schema',
      ok: false,
      fatal: true,
      detail: check.schemaError ?? 'the schema version could not be read',
      fix: check.schemaTooNew
        ? 'run the newer alter0 that wrote this database, or restore a backup taken before the upgrade: `alter0 db restore <backup>`'
        : 'run `alter0 db verify` for details; restore a backup if the database is damaged',
    });
  }
  return out;
}

async function checkDisk(dataDir: string, warnFree: number, minFree: number): Promise<CheckResult> {
  const target = existingAncestor(dataDir);
  let free: number;
  try {
    const st = await fs.promises.statfs(target);
    free = st.bavail * st.bsize;
  } catch (err) {
    return {
      check: 'disk space',
      ok: false,
      fatal: false,
      detail: `cannot read free space of ${target}: ${errorMessage(err)}`,
      fix: 'check the file system holding the data directory',
    };
  }
  const detail = `${fmtBytes(free)} free on the file system of ${target}`;
  const fix = `free space there (old backups in the backups directory, logs), or move the data directory; alter0 needs ${fmtBytes(minFree)} at the very least and warns below ${fmtBytes(warnFree)}`;
  if (free < minFree)
    return {
      check: 'disk space',
      ok: false,
      fatal: true,
      detail: `${detail}: below the minimum of ${fmtBytes(minFree)}`,
      fix,
    };
  if (free < warnFree)
    return { check: 'disk space', ok: false, fatal: false, detail: `${detail}: below ${fmtBytes(warnFree)}`, fix };
  return ok('disk space', detail);
}

function checkLock(dataDir: string): CheckResult {
  let state: { locked: boolean; pid: number | null };
  try {
    state = isDataDirLocked(dataDir);
  } catch (err) {
    return {
      check: 'lock',
      ok: false,
      fatal: true,
      detail: `cannot test the lock of ${dataDir}: ${errorMessage(err)}`,
      fix: 'check the permissions of alter0.lock in the data directory',
    };
  }
  if (!state.locked) return ok('lock', 'free: no other alter0 process uses this data directory');
  if (state.pid === process.pid) return ok('lock', `held by this process (pid ${process.pid})`);
  return {
    check: 'lock',
    ok: false,
    fatal: true,
    detail: `the data directory is in use by another alter0 process${state.pid === null ? '' : ` (pid ${state.pid})`}`,
    fix: `stop that process first${state.pid === null ? '' : ` (e.g. \`systemctl stop alter0\` or \`kill ${state.pid}\`)`}, or use another --data directory`,
  };
}

const INSTALL: Record<ExecutorKind, string> = {
  claude:
    'install Claude Code (`npm install -g @anthropic-ai/claude-code`) and log in, or set executor.claude.bin to its path',
  codex: 'install Codex (`npm install -g @openai/codex`) and log in, or set executor.codex.bin to its path',
  command: 'set executor.command.argv (or --command) to a program that exists and is executable',
};

async function checkExecutors(config: Config, opts: PreflightOptions): Promise<CheckResult[]> {
  const make = opts.createExecutor ?? createExecutor;
  return Promise.all(
    configuredExecutors(config).map(async (kind): Promise<CheckResult> => {
      const check = `executor ${kind}`;
      let executor: Executor;
      try {
        executor = make(executorConfigFor(config, kind));
      } catch (err) {
        // A config no run could succeed with: the same class as a bad config file.
        return { check, ok: false, fatal: err instanceof ConfigError, detail: errorMessage(err), fix: INSTALL[kind] };
      }
      try {
        const p = await executor.probe(opts.signal ?? new AbortController().signal);
        if (p.ok) return ok(check, `${p.path ?? kind}${p.version ? ` ${p.version}` : ''}`);
        return {
          check,
          ok: false,
          fatal: false,
          detail: `${p.error ?? 'not usable'}; alter0 runs degraded without it`,
          fix: INSTALL[kind],
        };
      } catch (err) {
        return {
          check,
          ok: false,
          fatal: false,
          detail: `probe failed: ${errorMessage(err)}; alter0 runs degraded without it`,
          fix: INSTALL[kind],
        };
      }
    }),
  );
}

function fmtBytes(n: number): string {
  if (n >= 1024 * 1024 * 1024) return `${(n / (1024 * 1024 * 1024)).toFixed(1)} GiB`;
  return `${Math.floor(n / MIB)} MiB`;
}

/** 78 (EX_CONFIG) when a config or schema check is fatal, 1 for any other fatal result, else 0. */
export function preflightExitCode(results: CheckResult[]): number {
  if (results.some((r) => r.fatal && CONFIG_CHECKS.has(r.check))) return 78;
  if (results.some((r) => r.fatal)) return 1;
  return 0;
}

/** A table: check, result (ok / WARN / FATAL) with the detail, and under each problem what to do. */
export function formatChecks(results: CheckResult[]): string {
  const label = (r: CheckResult): string => (r.ok ? 'ok' : r.fatal ? 'FATAL' : 'WARN');
  const w1 = Math.max('CHECK'.length, ...results.map((r) => r.check.length));
  const w2 = Math.max('RESULT'.length, ...results.map((r) => label(r).length));
  const lines = [`${'CHECK'.padEnd(w1)}  ${'RESULT'.padEnd(w2)}  DETAIL / WHAT TO DO`];
  const indent = `${''.padEnd(w1)}  ${''.padEnd(w2)}  `;
  for (const r of results) {
    // Multi-line details (a config error lists every problem) stay in their column.
    const [first, ...rest] = r.detail.split('\n');
    lines.push(`${r.check.padEnd(w1)}  ${label(r).padEnd(w2)}  ${first ?? ''}`);
    for (const l of rest) lines.push(`${indent}${l.trim()}`);
    if (!r.ok && r.fix) lines.push(`${indent}-> ${r.fix}`);
  }
  const fatal = results.filter((r) => r.fatal).length;
  const warn = results.filter((r) => !r.ok && !r.fatal).length;
  lines.push(
    fatal > 0
      ? `${fatal} fatal problem(s): alter0 cannot serve until they are fixed`
      : warn > 0
        ? `${warn} warning(s): alter0 can serve, degraded`
        : 'all checks passed',
  );
  return lines.join('\n');
}
