import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutorError } from '@alter0/core';
import { createExecutor } from '../src/create-executor.js';
import { EnvFilter } from '../src/child-env.js';
import { NODE, request, tempDir } from './helpers.js';

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

const PRINT_ENV = 'process.stdout.write(JSON.stringify(process.env))';
const TOKEN = 'tok-0123456789abcdef0123456789abcdef';
const DROP = ['AWS_*', 'SSH_AUTH_SOCK', '*_TOKEN', '*_API_KEY', '!ANTHROPIC_*'];
const BASE = {
  PATH: process.env.PATH,
  HOME: '/home/me',
  ALTER0_TOKEN: TOKEN,
  ALTER0_TOKEN_FILE: '/home/me/.local/share/alter0/token',
  ALTER0_EXECUTOR__ENV__MY_KEY: 'configured',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  AWS_PROFILE: 'prod',
  SSH_AUTH_SOCK: '/run/user/1000/ssh-agent',
  GITHUB_TOKEN: 'ghp-secret',
  GEMINI_API_KEY: 'gem',
  ANTHROPIC_API_KEY: 'sk-ant-needed',
  MY_COPY_OF_THE_TOKEN: TOKEN,
  EDITOR: 'vi',
};

describe('the environment agents get (11)', () => {
  it('is the daemon environment minus alter0 secrets and executor.env_drop, plus executor.env', async () => {
    const ex = createExecutor(
      {
        kind: 'command',
        argv: [NODE, '-e', PRINT_ENV],
        env: { MY_KEY: 'configured', GITHUB_TOKEN: 'explicitly-given' },
        envDrop: DROP,
      },
      { baseEnv: BASE, secretValues: [TOKEN], drainMs: 100 },
    );
    const env = JSON.parse((await ex.run(request({ cwd: dir.path }))).text) as Record<string, string>;
    for (const gone of [
      'ALTER0_TOKEN',
      'ALTER0_TOKEN_FILE',
      'ALTER0_EXECUTOR__ENV__MY_KEY',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_PROFILE',
      'SSH_AUTH_SOCK',
      'GEMINI_API_KEY',
      'MY_COPY_OF_THE_TOKEN',
    ]) {
      expect(env[gone], gone).toBeUndefined();
    }
    expect(env).toMatchObject({
      HOME: '/home/me',
      EDITOR: 'vi',
      ANTHROPIC_API_KEY: 'sk-ant-needed',
      MY_KEY: 'configured',
      GITHUB_TOKEN: 'explicitly-given',
      ALTER0_STAGE: 'execute',
    });
  });

  it('drops ALTER0_TOKEN even with no env_drop at all', async () => {
    const ex = createExecutor({ kind: 'command', argv: [NODE, '-e', PRINT_ENV] }, { baseEnv: BASE, drainMs: 100 });
    const env = JSON.parse((await ex.run(request({ cwd: dir.path }))).text) as Record<string, string>;
    expect(env.ALTER0_TOKEN).toBeUndefined();
    expect(env.SSH_AUTH_SOCK).toBe('/run/user/1000/ssh-agent');
  });

  it('patterns: globs, case-insensitive, the last match wins', () => {
    const f = new EnvFilter(['*_TOKEN', '!MY_*', 'MY_SECRET?']);
    expect(f.keeps('GH_TOKEN', 'x')).toBe(false);
    expect(f.keeps('gh_token', 'x')).toBe(false);
    expect(f.keeps('MY_TOKEN', 'x')).toBe(true);
    expect(f.keeps('MY_SECRET1', 'x')).toBe(false);
    expect(f.keeps('MY_SECRET', 'x')).toBe(true);
    expect(f.keeps('PATH', '/bin')).toBe(true);
  });
});

describe('redaction of what a run hands back (11)', () => {
  const SECRET = 'sup3r-s3cret-value';
  const redact = (t: string): string => t.split(SECRET).join('<redacted>');

  it('hides configured secrets in the stderr tail and the error message of a failed run', async () => {
    const ex = createExecutor(
      {
        kind: 'command',
        argv: [NODE, '-e', 'console.error("auth failed for key " + process.env.MY_AGENT_KEY); process.exit(3)'],
        env: { MY_AGENT_KEY: SECRET },
      },
      { baseEnv: { PATH: process.env.PATH }, redact, drainMs: 100 },
    );
    const err = await ex.run(request({ cwd: dir.path })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ExecutorError);
    const e = err as ExecutorError;
    expect(e.stderrTail).toContain('auth failed for key <redacted>');
    expect(e.message).toContain('<redacted>');
    expect(`${e.message}\n${e.stderrTail}\n${e.stack ?? ''}`).not.toContain(SECRET);
  });

  it('hides them in the stderr tail of a successful run too', async () => {
    const ex = createExecutor(
      {
        kind: 'command',
        argv: [NODE, '-e', 'console.error(process.env.MY_AGENT_KEY); console.log("done")'],
        env: { MY_AGENT_KEY: SECRET },
      },
      { baseEnv: { PATH: process.env.PATH }, redact, drainMs: 100 },
    );
    const res = await ex.run(request({ cwd: dir.path }));
    expect(res.text).toBe('done');
    expect(res.stderrTail).toBe('<redacted>\n');
  });
});

describe("the daemon's NODE_OPTIONS", () => {
  const nodeOptions = (value: string): string | undefined =>
    new EnvFilter().apply({ PATH: '/bin', NODE_OPTIONS: value }).NODE_OPTIONS;

  it('loses its heap sizing flags (they size the daemon, not every Node agent), keeps the rest', () => {
    expect(nodeOptions('--max-semi-space-size=8 --use-openssl-ca --max_old_space_size=4096')).toBe('--use-openssl-ca');
    expect(nodeOptions('--max-old-space-size 4096 --require "/opt/my hooks.js"')).toBe('--require "/opt/my hooks.js"');
    expect(nodeOptions('--max-old-space-size-percentage=50')).toBeUndefined();
    expect(nodeOptions('--max-semi-space-size=1')).toBeUndefined();
  });

  it('executor.env can still give agents a NODE_OPTIONS of their own', async () => {
    const ex = createExecutor(
      { kind: 'command', argv: [NODE, '-e', PRINT_ENV], env: { NODE_OPTIONS: '--max-old-space-size=512' } },
      { baseEnv: { PATH: process.env.PATH, NODE_OPTIONS: '--max-semi-space-size=8' }, drainMs: 100 },
    );
    const env = JSON.parse((await ex.run(request({ cwd: dir.path }))).text) as Record<string, string>;
    expect(env.NODE_OPTIONS).toBe('--max-old-space-size=512');
  });
});
