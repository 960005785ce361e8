import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terminalJson, terminalText } from '../src/terminal-text.js';
import { cli, tempDir } from './harness.js';

/** What a hostile or broken model could put in a reply, a title, a reason or an agent's stderr. */
const EVIL =
  'A\x1b[2J\x1b[H\x1b[31mred\x1b[0m \x1b]8;;http://evil.example/\x07link\x1b]8;;\x07 \x1b]0;pwned\x07title ' +
  'bell\x07 cr\rX \x9b31mc1 \x1bPdcs\x1b\\ \x08bs del\x7f end\ttab\r\nline2';
/** Every control character a terminal may act on: all of C0 except \t and \n, DEL, C1. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

const ID = (p: string) => `${p}_${'0'.repeat(26)}`;
const AT = '2026-01-01T00:00:00.000Z';
const job = {
  id: ID('j'),
  message_id: ID('m'),
  task_id: ID('t'),
  lane: 'interactive',
  state: 'failed',
  stage: null,
  attempt: 1,
  max_attempts: 1,
  timeout_s: 60,
  content: `please ${EVIL}`,
  reply: EVIL,
  error: { class: 'exit', message: `agent exited: ${EVIL}`, stderr_tail: EVIL },
  route: { decision: 'existing', task_id: ID('t'), confidence: 0.9, reason: EVIL, fallback: null },
  timings: { queue_wait_ms: 1, route_ms: 2, execute_ms: 3, close_ms: 4, total_ms: 10 },
  usage: null,
  permission_denials: [],
  memory: null,
  retry_of: null,
  cancel_requested: false,
  channel_id: 'cli',
  user_id: 'owner',
  session_id: null,
  created_at: AT,
  updated_at: AT,
  started_at: AT,
  replied_at: null,
  finished_at: AT,
  next_run_at: null,
};
const task = {
  id: ID('t'),
  title: `title ${EVIL}`,
  summary: EVIL,
  state: 'closed',
  executor: 'command',
  session_id: null,
  workspace: '/w',
  created_at: AT,
  updated_at: AT,
  closed_at: AT,
  closed_by: 'auto',
  close_reason: EVIL,
  close_confidence: 0.9,
};
const decided = {
  confidence: 0.9,
  reason: EVIL,
  reject_code: null,
  template_id: null,
  template_version: null,
  template_hash: null,
  prompt_chars: 0,
  model_called: true,
  latency_ms: 5,
  raw_output: null,
  error_class: null,
  created_at: AT,
};
const decisions = {
  route: [
    {
      ...decided,
      id: ID('d'),
      job_id: ID('j'),
      message_id: ID('m'),
      task_id: ID('t'),
      decision: 'existing',
      fallback: null,
      candidates: [],
      input_summary: 'hi',
    },
  ],
  close: [
    { ...decided, id: ID('d'), task_id: ID('t'), job_id: ID('j'), source: 'auto', action: 'close', fallback: null },
  ],
};
const component = (details: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  state: 'ok',
  since: AT,
  last_error: null,
  details,
  ...extra,
});
const status = {
  version: '0',
  started_at: AT,
  uptime_s: 1,
  state: 'degraded',
  components: {
    gateway: component({
      url: null,
      accepting: true,
      channels: [],
      outbox: { pending: 0, dead: 0, oldest_pending_age_ms: null, last_error: null },
    }),
    queue: component({
      depth: { interactive: 0, background: 0 },
      oldest_queued_age_ms: { interactive: null, background: null },
      running: 0,
      workers: { total: { interactive: 1, background: 1 }, busy: { interactive: 0, background: 0 } },
      jobs_by_state: { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0 },
    }),
    executor: component({ executors: [] }, { state: 'degraded', last_error: { message: EVIL, at: AT } }),
    scheduler: component({
      jobs: [],
      schedules: { count: 0, active: 0, paused: 0, next_run_at: null, next_id: null, paused_ids: [], failing: 0 },
    }),
    storage: component({ db_bytes: 0, wal_bytes: 0, schema_version: 1, free_bytes: null, data_dir: '/d' }),
  },
};

/** A stand-in for the service that answers with model text full of escape sequences. */
function fakeService(): http.Server {
  return http.createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && p === '/api/message')
      return send(200, {
        job_id: job.id,
        task_id: task.id,
        state: 'succeeded',
        stage: null,
        reply: EVIL,
        route: null,
        timings: job.timings,
        error: null,
      });
    if (req.method === 'POST' && p.endsWith('/cancel'))
      return send(409, { error: { code: 'conflict', message: `job is over: ${EVIL}` } });
    if (p === `/api/jobs/${job.id}`) return send(200, job);
    if (p === '/api/jobs') return send(200, { jobs: [job] });
    if (p === `/api/tasks/${task.id}`) {
      return send(200, {
        ...task,
        messages: [{ id: ID('m'), role: 'assistant', content: EVIL, job_id: ID('j'), created_at: AT }],
        jobs: [job],
        decisions,
        approvals: [],
        usage: { jobs: 1, input_tokens: 0, output_tokens: 0, cost_usd: null, jobs_with_cost: 0 },
      });
    }
    if (p === '/api/tasks') return send(200, { tasks: [task] });
    if (p === '/api/decisions') return send(200, decisions);
    if (p === '/api/status') return send(200, status);
    return send(404, { error: { code: 'not_found', message: 'no such endpoint' } });
  });
}

describe('terminalText', () => {
  it('removes escape sequences whole and every other control character, keeping \\n and \\t', () => {
    expect(terminalText(EVIL)).toBe('Ared link title bell crX c1 dcs\\ bs del end\ttab\nline2');
    expect(terminalText('plain\ttext\nwith unicode: é ✓ 日本')).toBe('plain\ttext\nwith unicode: é ✓ 日本');
  });

  it('terminalJson keeps JSON valid and equal, with DEL and C1 escaped', () => {
    const raw = JSON.stringify({ reply: EVIL });
    const safe = terminalJson(raw);
    expect(safe).not.toMatch(CONTROL);
    expect(JSON.parse(safe)).toEqual({ reply: EVIL });
  });
});

describe('the CLI prints model and agent text without control sequences', () => {
  let server: http.Server;
  let addr: string;
  let home: string;
  beforeAll(async () => {
    server = fakeService();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    home = tempDir('alter0-term-');
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(home, { recursive: true, force: true });
  });

  // HOME in a temp directory: no config of the machine's own alter0 is read.
  const run = (...args: string[]) =>
    cli([...args, '--addr', addr], { HOME: home, XDG_CONFIG_HOME: '', XDG_DATA_HOME: '' });

  it.each([
    ['send', ['send', 'hi'], 'red'],
    ['job', ['job', ID('j')], 'stderr tail'],
    ['jobs', ['jobs'], ID('j')],
    ['task', ['task', ID('t')], 'line2'],
    ['tasks', ['tasks'], 'title'],
    ['status', ['status'], 'executor'],
    ['decisions', ['decisions'], 'ROUTE'],
  ])('%s', async (_name, args, expected) => {
    const r = await run(...args);
    expect(r.stdout).toContain(expected);
    expect(r.stdout).not.toMatch(CONTROL);
    expect(r.stderr).not.toMatch(CONTROL);
  });

  it('an API error message is cleaned too', async () => {
    const r = await run('cancel', ID('j'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('job is over: Ared');
    expect(r.stderr).not.toMatch(CONTROL);
  });

  it('--json stays JSON with the text intact (escaped, never raw)', async () => {
    const r = await run('job', ID('j'), '--json');
    expect(r.stdout).not.toMatch(CONTROL);
    expect((JSON.parse(r.stdout) as { reply: string }).reply).toBe(EVIL);
  });
});

describe('a closed pipe', () => {
  // Review: `alter0 … | head` ended with EPIPE noise and a failure status.
  it('ends quietly with status 0 when the reader goes away', async () => {
    const { spawn } = await import('node:child_process');
    const path = await import('node:path');
    const { BIN } = await import('./harness.js');
    const data = tempDir();
    fs.mkdirSync(path.join(data, 'logs'), { recursive: true, mode: 0o700 });
    const record = (i: number) =>
      JSON.stringify({
        time: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString(),
        level: 'info',
        message: `line ${i}`,
      });
    fs.writeFileSync(
      path.join(data, 'logs', 'alter0-2026-01-01.log'),
      Array.from({ length: 50_000 }, (_, i) => record(i)).join('\n') + '\n',
      { mode: 0o600 },
    );
    const child = spawn(process.execPath, [BIN, 'logs', '--data', data, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ALTER0_CONFIG: '' },
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    // Like `head -1`: read the first chunk, then go away while the CLI is still writing.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    fs.rmSync(data, { recursive: true, force: true });
    expect(err).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });
});
