import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Job, MessageDone } from '@alter0/api';
import { cli, reply, serve, tempDir } from './harness.js';
import type { Served } from './harness.js';

// "Safe on a shared machine", end to end through the real `alter0` command: file modes under the usual umask,
// refusing a data directory others can change, what agents inherit and what alter0 stores and logs of their
// output, and the token workflow (`alter0 token init`, the CLI reading the token by itself).

const dirs: string[] = [];
const daemons: Served[] = [];
let umask: number;
beforeAll(() => {
  // The usual umask: the children (serve, db backup) inherit it. Without alter0's own modes all would be 0644/0755.
  umask = process.umask(0o022);
});
afterAll(() => {
  process.umask(umask);
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const d = tempDir('alter0-shared-');
  dirs.push(d);
  return d;
}
async function started(opts: Parameters<typeof serve>[0]): Promise<Served> {
  const s = await serve(opts);
  daemons.push(s);
  return s;
}
const mode = (p: string): string => (fs.statSync(p).mode & 0o777).toString(8);
const isRoot = process.getuid?.() === 0;

const SECRET = 'sup3r-s3cret-agent-key-42';
const TOKEN_IN_ENV = 'daemon-env-token-0123456789abcdef0123456789';

/** An agent for the `command` executor: new task when routing, never closes, and on execute does what the prompt says. */
function writeAgent(dir: string): string {
  const file = path.join(dir, 'agent.mjs');
  fs.writeFileSync(
    file,
    `
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const prompt = Buffer.concat(chunks).toString('utf8');
const stage = process.env.ALTER0_STAGE;
if (stage === 'route') { process.stdout.write(JSON.stringify({ decision: 'new', task_id: null, confidence: 0.9, reason: 'new' })); process.exit(0); }
if (stage === 'close') { process.stdout.write(JSON.stringify({ close: false, confidence: 0.9, reason: 'continues' })); process.exit(0); }
if (prompt.includes('leak')) { console.error('auth failed: key ' + process.env.MY_AGENT_KEY + ' rejected'); process.exit(2); }
if (prompt.includes('env')) {
  const names = ['ALTER0_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'SSH_AUTH_SOCK', 'GITHUB_TOKEN', 'MY_AGENT_KEY', 'EDITOR', 'ANTHROPIC_API_KEY'];
  process.stdout.write(JSON.stringify(Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]))));
  process.exit(0);
}
process.stdout.write('ok: ' + prompt);
`,
  );
  return `${JSON.stringify(process.execPath)} ${JSON.stringify(file)}`;
}

describe('files are private whatever the umask (9)', () => {
  it('a fresh data dir, db, -wal, -shm, logs, backups and workspaces end up 0700/0600 under umask 022', async () => {
    const d = scratch();
    const data = path.join(d, 'data');
    const s = await started({ data, command: writeAgent(d), args: ['--set', 'closer.enabled=false'] });
    const r = await s.client.sendMessage({ content: 'hello' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const backup = await cli(['db', 'backup', '--data', data, '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    const backupFile = (JSON.parse(backup.stdout) as { path: string }).path;

    const dirsPrivate = ['', 'logs', 'backups', 'workspaces', 'run', 'run/groups'];
    const workspaces = fs.readdirSync(path.join(data, 'workspaces')).map((w) => path.join('workspaces', w));
    expect(workspaces.length).toBeGreaterThanOrEqual(2); // .system and the task's
    for (const p of [...dirsPrivate, ...workspaces]) expect(mode(path.join(data, p)), `${p}/`).toBe('700');
    const logFiles = fs
      .readdirSync(path.join(data, 'logs'))
      .filter((f) => f !== 'alter0.log')
      .map((f) => path.join('logs', f));
    expect(logFiles.length).toBeGreaterThanOrEqual(2); // the day's file and the rotation audit
    for (const p of ['alter0.db', 'alter0.db-wal', 'alter0.db-shm', 'alter0.lock', ...logFiles])
      expect(mode(path.join(data, p)), p).toBe('600');
    expect(mode(backupFile)).toBe('600');
  });

  it('an install made under umask 022 is made private at start, and the log says what was fixed', async () => {
    const d = scratch();
    const data = path.join(d, 'data');
    fs.mkdirSync(path.join(data, 'logs'), { recursive: true, mode: 0o755 });
    fs.mkdirSync(path.join(data, 'workspaces', 't_old'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(data, 'logs', 'alter0-2020-01-01.log'), '{}\n', { mode: 0o644 });
    fs.chmodSync(data, 0o755);
    const s = await started({ data, command: writeAgent(d) });
    expect(mode(data)).toBe('700');
    expect(mode(path.join(data, 'logs', 'alter0-2020-01-01.log'))).toBe('600');
    expect(mode(path.join(data, 'workspaces', 't_old'))).toBe('700');
    expect(s.stderr()).toMatch(/"message":"made files private that other users could read","count":\d+/);
    expect(s.stderr()).toContain(
      `"path":"${path.join(data, 'logs', 'alter0-2020-01-01.log')}","from":"0644","to":"0600"`,
    );
  });
});

describe('a data directory others can change is refused (10)', () => {
  it('serve and doctor refuse a world-writable data directory, naming it and the chmod', async () => {
    const d = scratch();
    const data = path.join(d, 'data');
    fs.mkdirSync(data);
    fs.chmodSync(data, 0o777);
    const r = await cli(['serve', '--data', data, '--listen', '127.0.0.1:0', '--command', 'true']);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(
      `data directory ${data} has mode 0777: other users can write to it and change what alter0 does; run: chmod 700 ${data}`,
    );
    expect(fs.readdirSync(data)).toEqual([]); // nothing was written into it, not even a log
    const doc = await cli(['doctor', '--data', data, '--no-executors']);
    expect(doc.code).toBe(78);
    expect(doc.stdout).toMatch(/permissions\s+FATAL\s+data directory .* has mode 0777/);
  });

  it.runIf(isRoot)('a planted alter0.toml (another owner) is never loaded: its argv does not run', async () => {
    const d = scratch();
    const data = path.join(d, 'data');
    fs.mkdirSync(data, { mode: 0o700 });
    const marker = path.join(d, 'pwned');
    const planted = path.join(data, 'alter0.toml');
    fs.writeFileSync(
      planted,
      `[executor]\ndefault = "command"\n[executor.command]\nargv = ["touch", ${JSON.stringify(marker)}]\n`,
      { mode: 0o644 },
    );
    fs.chownSync(planted, 1000, 1000);
    const r = await cli(['serve', '--data', data, '--listen', '127.0.0.1:0']);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`config file ${planted} belongs to uid 1000, not to the user alter0 runs as (uid 0)`);
    const doc = await cli(['doctor', '--data', data, '--no-executors']);
    expect(doc.code).toBe(78);
    expect(doc.stdout).toContain('belongs to uid 1000');
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe('what agents inherit, and what alter0 keeps of their output (11)', () => {
  it('agents get neither ALTER0_TOKEN nor cloud/SSH credentials; executor.env is passed and its values are redacted in the stored job, the API and the log', async () => {
    const d = scratch();
    const data = path.join(d, 'data');
    const s = await started({
      data,
      command: writeAgent(d),
      args: ['--set', 'closer.enabled=false', '--set', 'queue.max_attempts=1'],
      env: {
        ALTER0_TOKEN: TOKEN_IN_ENV,
        AWS_SECRET_ACCESS_KEY: 'aws-secret-value',
        SSH_AUTH_SOCK: '/tmp/ssh-agent.sock',
        GITHUB_TOKEN: 'ghp-not-for-agents',
        EDITOR: 'vi',
        ANTHROPIC_API_KEY: 'sk-ant-kept-for-claude',
        ALTER0_EXECUTOR__ENV__MY_AGENT_KEY: SECRET,
      },
    });
    const env = await reply(s, { content: 'print env' });
    expect(JSON.parse(env.reply ?? '{}')).toEqual({
      ALTER0_TOKEN: null,
      AWS_SECRET_ACCESS_KEY: null,
      SSH_AUTH_SOCK: null,
      GITHUB_TOKEN: null,
      MY_AGENT_KEY: SECRET,
      EDITOR: 'vi',
      ANTHROPIC_API_KEY: 'sk-ant-kept-for-claude',
    });

    // Raw reads, not the client's: its validation drops fields the contract does not name, and a secret in such a
    // field must still fail this test.
    const leak = await s.api<MessageDone>('POST', '/api/message', { content: 'leak it' });
    expect(leak.body.error?.stderr_tail).toContain('auth failed: key <redacted> rejected');
    const job = await s.api<Job>('GET', `/api/jobs/${leak.body.job_id}`);
    const logs = fs
      .readdirSync(path.join(data, 'logs'))
      .filter((f) => f.endsWith('.log') && f !== 'alter0.log')
      .map((f) => fs.readFileSync(path.join(data, 'logs', f), 'utf8'))
      .join('\n');
    expect(logs).toContain('"error_class"');
    for (const [where, text] of [
      ['answer', JSON.stringify(leak.body)],
      ['job', JSON.stringify(job.body)],
      ['log file', logs],
      ['stderr log', s.stderr()],
    ] as const) {
      expect(text, where).not.toContain(SECRET);
    }
  });
});

describe('the token workflow (11, token init)', () => {
  it('token init creates a 0600 token and sets token_file; the service then requires it and the CLI sends it by itself', async () => {
    const d = scratch();
    const data = path.join(d, 'data');
    fs.mkdirSync(data, { mode: 0o700 });
    fs.writeFileSync(path.join(data, 'alter0.toml'), '# my settings\n[queue]\nmax_attempts = 2\n', { mode: 0o600 });
    const init = await cli(['token', 'init', '--data', data]);
    expect(init.code, init.stderr).toBe(0);
    const tokenFile = path.join(data, 'token');
    expect(init.stdout).toContain(`token: a new random API token is in ${tokenFile} (mode 0600`);
    expect(init.stdout).toContain(`config: token_file = "token" added to ${path.join(data, 'alter0.toml')}`);
    expect(init.stdout).toContain('start alter0');
    expect(mode(tokenFile)).toBe('600');
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(init.stdout).not.toContain(token);
    expect(fs.readFileSync(path.join(data, 'alter0.toml'), 'utf8')).toBe(
      'token_file = "token"\n# my settings\n[queue]\nmax_attempts = 2\n',
    );

    const again = await cli(['token', 'init', '--data', data]);
    expect(again.code).toBe(78);
    expect(again.stderr).toContain(`token file ${tokenFile} already exists; keep using it, or pass --force`);

    const s = await started({ data, command: writeAgent(d), args: ['--set', 'closer.enabled=false'] });
    expect((await s.api('GET', '/api/status')).status).toBe(401);
    const status = await cli(['status', '--data', data, '--addr', s.url, '--json']);
    expect(status.code, status.stderr).toBe(0);
    // Elsewhere (no config with the token): ALTER0_TOKEN.
    const other = path.join(d, 'elsewhere');
    const without = await cli(['status', '--data', other, '--addr', s.url]);
    expect(without.code).not.toBe(0);
    const withEnv = await cli(['status', '--data', other, '--addr', s.url, '--json'], { ALTER0_TOKEN: token });
    expect(withEnv.code, withEnv.stderr).toBe(0);
  });

  it('token init fixes a config that is refused for want of a token (public_url on loopback)', async () => {
    const d = scratch();
    const data = path.join(d, 'data');
    const env = { ALTER0_PUBLIC_URL: 'https://alter0.example.net' };
    const refused = await cli(['serve', '--data', data, '--print-config'], env);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain(
      'ALTER0_PUBLIC_URL: public_url: is set, so alter0 is reached through a reverse proxy',
    );
    const init = await cli(['token', 'init', '--data', data], env);
    expect(init.code, init.stderr).toBe(0);
    expect((await cli(['serve', '--data', data, '--print-config'], env)).code).toBe(0);
  });
});

describe('--print-config redacts by shape (12)', () => {
  it('never prints a PAT, a webhook secret or a bearer header', async () => {
    const d = scratch();
    const r = await cli(
      [
        'serve',
        '--print-config',
        '--data',
        path.join(d, 'data'),
        '--command',
        'agent --header "Authorization: Bearer abc123def456ghi789"',
      ],
      {
        ALTER0_EXECUTOR__ENV__GITHUB_PAT: 'github_pat_11AAAAAAA0bbbbbbbbbbbbbbbbbbbbbbbbbb',
        ALTER0_EXECUTOR__ENV__NOTIFY: 'https://hooks.slack.com/services/T0001/B0001/Zk3pQ9vLx2Wm8RtY5nB7cH4s',
      },
    );
    expect(r.code, r.stderr).toBe(0);
    for (const secret of ['github_pat_11', 'Zk3pQ9vLx2Wm8RtY5nB7cH4s', 'abc123def456ghi789'])
      expect(r.stdout).not.toContain(secret);
    expect(r.stdout).toMatch(/executor\.command\.argv\s+\["agent","--header","<redacted>"\]/);
  });
});
