import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { TelegramFake, TelegramMessage } from '@alter0/fakes';
import { startTelegramFake } from '@alter0/fakes';
import type { Job } from '@alter0/api';
import type { Served } from './harness.js';
import { cli, readAgentLog, serve, tempDir, until } from './harness.js';

const waitUntil = <T>(what: string, fn: () => T | PromiseLike<T>, o: { timeoutMs?: number } = {}) =>
  until(fn, { what, ...o });

/*
 * The Telegram channel and the notifications, through the real `alter0 serve` against the fake Bot API
 * (packages/fakes) and a webhook receiver on 127.0.0.1. One daemon serves the tests that need no start of their own.
 */

const OWNER = 111;
const OTHER = 222;
const STRANGER = 999;

/** A webhook receiver that fails its first `failFirst` requests of each dedup key, then answers 204. */
interface Receiver {
  url: string;
  bodies: { key: string; body: Record<string, unknown>; status: number }[];
  failFirst: number;
  close(): Promise<void>;
}

async function receiver(failFirst: number): Promise<Receiver> {
  const r: Receiver = { url: '', bodies: [], failFirst, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (b: Buffer) => (text += b.toString()));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      const tries = r.bodies.filter((b) => b.key === key).length;
      const status = tries < r.failFirst ? 500 : 204;
      r.bodies.push({ key, body: JSON.parse(text) as Record<string, unknown>, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?key=secret-in-query`;
  r.close = () => new Promise((resolve) => server.close(() => resolve()));
  return r;
}

function tokenFile(dir: string, token: string): string {
  const file = path.join(dir, 'telegram.token');
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return file;
}

function telegramEnv(fake: TelegramFake, dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ALTER0_TELEGRAM__ENABLED: 'true',
    ALTER0_TELEGRAM__TOKEN_FILE: tokenFile(dir, fake.token),
    ALTER0_TELEGRAM__ALLOWED_CHAT_IDS: JSON.stringify([OWNER, OTHER]),
    ALTER0_TELEGRAM__API_URL: fake.url,
    ALTER0_CHANNELS__RETRY_INITIAL: '200ms',
    ALTER0_CHANNELS__RETRY_MAX: '1s',
    ALTER0_NOTIFY__RETRY_INITIAL: '200ms',
    ALTER0_NOTIFY__RETRY_MAX: '1s',
    ALTER0_CLOSER__ENABLED: 'false',
    ...extra,
  };
}

/** The event table, read beside the running daemon (WAL: a reader never blocks it). */
function events(data: string, kind?: string): { kind: string; message: string; details: Record<string, unknown> }[] {
  const db = new Database(path.join(data, 'alter0.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare(`SELECT kind, message, details_json AS d FROM events ORDER BY id`).all() as {
      kind: string;
      message: string;
      d: string | null;
    }[];
    return rows
      .map((r) => ({ kind: r.kind, message: r.message, details: JSON.parse(r.d ?? '{}') as Record<string, unknown> }))
      .filter((e) => kind === undefined || e.kind === kind);
  } finally {
    db.close();
  }
}

/** The bot's messages answering the owner's message `messageId`, and what follows them in the same reply. */
function answerTo(fake: TelegramFake, chat: number, messageId: number): TelegramMessage | undefined {
  return fake.sent(chat).find((m) => m.replyTo === messageId);
}

async function jobsOf(s: Served, chat: number): Promise<Job[]> {
  return (await s.client.listJobs({ limit: 500 })).filter(
    (j) => j.channel_id === 'telegram' && j.session_id === String(chat),
  );
}

async function telegramState(s: Served): Promise<{ state: string; error: string | null; restarts: number }> {
  const st = await s.client.status();
  const ch = st.components.gateway.details.channels.find((c) => c.name === 'telegram');
  if (!ch) throw new Error('no telegram channel in the status');
  return { state: ch.state, error: ch.last_error?.message ?? null, restarts: ch.restarts };
}

describe('the Telegram channel through the real daemon', () => {
  let fake: TelegramFake;
  let hooks: Receiver;
  let s: Served;
  let data: string;
  let agentLog: string;

  beforeAll(async () => {
    fake = await startTelegramFake();
    hooks = await receiver(2);
    const dir = tempDir('alter0-tg-');
    data = path.join(dir, 'data');
    agentLog = path.join(dir, 'agent.log');
    s = await serve({
      data,
      env: telegramEnv(fake, dir, {
        AGENT_LOG: agentLog,
        AGENT_STATE: path.join(dir, 'fail-once.state'),
        ALTER0_NOTIFY__WEBHOOK_URLS: JSON.stringify([hooks.url]),
      }),
    });
    await fake.waitFor(() => fake.commands().length > 0, { timeoutMs: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await s?.cleanup();
    await fake?.close();
    await hooks?.close();
  });

  it('runs a message from an allowed chat and answers it there, showing "typing" meanwhile', async () => {
    const { messageId } = fake.sendUserMessage({ chatId: OWNER, text: 'hello from the phone sleep 1500' });
    const answer = await fake.waitFor(() => answerTo(fake, OWNER, messageId), { timeoutMs: 30_000 });
    expect(answer.plainText).toContain('hello from the phone');
    expect(answer.parseMode).toBeUndefined();
    expect(fake.chatActions(OWNER).some((a) => a.action === 'typing')).toBe(true);
    const [job] = await jobsOf(s, OWNER);
    expect(job).toMatchObject({ channel_id: 'telegram', user_id: String(OWNER), session_id: String(OWNER) });
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toContain('alter0_channel_state{channel="telegram",state="ok"} 1');
    expect(metrics).toContain('alter0_channel_state{channel="telegram",state="down"} 0');
    expect(metrics).toMatch(/alter0_notices_total\{channel="telegram",outcome="sent"\} [1-9]/);
    expect(fake.commands().map((c) => c.command)).toEqual(
      expect.arrayContaining(['tasks', 'status', 'new', 'close', 'cancel', 'retry', 'help']),
    );
  });

  it('never executes a message from a chat that is not allowed, and says so once per chat', async () => {
    const before = fake.confirmedOffset();
    fake.sendUserMessage({ chatId: STRANGER, text: 'run rm -rf please' });
    const second = fake.sendUserMessage({ chatId: STRANGER, text: 'and again' });
    await fake.waitFor(() => fake.confirmedOffset() > second.updateId, { timeoutMs: 20_000 });
    expect(fake.confirmedOffset()).toBeGreaterThan(before);
    expect(await jobsOf(s, STRANGER)).toEqual([]);
    expect(fake.sent(STRANGER)).toEqual([]);
    expect(readAgentLog(agentLog).some((l) => String(l.prompt).includes('rm -rf'))).toBe(false);
    await waitUntil('the refusal event', () => events(data, 'chat_refused').length > 0);
    const refused = events(data, 'chat_refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.message).toContain(`chat ${STRANGER}`);
    expect(refused[0]?.message).toContain('telegram.allowed_chat_ids');
  });

  it("pins a reply to one of the bot's messages to that message's task, without asking the router", async () => {
    const first = fake.sendUserMessage({ chatId: OTHER, text: 'start the garden plan' });
    const answer = await fake.waitFor(() => answerTo(fake, OTHER, first.messageId), { timeoutMs: 30_000 });
    const [job1] = await jobsOf(s, OTHER);
    const followUp = fake.sendUserMessage({ chatId: OTHER, text: 'add tomatoes', replyTo: answer.messageId });
    await fake.waitFor(() => answerTo(fake, OTHER, followUp.messageId), { timeoutMs: 30_000 });
    const jobs = await jobsOf(s, OTHER);
    const job2 = jobs.find((j) => j.content === 'add tomatoes');
    expect(job2?.task_id).toBe(job1?.task_id);
    expect(job2?.route?.fallback).toBe('explicit');
    const routeCalls = readAgentLog(agentLog).filter((l) => l.stage === 'route' && l.job === job2?.id);
    expect(routeCalls).toEqual([]);
  });

  it('splits a long reply under 4096 characters per message, the first answering the owner', async () => {
    const { messageId } = fake.sendUserMessage({ chatId: OWNER, text: 'long-reply 9000' });
    const first = await fake.waitFor(() => answerTo(fake, OWNER, messageId), { timeoutMs: 30_000 });
    const parts = await fake.waitFor(
      () => {
        const after = fake.sent(OWNER).filter((m) => m.messageId >= first.messageId && /^line \d/.test(m.plainText));
        return after.length >= 3 && after;
      },
      { timeoutMs: 20_000 },
    );
    for (const p of parts) expect(p.plainText.length).toBeLessThanOrEqual(4096);
    const [job] = (await jobsOf(s, OWNER)).filter((j) => j.content === 'long-reply 9000');
    const joined = parts.map((p) => p.plainText).join('\n');
    expect(joined.replace(/\s+/g, ' ')).toBe((job?.reply ?? '').trim().replace(/\s+/g, ' '));
  });

  it('answers /help, /tasks and /status, and starts a new task with /new', async () => {
    const help = fake.sendUserMessage({ chatId: OWNER, text: '/help' });
    expect((await fake.waitFor(() => answerTo(fake, OWNER, help.messageId))).plainText).toContain('/new <text>');
    const tasks = fake.sendUserMessage({ chatId: OWNER, text: '/tasks' });
    expect((await fake.waitFor(() => answerTo(fake, OWNER, tasks.messageId))).plainText).toMatch(/Open tasks \(\d+\)/);
    const status = fake.sendUserMessage({ chatId: OWNER, text: '/status@alter0_test_bot' });
    const st = await fake.waitFor(() => answerTo(fake, OWNER, status.messageId));
    expect(st.plainText).toMatch(/alter0 .*: (ok|degraded)/);
    expect(st.plainText).toContain('channel telegram: ok');
    const base = fake.sendUserMessage({ chatId: OWNER, text: 'the first topic' });
    const baseAnswer = await fake.waitFor(() => answerTo(fake, OWNER, base.messageId), { timeoutMs: 30_000 });
    // A reply would pin it to that task: /new wins over the reply.
    const fresh = fake.sendUserMessage({ chatId: OWNER, text: '/new a separate topic', replyTo: baseAnswer.messageId });
    await fake.waitFor(() => answerTo(fake, OWNER, fresh.messageId), { timeoutMs: 30_000 });
    const jobs = await jobsOf(s, OWNER);
    const a = jobs.find((j) => j.content === 'the first topic');
    const b = jobs.find((j) => j.content === 'a separate topic');
    expect(b?.task_id).toBeTruthy();
    expect(b?.task_id).not.toBe(a?.task_id);
    expect(b?.route?.reason).toContain('asked for a new task');
  });

  it('/cancel, /retry and /close act on the job or task of the replied-to message', async () => {
    const slow = fake.sendUserMessage({ chatId: OTHER, text: 'a long job sleep 20000' });
    await waitUntil('the slow job runs', async () =>
      (await jobsOf(s, OTHER)).some((j) => j.content?.includes('sleep 20000') && j.state === 'running'),
    );
    const cancel = fake.sendUserMessage({ chatId: OTHER, text: '/cancel', replyTo: slow.messageId });
    expect((await fake.waitFor(() => answerTo(fake, OTHER, cancel.messageId))).plainText).toMatch(/Cancel/);
    await waitUntil('canceled', async () =>
      (await jobsOf(s, OTHER)).some((j) => j.content?.includes('sleep 20000') && j.state === 'canceled'),
    );

    const failing = fake.sendUserMessage({ chatId: OTHER, text: 'flaky fail-once' });
    const failure = await fake.waitFor(() => answerTo(fake, OTHER, failing.messageId), { timeoutMs: 30_000 });
    expect(failure.plainText).toContain('That failed');
    expect(failure.plainText).toContain('/retry');
    const retry = fake.sendUserMessage({ chatId: OTHER, text: '/retry', replyTo: failure.messageId });
    expect((await fake.waitFor(() => answerTo(fake, OTHER, retry.messageId))).plainText).toMatch(
      /Running it again as job j_/,
    );
    // The retry's answer goes to the owner's original message.
    const retried = await fake.waitFor(
      () => fake.sent(OTHER).find((m) => m.replyTo === failing.messageId && m.plainText.includes('echo')),
      { timeoutMs: 30_000 },
    );
    const close = fake.sendUserMessage({ chatId: OTHER, text: '/close done with it', replyTo: retried.messageId });
    expect((await fake.waitFor(() => answerTo(fake, OTHER, close.messageId))).plainText).toMatch(/^Closed task t_/);
    const job = (await jobsOf(s, OTHER)).find((j) => j.content === 'flaky fail-once' && j.state === 'succeeded');
    const task = await s.client.getTask(job?.task_id ?? '');
    expect(task.state).toBe('closed');
    expect(task.close_reason).toBe('done with it');
  });

  it("announces a schedule's run to each of the owner's chats and to the webhooks, naming the schedule", async () => {
    const sch = await s.client.addSchedule({ text: 'morning digest of the repo', every: '24h' });
    const { job_id } = await s.client.runSchedule(sch.id);
    for (const chat of [OWNER, OTHER]) {
      const m = await fake.waitFor(() => fake.sent(chat).find((x) => x.plainText.includes(sch.id)), {
        timeoutMs: 30_000,
      });
      expect(m.plainText).toMatch(
        /^⏰ morning digest of the repo \(s_\w+\)\n\necho\(1\): .*morning digest of the repo/s,
      );
    }
    await waitUntil(
      'the webhook got the schedule job',
      () => hooks.bodies.find((b) => b.body.job_id === job_id && b.status === 204),
      { timeoutMs: 30_000 },
    );
    expect(fake.sent(STRANGER)).toEqual([]);
    await s.client.removeSchedule(sch.id);
  });

  it('tells the owner what a command needs when it is not a reply', async () => {
    const m = fake.sendUserMessage({ chatId: OWNER, text: '/cancel' });
    expect((await fake.waitFor(() => answerTo(fake, OWNER, m.messageId))).plainText).toContain('Reply to one of');
  });

  it('delivers the end of each job to the webhooks, retrying a receiver that fails first', async () => {
    const { job_id } = await s.client.submitJob({ content: 'background work', lane: 'background' });
    const delivered = await waitUntil(
      'the webhook got the notice',
      () => hooks.bodies.find((b) => b.body.job_id === job_id && b.status === 204),
      { timeoutMs: 30_000 },
    );
    const tries = hooks.bodies.filter((b) => b.body.job_id === job_id);
    expect(tries.map((t) => t.status)).toEqual([500, 500, 204]);
    expect(new Set(tries.map((t) => t.key)).size).toBe(1);
    expect(delivered.body).toMatchObject({ event: 'job.succeeded', job_id, state: 'succeeded', error: null });
    expect(String(delivered.body.reply_excerpt)).toContain('background work');
    expect(delivered.body.dedup_key).toBe(delivered.key);
    // A sync request answered 200 is not announced; one that gave up waiting (202) is.
    const sync = await s.client.sendMessage({ content: 'quick sync' });
    const pending = await s.client.sendMessage({ content: 'slow sync sleep 1500', wait_ms: 100 });
    expect(pending.status).toBe(202);
    const pendingId = pending.body.job_id;
    await waitUntil(
      'the 202 job announced',
      () => hooks.bodies.some((b) => b.body.job_id === pendingId && b.status === 204),
      {
        timeoutMs: 30_000,
      },
    );
    expect(sync.status).toBe(200);
    expect(hooks.bodies.some((b) => b.body.job_id === sync.body.job_id)).toBe(false);
    const st = await s.client.status();
    await waitUntil(
      'the outbox is empty',
      async () => (await s.client.status()).components.gateway.details.outbox.pending === 0,
    );
    // The receiver's failures showed: the webhook channel went degraded, and its delivery made it ok again.
    expect(events(data, 'channel_degraded').some((e) => e.details.channel === 'webhook')).toBe(true);
    expect((await s.client.status()).components.gateway.details.channels.find((c) => c.name === 'webhook')?.state).toBe(
      'ok',
    );
    expect(st.components.gateway.details.channels.map((c) => c.name)).toEqual(['http', 'webhook', 'telegram']);
    // The webhook's secret path and query never reach the log.
    expect(s.stderr()).not.toContain('secret-in-query');
  });

  it.each([
    ['rate limit (429 retry_after)', { kind: 'rate_limit', retryAfter: 1 } as const, /rate-limits the bot/],
    ['another poller (409)', { kind: 'conflict' } as const, /another program is reading this bot's updates/],
    [
      'a proxy error page (502)',
      { kind: 'server_error', status: 502, html: true } as const,
      /cannot reach Telegram|502/,
    ],
    ['a server error (500)', { kind: 'server_error', status: 500 } as const, /Telegram answered 500/],
    ['a connection reset', { kind: 'reset' } as const, /cannot reach Telegram/],
  ])('recovers by itself from %s: degraded, then ok, each transition an event', async (_name, f, said) => {
    const before = events(data).length;
    const telegramEvents = () =>
      events(data)
        .slice(before)
        .filter((e) => e.details.channel === 'telegram');
    fake.fault(f, { method: 'getUpdates' });
    // The held poll answers this update; the next poll meets the fault.
    const nudge = fake.sendUserMessage({ chatId: OWNER, text: `nudge ${_name}` });
    await fake.waitFor(() => answerTo(fake, OWNER, nudge.messageId), { timeoutMs: 30_000 });
    await waitUntil(
      'the degraded event',
      () => telegramEvents().some((e) => e.kind === 'channel_degraded' && said.test(e.message)),
      {
        timeoutMs: 20_000,
      },
    );
    await waitUntil('the ok event', () => {
      const after = telegramEvents();
      const degraded = after.findIndex((e) => e.kind === 'channel_degraded');
      return degraded >= 0 && after.slice(degraded).some((e) => e.kind === 'channel_ok');
    });
    expect((await telegramState(s)).state).toBe('ok');
    const again = fake.sendUserMessage({ chatId: OWNER, text: `after ${_name}` });
    await fake.waitFor(() => answerTo(fake, OWNER, again.messageId), { timeoutMs: 30_000 });
  });

  it('waits out a slow Bot API and still delivers', async () => {
    fake.fault({ kind: 'slow', ms: 3000 }, { method: 'sendMessage' });
    const m = fake.sendUserMessage({ chatId: OWNER, text: 'through a slow network' });
    const answer = await fake.waitFor(() => answerTo(fake, OWNER, m.messageId), { timeoutMs: 30_000 });
    expect(answer.plainText).toContain('through a slow network');
  });

  it('is down with a clear message while the token is refused, and ok once it is valid again', async () => {
    fake.revoke();
    try {
      // The held poll returns at its timeout or on the next update; an update makes it now.
      fake.sendUserMessage({ chatId: OWNER, text: 'while revoked' });
      await waitUntil('down', async () => (await telegramState(s)).state === 'down', { timeoutMs: 20_000 });
      const st = await telegramState(s);
      expect(st.error).toMatch(/Telegram refused the bot token \(401: Unauthorized\).*@BotFather/);
      expect(events(data, 'channel_down').at(-1)?.message).toContain('refused the bot token');
      const doc = await s.client.status();
      expect(doc.components.gateway.state).toBe('degraded');
      expect(doc.components.gateway.details.channels.find((c) => c.name === 'telegram')?.next_retry_at).not.toBeNull();
      // The API is not affected.
      expect((await s.client.sendMessage({ content: 'api still works' })).status).toBe(200);
      // `alter0 status` says it in the owner's words, and exits 1.
      const shown = await cli(['status', '--data', data, '--addr', s.url]);
      expect(shown.code).toBe(1);
      expect(shown.stdout).toMatch(/telegram\s+down\s+\d+\s+\S+\s+.*Telegram refused the bot token/);
      expect(shown.stdout).toMatch(/notices: \d+ waiting/);
    } finally {
      fake.restore();
    }
    await waitUntil('ok again', async () => (await telegramState(s)).state === 'ok', { timeoutMs: 20_000 });
    const m = await fake.waitFor(() => fake.sent(OWNER).find((x) => x.plainText.includes('while revoked')), {
      timeoutMs: 30_000,
    });
    expect(m.plainText).toContain('while revoked');
  });
});

describe('a kill -9 between taking an update and replying', () => {
  it('loses no update and runs none twice; the reply still arrives', async () => {
    const fake = await startTelegramFake();
    const dir = tempDir('alter0-tg-kill-');
    const data = path.join(dir, 'data');
    const agentLog = path.join(dir, 'agent.log');
    const env = telegramEnv(fake, dir, { AGENT_LOG: agentLog });
    let s = await serve({ data, env });
    try {
      // Taken and running when the daemon dies: it runs again after the restart (it had not answered).
      const running = fake.sendUserMessage({ chatId: OWNER, text: 'interrupted sleep 4000' });
      await waitUntil('running', async () => (await jobsOf(s, OWNER)).some((j) => j.state === 'running'), {
        timeoutMs: 30_000,
      });
      // Answered but its reply not delivered yet when the daemon dies: delivered after the restart, never run again.
      fake.fault({ kind: 'slow', ms: 60_000 }, { method: 'sendMessage' });
      const answered = fake.sendUserMessage({ chatId: OWNER, text: 'answered before the kill' });
      await waitUntil(
        'answered',
        async () => (await jobsOf(s, OWNER)).some((j) => j.content === 'answered before the kill' && j.reply !== null),
        {
          timeoutMs: 30_000,
        },
      );
      await fake.waitFor(() => fake.requests.some((r) => r.method === 'sendMessage' && r.fault === 'slow'));
      s.proc.kill('SIGKILL');
      await s.exited;
      const queuedWhileDown = fake.sendUserMessage({ chatId: OWNER, text: 'sent while alter0 was down' });
      s = await serve({ data, env });
      for (const m of [running, answered, queuedWhileDown]) {
        await fake.waitFor(() => answerTo(fake, OWNER, m.messageId), { timeoutMs: 40_000 });
      }
      const jobs = await jobsOf(s, OWNER);
      for (const text of ['interrupted sleep 4000', 'answered before the kill', 'sent while alter0 was down']) {
        expect(
          jobs.filter((j) => j.content === text),
          text,
        ).toHaveLength(1);
      }
      const answeredJob = jobs.find((j) => j.content === 'answered before the kill');
      const runs = readAgentLog(agentLog).filter((l) => l.stage === 'execute' && l.job === answeredJob?.id);
      expect(runs).toHaveLength(1);
      expect(fake.confirmedOffset()).toBeGreaterThan(queuedWhileDown.updateId);
    } finally {
      await s.cleanup();
      await fake.close();
    }
  }, 150_000);
});
