import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_DURATION_S } from '@alter0/core';
import { configSandbox } from './sandbox.js';
import { formatConfigReport, redactValue } from '../src/report.js';
import { configSecrets, createRedactor, redactorFor } from '../src/redact.js';
import { isSecretName, looksLikeToken, redactText } from '../src/secrets.js';
import { readTokenFile, writeTokenFile } from '../src/token.js';
import { setTopLevelString } from '../src/config-edit.js';
import { trustProblem } from '../src/trust.js';

const sb = configSandbox('alter0-config-sec-', 0o600);
const { write, load, errorOf } = sb;
const isRoot = process.getuid?.() === 0;
const goodToken = 'b'.repeat(64);

describe('public_url and allowed_hosts need a token (8)', () => {
  it('refuses public_url or allowed_hosts without token_file, even on loopback', () => {
    expect(errorOf({ env: { ALTER0_PUBLIC_URL: 'https://alter0.example.net' } })).toContain(
      'ALTER0_PUBLIC_URL: public_url: is set, so alter0 is reached through a reverse proxy or another name, and a proxy connects from loopback: without a token anyone who reaches the proxy uses the API; run `alter0 token init`',
    );
    const file = write('c.toml', 'allowed_hosts = ["alter0.lan"]\n');
    expect(errorOf({ file })).toContain(`${file}: allowed_hosts: is set, so alter0 is reached through a reverse proxy`);
  });

  it('accepts them with a token file, and loopback without either needs none', () => {
    const token = write('token', goodToken);
    const { config } = load({
      env: {
        ALTER0_PUBLIC_URL: 'https://alter0.example.net',
        ALTER0_ALLOWED_HOSTS: '["alter0.lan"]',
        ALTER0_TOKEN_FILE: token,
      },
    });
    expect(config.public_url).toBe('https://alter0.example.net');
    expect(load({}).config.token_file).toBe('');
  });

  it('tokenRules: false loads without them (for token init)', () => {
    expect(load({ env: { ALTER0_PUBLIC_URL: 'https://x.example' }, tokenRules: false }).config.public_url).toBe(
      'https://x.example',
    );
  });
});

describe('duration bounds (7)', () => {
  const MAX_MS = MAX_DURATION_S * 1000;
  const timerKeys = [
    'api.wait_ms',
    'api.max_wait_ms',
    'executor.kill_grace_ms',
    'queue.backoff_initial_ms',
    'queue.backoff_max_ms',
    'router.timeout_s',
    'closer.timeout_s',
    'queue.job_timeout_s',
    'shutdown.drain_timeout_s',
    'notify.timeout_s',
  ];

  it('every *_ms and *_s setting stops at 7 days, naming the key, the limit and the value', () => {
    const keys = Object.keys(load({}).sources).filter((k) => /_(ms|s)$/.test(k));
    expect(keys.sort()).toEqual([...timerKeys].sort());
    for (const key of keys) {
      const limit = key.endsWith('_ms') ? MAX_MS : MAX_DURATION_S;
      const msg = errorOf({ flags: { set: [`${key}=${Number.MAX_SAFE_INTEGER}`] } });
      expect(msg, key).toContain(
        `--set ${key}: ${key}: must be at most ${limit} (7 days in ${key.endsWith('_ms') ? 'milliseconds' : 'seconds'})`,
      );
      expect(msg, key).toContain(`(got ${Number.MAX_SAFE_INTEGER})`);
    }
    expect(errorOf({ env: { ALTER0_QUEUE__JOB_TIMEOUT_S: String(MAX_DURATION_S + 1) } })).toContain(
      `ALTER0_QUEUE__JOB_TIMEOUT_S: queue.job_timeout_s: must be at most ${MAX_DURATION_S} (7 days in seconds): longer waits overflow timers (got ${MAX_DURATION_S + 1})`,
    );
    const ok = load({
      flags: {
        set: [`queue.job_timeout_s=${MAX_DURATION_S}`, `api.max_wait_ms=${MAX_MS}`, `queue.backoff_max_ms=${MAX_MS}`],
      },
    }).config;
    expect(ok.queue.job_timeout_s).toBe(MAX_DURATION_S);
  });

  it('duration strings that become timers stop at 7d; ages at 10 years', () => {
    expect(errorOf({ env: { ALTER0_BACKUP__INTERVAL: '8d' } })).toContain(
      'ALTER0_BACKUP__INTERVAL: backup.interval: must be at most 7d: longer waits overflow timers (got "8d")',
    );
    expect(errorOf({ env: { ALTER0_STATUS__QUEUE_DEGRADED_AFTER: '2w' } })).toContain(
      'status.queue_degraded_after: must be at most 7d',
    );
    expect(load({ env: { ALTER0_BACKUP__INTERVAL: '7d' } }).config.backup.interval).toBe('7d');
    expect(load({ env: { ALTER0_RETENTION__CLOSED_TASKS: '365d' } }).config.retention.closed_tasks).toBe('365d');
    expect(errorOf({ env: { ALTER0_RETENTION__EVENTS: '99999w' } })).toContain(
      'retention.events: must be at most 3650d (10 years) (got "99999w")',
    );
  });
});

describe('files another user could write are not trusted (10)', () => {
  it('refuses a config file writable by group or others, naming the path and the chmod', () => {
    const file = write('c.toml', '[executor.command]\nargv = ["evil"]\n', 0o666);
    expect(errorOf({ file })).toContain(
      `${file}: config file ${file} has mode 0666: other users can write to it and change what alter0 does; run: chmod 600 ${file}`,
    );
    const implicit = write('data/alter0.toml', '[queue]\nmax_attempts = 9\n', 0o620);
    expect(errorOf({ file: undefined, env: { ALTER0_DATA_DIR: path.dirname(implicit) } })).toContain(
      `config file ${implicit} has mode 0620`,
    );
  });

  it.runIf(isRoot)('refuses a config file and a token file that belong to another user', () => {
    const file = write('c.toml', '[queue]\nmax_attempts = 9\n', 0o644);
    fs.chownSync(file, 1000, 1000);
    expect(errorOf({ file })).toContain(
      `config file ${file} belongs to uid 1000, not to the user alter0 runs as (uid 0)`,
    );
    const token = write('token', goodToken, 0o600);
    fs.chownSync(token, 1000, 1000);
    expect(() => readTokenFile(token)).toThrow(`token file ${token} belongs to uid 1000`);
  });

  it('trustProblem: owner and group/other write bits, root-owned trusted', () => {
    const st = (uid: number, mode: number, isDir = false) => ({ uid, mode, isDirectory: () => isDir });
    expect(trustProblem('/d', st(5, 0o40700, true), 'data directory', 5)).toBeNull();
    expect(trustProblem('/d', st(0, 0o40755, true), 'data directory', 5)).toBeNull();
    expect(trustProblem('/d', st(5, 0o40777, true), 'data directory', 5)).toBe(
      'data directory /d has mode 0777: other users can write to it and change what alter0 does; run: chmod 700 /d (after checking its contents)',
    );
    expect(trustProblem('/f', st(6, 0o100600), 'config file', 5)).toContain(
      'config file /f belongs to uid 6, not to the user alter0 runs as (uid 5)',
    );
  });
});

describe('--print-config redacts by value shape too (12)', () => {
  it('hides secret names, webhook URLs, auth headers, secret flags and long tokens', () => {
    expect(redactValue('executor.env.GITHUB_PAT', 'abc')).toBe('<redacted>');
    expect(redactValue('executor.env.MY_SIGNING_KEY', 'abc')).toBe('<redacted>');
    expect(redactValue('executor.env.DEPLOY_PASSWORD', 'abc')).toBe('<redacted>');
    expect(redactValue('executor.env.SOME_VALUE', 'Zq8vN3kP2mX7wR4tY6uB1cD5')).toBe('<redacted>');
    expect(redactValue('executor.env.MY_AGENT_HOME', '/opt/my-agent')).toBe('/opt/my-agent');
    expect(redactValue('executor.env.MAX_TOKENS', '4096')).toBe('4096');
    expect(
      redactValue(
        'executor.env.NOTIFY',
        'https://hooks.slack.com/services/T00000000/B00000000/Zk3pQ9vLx2Wm8RtY5nB7cH4s',
      ),
    ).toBe('https://hooks.slack.com/services/T00000000/B00000000/redacted');
    expect(redactValue('executor.env.HOOK', 'https://example.net/hook?channel=ops&token=s3cr3t&sig=abc')).toBe(
      'https://example.net/hook?channel=ops&token=redacted&sig=redacted',
    );
    expect(redactValue('public_url', 'https://me:pw@host/')).toBe('https://me:redacted@host/');
    expect(redactValue('executor.env.REPO', 'https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/me/x.git')).toBe(
      'https://redacted@github.com/me/x.git',
    );
    expect(
      redactValue('executor.command.argv', [
        'agent',
        '--header',
        'Authorization: Bearer abc.def.ghi',
        '-H',
        'X-Api-Key: k1',
        '--token',
        't',
        '--api-key=k2',
        '--model',
        'claude-opus-4-1-20250805',
        'sk-ant-api03-AAAABBBBCCCCDDDD1234',
      ]),
    ).toEqual([
      'agent',
      '--header',
      '<redacted>',
      '-H',
      '<redacted>',
      '--token',
      '<redacted>',
      '--api-key=<redacted>',
      '--model',
      'claude-opus-4-1-20250805',
      '<redacted>',
    ]);
    expect(
      redactValue('executor.claude.args', [
        '--append-system-prompt',
        'use Authorization: Bearer abcdefgh12345678 to call',
      ]),
    ).toEqual(['--append-system-prompt', 'use Authorization: <redacted>']);
    expect(redactValue('executor.command.argv', ['curl', '-s', 'https://api.example.net/x?api_key=123456'])).toEqual([
      'curl',
      '-s',
      'https://api.example.net/x?api_key=redacted',
    ]);
  });

  it('the printed report carries none of them', () => {
    const loaded = load({
      env: {
        ALTER0_EXECUTOR__ENV__GITHUB_PAT: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop',
        ALTER0_EXECUTOR__ENV__WEBHOOK:
          'https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFGH',
        ALTER0_EXECUTOR__COMMAND__ARGV: '["agent","--header","Authorization: Bearer very-secret-bearer-1"]',
        ALTER0_EXECUTOR: 'command',
      },
    });
    const text = formatConfigReport(loaded);
    for (const secret of ['github_pat_11ABCDEFG', 'AbCdEfGhIjKlMnOpQrSt', 'very-secret-bearer-1'])
      expect(text).not.toContain(secret);
    expect(text).toMatch(
      /executor\.env\.WEBHOOK\s+"https:\/\/discord\.com\/api\/webhooks\/123456789012345678\/redacted"/,
    );
  });

  it('names and shapes', () => {
    for (const n of [
      'GITHUB_PAT',
      'NPM_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'DB_PASSWORD',
      'GOOGLE_CREDENTIALS',
      'SSH_AUTH_SOCK',
      'api-key',
      'MY_KEY',
    ])
      expect(isSecretName(n), n).toBe(true);
    for (const n of ['PATH', 'HOME', 'MAX_TOKENS', 'GIT_AUTHOR_NAME', 'ANTHROPIC_BASE_URL', 'KEYBOARD_LAYOUT', 'MODEL'])
      expect(isSecretName(n), n).toBe(false);
    expect(looksLikeToken('0123456789abcdef0123456789abcdef')).toBe(true);
    expect(looksLikeToken('claude-sonnet-4-5-20250929')).toBe(false);
    expect(looksLikeToken('/home/someone/projects/alter0')).toBe(false);
    expect(redactText('GET /api/jobs/j_01JABCDEFGHJKMNPQRSTVWXYZ0', { deep: false })).toBe(
      'GET /api/jobs/j_01JABCDEFGHJKMNPQRSTVWXYZ0',
    );
  });
});

describe('the run-time redactor (11)', () => {
  it('collects the token, executor.env values and secret args; skips short values, paths and plain URLs', () => {
    const config = load({
      env: {
        ALTER0_EXECUTOR__ENV: JSON.stringify({
          MY_AGENT_KEY: 'k3y!',
          CUSTOM: 'plain-but-long-value',
          FLAG: '1',
          HOME_DIR: '/opt/agent',
          BASE: 'http://127.0.0.1:9000',
          DB: 'postgres://u:pw-in-url@db/x',
        }),
        ALTER0_EXECUTOR__CODEX__ARGS: '["--api-key","codex-key-1","-c","x=1"]',
      },
    }).config;
    expect(configSecrets(config, 'the-api-token-0123456789abcdef0123').sort()).toEqual(
      ['codex-key-1', 'k3y!', 'plain-but-long-value', 'pw-in-url', 'the-api-token-0123456789abcdef0123'].sort(),
    );
  });

  it('hides known values and secret shapes, and leaves the rest', () => {
    const redact = createRedactor(['s3cr3t-value-123', 'the-api-token']);
    expect(redact('auth failed with s3cr3t-value-123 (token the-api-token)')).toBe(
      'auth failed with <redacted> (token <redacted>)',
    );
    expect(redact('curl -H "Authorization: Bearer abcdefgh12345678" https://u:p@h/x')).toBe(
      'curl -H "Authorization: <redacted>" https://u:redacted@h/x',
    );
    expect(redact('key sk-ant-api03-abcdefghijklmnop1234 refused')).toBe('key <redacted> refused');
    expect(redact('job j_01JABCDEFGHJKMNPQRSTVWXYZ0 failed after 3 attempts')).toBe(
      'job j_01JABCDEFGHJKMNPQRSTVWXYZ0 failed after 3 attempts',
    );
    expect(redact('')).toBe('');
    const fromConfig = redactorFor(load({ env: { ALTER0_EXECUTOR__ENV__SERVICE_TOKEN: 'tok-98765' } }).config, null);
    expect(fromConfig('echo tok-98765')).toBe('echo <redacted>');
  });
});

describe('token init helpers', () => {
  it('writeTokenFile makes a 0600 file of 64 hex characters, refuses to replace unless asked', () => {
    const old = process.umask(0o022);
    try {
      const file = path.join(sb.dir, 'new', 'token');
      const t = writeTokenFile(file);
      expect(t).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      expect(readTokenFile(file)).toBe(t);
      expect(() => writeTokenFile(file)).toThrow(
        `token file ${file} already exists; keep using it, or pass --force to replace it`,
      );
      const t2 = writeTokenFile(file, { replace: true });
      expect(readTokenFile(file)).toBe(t2);
      expect(t2).not.toBe(t);
    } finally {
      process.umask(old);
    }
  });

  it('setTopLevelString adds, replaces or creates, keeping the rest of the file', () => {
    const toml = write('a.toml', '# mine\n[queue]\nmax_attempts = 4\n', 0o644);
    expect(setTopLevelString(toml, 'token_file', 'token')).toBe('added');
    expect(fs.readFileSync(toml, 'utf8')).toBe('token_file = "token"\n# mine\n[queue]\nmax_attempts = 4\n');
    expect(setTopLevelString(toml, 'token_file', '/x/t')).toBe('replaced');
    expect(fs.readFileSync(toml, 'utf8')).toBe('token_file = "/x/t"\n# mine\n[queue]\nmax_attempts = 4\n');
    expect(fs.statSync(toml).mode & 0o777).toBe(0o600);
    const json = write('b.json', '{"listen":"0.0.0.0:1"}');
    expect(setTopLevelString(json, 'token_file', 'token')).toBe('added');
    expect(JSON.parse(fs.readFileSync(json, 'utf8'))).toEqual({ listen: '0.0.0.0:1', token_file: 'token' });
    const fresh = path.join(sb.dir, 'fresh', 'alter0.toml');
    expect(setTopLevelString(fresh, 'token_file', 'token')).toBe('created');
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o600);
  });
});
