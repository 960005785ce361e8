import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/duration.js';
import { loadConfig } from '../src/load.js';
import { configSandbox } from './sandbox.js';

const sb = configSandbox('alter0-config-', 0o644);
const { write, load, errorOf } = sb;

describe('defaults', () => {
  it('fills every key and says each came from the defaults', () => {
    const { config, sources, file } = load({});
    expect(file).toBeNull();
    expect(config.data_dir).toBe(path.join(sb.home, '.local/share/alter0'));
    expect(config.listen).toBe('127.0.0.1:7070');
    expect(config.api).toEqual({
      wait_ms: 30000,
      max_wait_ms: 600000,
      body_limit_bytes: 1048576,
      max_event_streams: 32,
    });
    expect(config.executor.default).toBe('claude');
    expect(config.executor.claude).toEqual({ bin: 'claude', args: [], model: '' });
    expect(config.executor.command.argv).toEqual([]);
    expect(config.router).toEqual({
      executor: 'claude',
      template: 'v2',
      threshold: 0.55,
      max_candidates: 8,
      timeout_s: 120,
      model: '',
      args: undefined,
      prespawn: true,
      closed_lookback: '7d',
    });
    expect(config.closer).toMatchObject({ executor: 'claude', threshold: 0.7, enabled: true, stale_after: '14d' });
    expect(config.queue).toEqual({
      interactive_workers: 2,
      background_workers: 1,
      job_timeout_s: 1800,
      max_attempts: 3,
      backoff_initial_ms: 2000,
      backoff_max_ms: 120000,
      backoff_jitter: 0.2,
      max_depth: 10000,
    });
    expect(config.log).toEqual({
      level: 'info',
      dir: path.join(config.data_dir, 'logs'),
      max_size: '20m',
      max_files: '14d',
      file: true,
    });
    expect(config.backup).toEqual({ interval: '24h', keep: 7, dir: path.join(config.data_dir, 'backups') });
    expect(config.retention).toEqual({
      closed_tasks: '90d',
      decisions: '90d',
      events: '30d',
      finished_jobs: '30d',
      memory: 'never',
      stats: '90d',
    });
    expect(config.stats).toEqual({ rollup_every: '5m' });
    expect(config.maintenance).toEqual({ retention_every: '24h', checkpoint_every: '1h', stale_sweep_every: '1h' });
    expect(sources['queue.interactive_workers']).toEqual({ source: 'default' });
    expect(sources['data_dir']).toEqual({ source: 'default', detail: '~/.local/share/alter0' });
    expect(sources['log.dir']).toEqual({ source: 'default', detail: 'empty: <data_dir>/logs' });
    expect(sources['executor.env']).toEqual({ source: 'default' });
    expect(Object.values(sources).every((s) => s.source === 'default')).toBe(true);
  });

  it('puts the data dir under an absolute XDG_DATA_HOME and ignores a relative one', () => {
    expect(load({ env: { XDG_DATA_HOME: '/srv/xdg' } }).config.data_dir).toBe('/srv/xdg/alter0');
    expect(load({ env: { XDG_DATA_HOME: 'rel' } }).config.data_dir).toBe(path.join(sb.home, '.local/share/alter0'));
  });
});

describe('precedence: defaults < file < env < flags', () => {
  it('takes each key from the highest source that sets it and records where', () => {
    const file = write(
      'c.toml',
      'listen = "127.0.0.1:1"\n[queue]\ninteractive_workers = 5\nbackground_workers = 3\n[log]\nlevel = "debug"\n',
    );
    const { config, sources } = load({
      file,
      env: { ALTER0_LISTEN: '127.0.0.1:2', ALTER0_QUEUE__INTERACTIVE_WORKERS: '6' },
      flags: { listen: '127.0.0.1:3' },
    });
    expect(config.listen).toBe('127.0.0.1:3');
    expect(sources['listen']).toEqual({ source: 'flag', detail: '--listen' });
    expect(config.queue.interactive_workers).toBe(6);
    expect(sources['queue.interactive_workers']).toEqual({
      source: 'env',
      detail: 'ALTER0_QUEUE__INTERACTIVE_WORKERS',
    });
    expect(config.queue.background_workers).toBe(3);
    expect(sources['queue.background_workers']).toEqual({ source: 'file', detail: file });
    expect(config.log.level).toBe('debug');
    expect(config.queue.max_attempts).toBe(3);
    expect(sources['queue.max_attempts']).toEqual({ source: 'default' });
  });

  it('merges executor.env key by key across sources', () => {
    const file = write('c.toml', '[executor.env]\nA = "file"\nB = "file"\n');
    const { config, sources } = load({ file, env: { ALTER0_EXECUTOR__ENV__B: 'env' } });
    expect(config.executor.env).toEqual({ A: 'file', B: 'env' });
    expect(sources['executor.env.B']).toEqual({ source: 'env', detail: 'ALTER0_EXECUTOR__ENV__B' });
    expect(sources['executor.env.A']?.source).toBe('file');
  });

  it('reads JSON when the file name ends in .json', () => {
    const file = write('c.json', JSON.stringify({ queue: { max_attempts: 9 }, executor: { default: 'codex' } }));
    const { config } = load({ file });
    expect(config.queue.max_attempts).toBe(9);
    expect(config.router.executor).toBe('codex');
  });

  it('--command sets the argv and selects the command executor', () => {
    const { config, sources } = load({ flags: { command: ['node', 'agent.js'] } });
    expect(config.executor.default).toBe('command');
    expect(config.executor.command.argv).toEqual(['node', 'agent.js']);
    expect(config.closer.executor).toBe('command');
    expect(sources['executor.default']).toEqual({ source: 'flag', detail: '--command' });
  });

  it('--set reads its value like an environment variable', () => {
    const { config, sources } = load({
      flags: { set: ['queue.backoff_jitter=0.5', 'closer.enabled=off', 'executor.claude.args=["--x"]'] },
    });
    expect(config.queue.backoff_jitter).toBe(0.5);
    expect(config.closer.enabled).toBe(false);
    expect(config.executor.claude.args).toEqual(['--x']);
    expect(sources['closer.enabled']).toEqual({ source: 'flag', detail: '--set closer.enabled' });
  });
});

describe('router and closer model and args', () => {
  it('leave the executor its own model and args unless set, from the file, env and flags', () => {
    const plain = load({});
    expect(plain.config.router.model).toBe('');
    expect(plain.config.router.args).toBeUndefined();
    expect(plain.sources['router.args']).toEqual({ source: 'default', detail: "empty: the executor's args" });
    const file = write('c.toml', '[router]\nmodel = "haiku"\nargs = ["--effort", "low"]\n[closer]\nargs = []\n');
    const { config, sources } = load({
      file,
      env: { ALTER0_CLOSER__MODEL: 'sonnet' },
      flags: { set: ['router.prespawn=false'] },
    });
    expect(config.router).toMatchObject({ model: 'haiku', args: ['--effort', 'low'], prespawn: false });
    expect(config.closer).toMatchObject({ model: 'sonnet', args: [] });
    expect(sources['router.model']?.source).toBe('file');
    expect(sources['closer.model']).toEqual({ source: 'env', detail: 'ALTER0_CLOSER__MODEL' });
  });

  it('are refused for a judge that runs the command executor', () => {
    const file = write(
      'c.toml',
      '[executor.command]\nargv = ["x"]\n[router]\nexecutor = "command"\nmodel = "m"\nargs = ["-v"]\n',
    );
    const err = errorOf({ file });
    expect(err).toContain(`${file}: router.model: is set but the command executor takes no model`);
    expect(err).toContain(`${file}: router.args: is set but the command executor takes no args`);
  });
});

describe('choosing the config file', () => {
  it('uses $ALTER0_CONFIG, then <data_dir>/alter0.toml, and none when neither exists', () => {
    const named = write('named.toml', '[queue]\nmax_attempts = 4\n');
    write('data/alter0.toml', '[queue]\nmax_attempts = 5\n');
    const dataDir = path.join(sb.dir, 'data');
    const base = { HOME: sb.home };
    expect(loadConfig({ cwd: sb.dir, env: { ...base, ALTER0_CONFIG: named, ALTER0_DATA_DIR: dataDir } }).file).toBe(
      named,
    );
    const implicit = loadConfig({ cwd: sb.dir, env: { ...base, ALTER0_DATA_DIR: dataDir } });
    expect(implicit.file).toBe(path.join(dataDir, 'alter0.toml'));
    expect(implicit.config.queue.max_attempts).toBe(5);
    expect(loadConfig({ cwd: sb.dir, flags: { data_dir: 'data' }, env: base }).config.queue.max_attempts).toBe(5);
    expect(loadConfig({ cwd: sb.dir, env: base }).file).toBeNull();
    expect(loadConfig({ cwd: sb.dir, file: null, env: { ...base, ALTER0_DATA_DIR: dataDir } }).file).toBeNull();
  });

  it('refuses a named file that does not exist, saying who named it', () => {
    const missing = path.join(sb.dir, 'nope.toml');
    expect(errorOf({ file: missing })).toContain(`${missing}: config file does not exist (named by --config)`);
    expect(errorOf({ file: undefined, env: { ALTER0_CONFIG: missing } })).toContain('(named by ALTER0_CONFIG)');
  });

  it('reports a TOML syntax error with the file name', () => {
    const file = write('bad.toml', '[queue\nx = 1\n');
    expect(errorOf({ file })).toMatch(new RegExp(`${file.replaceAll('/', '\\/')}: not valid TOML: .*`));
    const json = write('bad.json', '{"queue": ');
    expect(errorOf({ file: json })).toContain(`${json}: not valid JSON`);
  });

  it('resolves relative paths against the file folder for the file and the cwd for env and flags', () => {
    const file = write('etc/c.toml', 'data_dir = "../d"\n[log]\ndir = "logs"\n[backup]\ndir = "~/b"\n');
    const fromFile = load({ file });
    expect(fromFile.config.data_dir).toBe(path.join(sb.dir, 'd'));
    expect(fromFile.config.log.dir).toBe(path.join(sb.dir, 'etc', 'logs'));
    expect(fromFile.config.backup.dir).toBe(path.join(sb.home, 'b'));
    expect(load({ file, env: { ALTER0_DATA_DIR: 'e' } }).config.data_dir).toBe(path.join(sb.dir, 'e'));
  });
});

describe('errors name the source, the key and the problem', () => {
  it('lists every problem of every source at once', () => {
    const file = write(
      'c.toml',
      '[queue]\ninteractive_workers = 0\nmax_atempts = 2\n[nope]\nx = 1\n[executor.claude]\nargs = "--x"\n',
    );
    const msg = errorOf({
      file,
      env: { ALTER0_API__WAIT_MS: 'soon', ALTER0_LISTN: '127.0.0.1:1' },
      flags: { listen: 'localhost', set: ['closer.threshold=2'] },
    });
    const lines = msg
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
    expect(lines).toEqual([
      `${file}: queue.max_atempts: unknown key; did you mean "max_attempts"?`,
      `${file}: nope: unknown key; known keys here: data_dir, listen, allowed_hosts, token_file, public_url, api, executor, router, closer, queue, shutdown, log, status, backup, telegram, channels, notify, memory, schedules, maintenance, stats, approvals, retention`,
      `${file}: queue.interactive_workers: must be at least 1 (got 0)`,
      `${file}: executor.claude.args: expected an array of strings (got "--x")`,
      'ALTER0_API__WAIT_MS: api.wait_ms: expected a number, got "soon"',
      'ALTER0_LISTN: listn: unknown key; did you mean "listen"?',
      '--set closer.threshold: closer.threshold: must be between 0 and 1 (got 2)',
      expect.stringMatching(/^--listen: listen: invalid listen address "localhost": missing ":port"/),
    ]);
    expect(msg).toMatch(/^invalid configuration \(8 problems\)/);
  });

  it('rejects unknown ALTER0_ variables but ignores the reserved and the caller-listed ones', () => {
    expect(errorOf({ env: { ALTER0_QUEUE__WORKERS: '2' } })).toContain(
      'ALTER0_QUEUE__WORKERS: queue.workers: unknown key',
    );
    expect(errorOf({ env: { ALTER0_QUEUE: '2' } })).toContain('ALTER0_QUEUE: queue: is a section, not a setting');
    expect(errorOf({ env: { ALTER0_LISTEN__PORT: '2' } })).toContain('ALTER0_LISTEN__PORT: listen.port: unknown key');
    const env = {
      ALTER0_REQUIRE_TOOLS: '1',
      ALTER0_STAGE: 'execute',
      ALTER0_TASK_ID: 't',
      ALTER0_JOB_ID: 'j',
      ALTER0_SESSION_ID: 's',
      ALTER0_MINE: 'x',
    };
    expect(load({ env, ignoreEnv: ['ALTER0_MINE'] }).config.listen).toBe('127.0.0.1:7070');
  });

  it('coerces environment text per schema type', () => {
    const { config } = load({
      env: {
        ALTER0_EXECUTOR: 'codex',
        ALTER0_CLOSER__ENABLED: 'no',
        ALTER0_ROUTER__THRESHOLD: '0.25',
        ALTER0_EXECUTOR__COMMAND__ARGV: '["node","x.js"]',
        ALTER0_ALLOWED_HOSTS: '["alter0.lan"]',
        // allowed_hosts needs a token (a reverse proxy connects from loopback).
        ALTER0_TOKEN_FILE: write('token', 'c'.repeat(64), 0o600),
        ALTER0_LOG__MAX_FILES: '10',
      },
    });
    expect(config.executor.default).toBe('codex');
    expect(config.closer.enabled).toBe(false);
    expect(config.router.threshold).toBe(0.25);
    expect(config.executor.command.argv).toEqual(['node', 'x.js']);
    expect(config.allowed_hosts).toEqual(['alter0.lan']);
    expect(config.log.max_files).toBe('10');
    expect(errorOf({ env: { ALTER0_CLOSER__ENABLED: 'maybe' } })).toContain(
      'ALTER0_CLOSER__ENABLED: closer.enabled: expected true or false',
    );
    expect(errorOf({ env: { ALTER0_EXECUTOR__COMMAND__ARGV: 'node x.js' } })).toContain(
      'ALTER0_EXECUTOR__COMMAND__ARGV: executor.command.argv: expected a JSON array such as ["a","b"], got "node x.js"',
    );
    expect(errorOf({ env: { ALTER0_EXECUTOR__ENV: '[1]' } })).toContain(
      'ALTER0_EXECUTOR__ENV: executor.env: expected a JSON object of strings',
    );
    expect(errorOf({ env: { ALTER0_EXECUTOR: 'gpt' } })).toContain(
      'ALTER0_EXECUTOR: executor.default: expected one of "claude", "codex", "command" (got "gpt")',
    );
  });

  it('a numeric max_files in the file is kept as text', () => {
    expect(load({ file: write('c.toml', '[log]\nmax_files = 10\n') }).config.log.max_files).toBe('10');
    expect(errorOf({ file: write('d.toml', '[log]\nmax_size = "20mb"\n') })).toContain('log.max_size: expected a size');
  });

  it('checks durations and names the source', () => {
    const file = write('c.toml', '[closer]\nstale_after = "2 weeks"\n');
    expect(errorOf({ file })).toContain(`${file}: closer.stale_after: expected a duration`);
    expect(errorOf({ env: { ALTER0_BACKUP__INTERVAL: '24' } })).toContain(
      'ALTER0_BACKUP__INTERVAL: backup.interval: expected a duration',
    );
  });

  it('router.closed_lookback takes "0s" (open tasks only) and refuses what is not a duration', () => {
    expect(load({ file: write('c.toml', '[router]\nclosed_lookback = "0s"\n') }).config.router.closed_lookback).toBe(
      '0s',
    );
    expect(parseDuration('0s')).toBe(0);
    expect(load({ env: { ALTER0_ROUTER__CLOSED_LOOKBACK: '3d' } }).config.router.closed_lookback).toBe('3d');
    expect(errorOf({ env: { ALTER0_ROUTER__CLOSED_LOOKBACK: 'a week' } })).toContain(
      'router.closed_lookback: expected a duration',
    );
  });

  it('reports a section given as a value and an env table name that is not a variable name', () => {
    const file = write('c.toml', 'queue = 3\n[executor.env]\n"A-B" = "x"\nC = 1\n');
    const msg = errorOf({ file });
    expect(msg).toContain(`${file}: queue: expected a table, got 3`);
    expect(msg).toContain(`${file}: executor.env.A-B: bad name: expected an environment variable name`);
    expect(msg).toContain(`${file}: executor.env.C: expected a string (got 1)`);
  });
});

describe('rules across keys', () => {
  it('needs executor.command.argv whenever a stage uses the command executor', () => {
    expect(errorOf({ env: { ALTER0_EXECUTOR: 'command' } })).toContain(
      'ALTER0_EXECUTOR: executor.default: selects the "command" executor but executor.command.argv is empty',
    );
    const file = write('c.toml', '[closer]\nexecutor = "command"\n');
    expect(errorOf({ file })).toContain(`${file}: closer.executor: selects the "command" executor`);
    expect(errorOf({ flags: { command: [] } })).toContain(
      '--command: executor.default: selects the "command" executor',
    );
    expect(errorOf({ flags: { command: ['x'], executor: 'codex' } })).toContain(
      '--command: executor.default: --command runs the "command" executor but --executor says "codex"',
    );
  });

  it('keeps api.wait_ms within api.max_wait_ms and the backoff start within its cap', () => {
    expect(errorOf({ env: { ALTER0_API__WAIT_MS: '700000' } })).toContain(
      'ALTER0_API__WAIT_MS: api.wait_ms: 700000 is above api.max_wait_ms (600000)',
    );
    expect(errorOf({ flags: { set: ['queue.backoff_initial_ms=5', 'queue.backoff_max_ms=1'] } })).toContain(
      '--set queue.backoff_initial_ms: queue.backoff_initial_ms: 5 is above queue.backoff_max_ms (1)',
    );
  });
});

describe('token rules', () => {
  const goodToken = 'a'.repeat(64);

  it('requires a token file when listening beyond loopback', () => {
    expect(errorOf({ flags: { listen: '0.0.0.0:7070' } })).toContain(
      '--listen: listen: 0.0.0.0 is not a loopback address, so clients must present a token',
    );
    expect(errorOf({ env: { ALTER0_LISTEN: '[::]:7070' } })).toContain(
      'ALTER0_LISTEN: listen: :: is not a loopback address',
    );
    for (const l of ['127.0.0.1:0', 'localhost:7070', '[::1]:7070', '127.1.2.3:80']) {
      expect(load({ flags: { listen: l } }).config.listen).toBe(l);
    }
  });

  it('accepts a 0600 token file of enough characters, relative to the config file', () => {
    write('secret/token', `${goodToken}\n`, 0o600);
    const file = write('secret/c.toml', 'listen = "0.0.0.0:7070"\ntoken_file = "token"\n');
    const { config } = load({ file });
    expect(config.token_file).toBe(path.join(sb.dir, 'secret', 'token'));
  });

  it('refuses a token file others can read, a short token, and a missing file', () => {
    const open = write('open', goodToken, 0o644);
    expect(errorOf({ flags: { token_file: open } })).toContain(
      `--token-file: token_file: token file ${open} has mode 0644, so other users can read or change it; run: chmod 600 ${open}`,
    );
    const short = write('short', 'abc', 0o600);
    expect(errorOf({ env: { ALTER0_TOKEN_FILE: short } })).toContain(
      `ALTER0_TOKEN_FILE: token_file: token in ${short} has 3 characters, fewer than 32`,
    );
    expect(errorOf({ flags: { listen: '10.0.0.1:1', token_file: 'missing' } })).toContain(
      `token file ${path.join(sb.dir, 'missing')} does not exist`,
    );
  });
});
