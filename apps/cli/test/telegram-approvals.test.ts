import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { TelegramFake, TelegramMessage } from '@alter0/fakes';
import { startTelegramFake } from '@alter0/fakes';
import type { Approval, Job } from '@alter0/api';
import type { Served } from './harness.js';
import { BIN, serve, tempDir, until } from './harness.js';

/*
 * Approvals asked and answered in Telegram, through the real `alter0 serve` against the fake Bot API: the fixture
 * agent's `ask-approval TOOL ARG` asks through `alter0 approval request`, the bot asks the owner with buttons, and
 * a press decides it.
 */

const OWNER = 111;
const OTHER = 222;
const STRANGER = 999;

const waitUntil = <T>(what: string, fn: () => T | PromiseLike<T>, o: { timeoutMs?: number } = {}) =>
  until(fn, { what, ...o });

interface Button {
  text: string;
  callback_data: string;
}

function buttons(m: TelegramMessage): Button[] {
  const markup = m.replyMarkup as { inline_keyboard?: Button[][] } | undefined;
  return (markup?.inline_keyboard ?? []).flat();
}

function dataOf(m: TelegramMessage, text: string): string {
  const b = buttons(m).find((x) => x.text === text);
  if (!b) throw new Error(`no ${text} button under: ${m.plainText}`);
  return b.callback_data;
}

describe('approvals in Telegram, with buttons, through the real daemon', () => {
  let fake: TelegramFake;
  let s: Served;

  beforeAll(async () => {
    fake = await startTelegramFake();
    const dir = tempDir('alter0-tg-approvals-');
    const tokenFile = path.join(dir, 'telegram.token');
    fs.writeFileSync(tokenFile, `${fake.token}\n`, { mode: 0o600 });
    s = await serve({
      data: path.join(dir, 'data'),
      env: {
        ALTER0_TELEGRAM__ENABLED: 'true',
        ALTER0_TELEGRAM__TOKEN_FILE: tokenFile,
        ALTER0_TELEGRAM__ALLOWED_CHAT_IDS: JSON.stringify([OWNER, OTHER]),
        ALTER0_TELEGRAM__API_URL: fake.url,
        ALTER0_CHANNELS__RETRY_INITIAL: '200ms',
        ALTER0_CHANNELS__RETRY_MAX: '1s',
        ALTER0_CLOSER__ENABLED: 'false',
        AGENT_ALTER0_BIN: BIN,
      },
    });
    await fake.waitFor(() => fake.commands().length > 0, { timeoutMs: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await s?.cleanup();
    await fake?.close();
  });

  /** The bot's question about a tool use whose input contains `input`, in `chat`. */
  const question = (chat: number, input: string): Promise<TelegramMessage> =>
    fake.waitFor(
      () => fake.sent(chat).find((m) => m.plainText.startsWith('Approve a tool use?') && m.plainText.includes(input)),
      { timeoutMs: 30_000 },
    );
  const current = (chat: number, messageId: number): TelegramMessage | undefined =>
    fake.sent(chat).find((m) => m.messageId === messageId);
  /** The message once the bot has edited it. */
  const edited = (chat: number, messageId: number): Promise<TelegramMessage> =>
    fake.waitFor(() => {
      const m = current(chat, messageId);
      return m && m.editCount > 0 ? m : null;
    });
  const pendingFor = (jobId: string): Promise<Approval> =>
    waitUntil(`a pending approval of ${jobId}`, async () =>
      (await s.client.listApprovals({ state: 'pending' })).find((a) => a.job_id === jobId),
    );
  const ended = (jobId: string): Promise<Job> =>
    waitUntil(
      `job ${jobId} answered`,
      async () => {
        const j = await s.client.getJob(jobId);
        return j.reply !== null || ['failed', 'canceled'].includes(j.state) ? j : null;
      },
      { timeoutMs: 30_000 },
    );
  const jobOfChat = async (chat: number, content: string): Promise<Job> =>
    waitUntil(`the job "${content}"`, async () =>
      (await s.client.listJobs({ limit: 500 })).find(
        (j) => j.channel_id === 'telegram' && j.session_id === String(chat) && j.content === content,
      ),
    );
  const answerOf = (callbackQueryId: string) =>
    fake.waitFor(() => fake.callbackAnswers().find((a) => a.callbackQueryId === callbackQueryId));

  it('asks in the chat the job came from, and Approve allows it: answered, edited, the agent goes on', async () => {
    const msg = fake.sendUserMessage({ chatId: OWNER, text: 'ask-approval Bash make deploy' });
    const q = await question(OWNER, 'make deploy');
    const job = await jobOfChat(OWNER, 'ask-approval Bash make deploy');
    const a = await pendingFor(job.id);
    expect(buttons(q).map((b) => b.text)).toEqual(['Approve', 'Deny', 'Always for this task']);
    for (const b of buttons(q)) expect(Buffer.byteLength(b.callback_data)).toBeLessThanOrEqual(64);
    expect(q.plainText).toContain('Bash');
    expect(q.plainText).toContain(`Job: ${job.id}`);
    expect(q.plainText).toMatch(/Task: /);
    expect(q.plainText).toMatch(/Expires: \d\d:\d\d UTC \(in 30 min\)/);
    expect(fake.sent(OTHER).some((m) => m.plainText.includes('make deploy'))).toBe(false);

    const press = fake.pressButton({ chatId: OWNER, messageId: q.messageId, data: dataOf(q, 'Approve') });
    expect((await answerOf(press.callbackQueryId)).text).toMatch(/^Allowed \(telegram\)/);
    const shown = await edited(OWNER, q.messageId);
    expect(shown.plainText).toContain('make deploy');
    expect(shown.plainText).toMatch(/→ allowed \(telegram\)$/);
    expect(buttons(shown)).toEqual([]);
    expect(await s.client.getApproval(a.id)).toMatchObject({ state: 'allowed', decided_by: 'telegram' });

    expect((await ended(job.id)).reply).toContain('approval(0): allowed');
    const reply = await fake.waitFor(
      () => fake.sent(OWNER).find((m) => m.replyTo === msg.messageId && m.plainText.includes('approval(')),
      { timeoutMs: 30_000 },
    );
    expect(reply.plainText).toContain('approval(0): allowed');
  });

  it('Deny denies it from Telegram, and the agent is told', async () => {
    const msg = fake.sendUserMessage({ chatId: OTHER, text: 'ask-approval Bash rm -rf /srv/old' });
    const q = await question(OTHER, 'rm -rf /srv/old');
    const press = fake.pressButton({ chatId: OTHER, messageId: q.messageId, data: dataOf(q, 'Deny') });
    expect((await answerOf(press.callbackQueryId)).text).toMatch(/^Denied \(telegram\)/);
    const shown = await edited(OTHER, q.messageId);
    expect(shown.plainText).toMatch(/→ denied \(telegram\): denied from Telegram$/);
    expect(buttons(shown)).toEqual([]);
    const reply = await fake.waitFor(
      () => fake.sent(OTHER).find((m) => m.replyTo === msg.messageId && m.plainText.includes('approval(')),
      { timeoutMs: 30_000 },
    );
    expect(reply.plainText).toContain('approval(1): denied');
    const job = await jobOfChat(OTHER, 'ask-approval Bash rm -rf /srv/old');
    expect((await ended(job.id)).reply).toContain('approval(1): denied: denied from Telegram');
  });

  it('"Always for this task" allows it and keeps the rule for the task; the question says so', async () => {
    fake.sendUserMessage({ chatId: OWNER, text: 'ask-approval Bash make test' });
    const q = await question(OWNER, 'make test');
    const job = await jobOfChat(OWNER, 'ask-approval Bash make test');
    const press = fake.pressButton({ chatId: OWNER, messageId: q.messageId, data: dataOf(q, 'Always for this task') });
    expect((await answerOf(press.callbackQueryId)).text).toMatch(/^Allowed \(telegram\), and always for this task/);
    const shown = await edited(OWNER, q.messageId);
    expect(shown.plainText).toMatch(/→ allowed \(telegram\), and always for this task: Bash\(make test\)$/);
    const [a] = await s.client.listApprovals({ state: 'all', job_id: job.id });
    expect(a).toMatchObject({ state: 'allowed', decided_by: 'telegram', always: true });
    expect((await ended(job.id)).reply).toContain('approval(0): allowed');
  });

  it("asks a job's approval from the API in the owner's chat; decided there, its question shows it", async () => {
    const { job_id } = await s.client.submitJob({ content: 'ask-approval Bash terraform apply' });
    const a = await pendingFor(job_id);
    const q = await question(OWNER, 'terraform apply');
    expect(q.plainText).toContain(`Job: ${job_id}`);
    expect(fake.sent(OTHER).some((m) => m.plainText.includes('terraform apply'))).toBe(false);

    await s.client.allowApproval(a.id);
    const shown = await edited(OWNER, q.messageId);
    expect(shown.plainText).toMatch(/→ allowed \(api\)$/);
    expect(buttons(shown)).toEqual([]);
    expect((await ended(job_id)).reply).toContain('approval(0): allowed');

    // A stale button pressed after that: told how it was decided, nothing decided again, nothing edited again.
    const press = fake.pressButton({ chatId: OWNER, messageId: q.messageId, data: dataOf(q, 'Deny') });
    expect((await answerOf(press.callbackQueryId)).text).toBe('Already allowed (api)');
    // Handled to the end (edit included) once the next poll confirms it.
    await fake.waitFor(() => fake.confirmedOffset() > press.updateId);
    expect(await s.client.getApproval(a.id)).toMatchObject({ state: 'allowed', decided_by: 'api' });
    expect(current(OWNER, q.messageId)?.editCount).toBe(1);
  });

  it('decides nothing on a press from a chat that is not allowed', async () => {
    const { job_id } = await s.client.submitJob({ content: 'ask-approval Bash shutdown now' });
    const a = await pendingFor(job_id);
    const q = await question(OWNER, 'shutdown now');
    // A bot message with the same button in a chat not on the allowlist (as if it had been allowed once).
    const res = await fetch(`${fake.url}/bot${fake.token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        chat_id: STRANGER,
        text: q.plainText,
        reply_markup: { inline_keyboard: [[{ text: 'Approve', callback_data: dataOf(q, 'Approve') }]] },
      }),
    });
    const sent = ((await res.json()) as { result: { message_id: number } }).result;
    const press = fake.pressButton({ chatId: STRANGER, messageId: sent.message_id, data: dataOf(q, 'Approve') });
    expect((await answerOf(press.callbackQueryId)).text).toMatch(/not allowed/i);
    await fake.waitFor(() => fake.confirmedOffset() > press.updateId);
    expect(await s.client.getApproval(a.id)).toMatchObject({ state: 'pending' });
    expect(current(OWNER, q.messageId)?.editCount).toBe(0);
    expect(current(STRANGER, sent.message_id)?.editCount).toBe(0);

    await s.client.denyApproval(a.id, { reason: 'not today' });
    const shown = await edited(OWNER, q.messageId);
    expect(shown.plainText).toMatch(/→ denied \(api\): not today$/);
    expect((await ended(job_id)).reply).toContain('approval(1): denied: not today');
  });
});

describe('approval questions across a restart of alter0', () => {
  it('a question of the previous process shows its outcome when pressed; an expired one is edited', async () => {
    const fake = await startTelegramFake();
    const dir = tempDir('alter0-tg-approvals-kill-');
    const tokenFile = path.join(dir, 'telegram.token');
    fs.writeFileSync(tokenFile, `${fake.token}\n`, { mode: 0o600 });
    const data = path.join(dir, 'data');
    const env = (timeout: string): Record<string, string> => ({
      ALTER0_TELEGRAM__ENABLED: 'true',
      ALTER0_TELEGRAM__TOKEN_FILE: tokenFile,
      ALTER0_TELEGRAM__ALLOWED_CHAT_IDS: JSON.stringify([OWNER]),
      ALTER0_TELEGRAM__API_URL: fake.url,
      ALTER0_CLOSER__ENABLED: 'false',
      ALTER0_APPROVALS__TIMEOUT: timeout,
      AGENT_ALTER0_BIN: BIN,
    });
    let s = await serve({ data, env: env('30m') });
    try {
      fake.sendUserMessage({ chatId: OWNER, text: 'ask-approval Bash reboot' });
      const asked = () =>
        fake.sent(OWNER).filter((m) => m.plainText.startsWith('Approve a tool use?') && m.plainText.includes('reboot'));
      const [old] = await fake.waitFor(() => asked().length === 1 && asked(), { timeoutMs: 30_000 });
      if (!old) throw new Error('no question');
      s.proc.kill('SIGKILL');
      await s.exited;
      // The restart denies what waited (its question is not edited: that process is gone); the job runs again and
      // asks again, and this time nobody answers.
      s = await serve({ data, env: env('2s') });
      const again = await fake.waitFor(() => asked()[1], { timeoutMs: 30_000 });
      expect(buttons(messageIn(fake, OWNER, old.messageId))).toHaveLength(3);

      const press = fake.pressButton({ chatId: OWNER, messageId: old.messageId, data: dataOf(old, 'Approve') });
      const answer = await fake.waitFor(() =>
        fake.callbackAnswers().find((a) => a.callbackQueryId === press.callbackQueryId),
      );
      expect(answer.text).toMatch(/^Already denied \(restart\)/);
      const shown = await fake.waitFor(() => {
        const m = messageIn(fake, OWNER, old.messageId);
        return m.editCount > 0 && m;
      });
      expect(shown.plainText).toMatch(/reboot[\s\S]*→ denied \(restart\): alter0 restarted/);
      expect(buttons(shown)).toEqual([]);

      const expired = await fake.waitFor(
        () => {
          const m = messageIn(fake, OWNER, again.messageId);
          return m.editCount > 0 && m;
        },
        { timeoutMs: 20_000 },
      );
      expect(expired.plainText).toMatch(/→ expired: nobody answered within approvals\.timeout/);
      expect(buttons(expired)).toEqual([]);
    } finally {
      await s.cleanup();
      await fake.close();
    }
  }, 120_000);
});

function messageIn(fake: TelegramFake, chat: number, messageId: number): TelegramMessage {
  const m = fake.sent(chat).find((x) => x.messageId === messageId);
  if (!m) throw new Error(`no message ${messageId} of the bot in chat ${chat}`);
  return m;
}
