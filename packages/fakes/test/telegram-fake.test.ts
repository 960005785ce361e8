import { Api, Bot, GrammyError, HttpError } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelegramFake } from '../src/telegram.js';
import type { TelegramFake } from '../src/telegram-types.js';

let current: TelegramFake | null = null;
afterEach(async () => {
  await current?.close();
  current = null;
});

/** A fresh fake (closed after the test) and a grammY Api pointed at it. */
async function start(): Promise<{ fake: TelegramFake; api: Api }> {
  const fake = await startTelegramFake();
  current = fake;
  return { fake, api: new Api(fake.token, { apiRoot: fake.url }) };
}

/** The rejection of `p`, which must reject. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

async function grammyError(p: Promise<unknown>): Promise<GrammyError> {
  const err = await failure(p);
  if (!(err instanceof GrammyError)) throw new Error(`expected a GrammyError, got ${String(err)}`);
  return err;
}

/** Resolves once a getUpdates is held by the fake (arrived, not answered). */
function held(f: TelegramFake): Promise<unknown> {
  return f.waitFor(() => f.requests.some((r) => r.method === 'getUpdates' && r.status === 0 && !r.fault));
}

const CHAT = 4242;

/** grammY's Node build types its signals as the abort-controller package's AbortSignal, not the global one. */
type GrammySignal = NonNullable<Parameters<Api['getUpdates']>[1]>;
const grammySignal = (signal: AbortSignal): GrammySignal => signal as unknown as GrammySignal;

describe('telegram fake: getUpdates', () => {
  it('answers a held long poll as soon as a message is queued, and [] when its timeout passes', async () => {
    const { fake, api } = await start();
    const started = Date.now();
    const poll = api.getUpdates({ timeout: 5 });
    await held(fake);
    const { updateId, messageId } = fake.sendUserMessage({ chatId: CHAT, text: '/start hello', firstName: 'Ann' });
    const updates = await poll;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(updates).toHaveLength(1);
    const message = updates[0]?.message;
    expect(updates[0]?.update_id).toBe(updateId);
    expect(message).toMatchObject({
      message_id: messageId,
      chat: { id: CHAT, type: 'private', first_name: 'Ann' },
      from: { id: CHAT, is_bot: false, first_name: 'Ann' },
      text: '/start hello',
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    });

    const quiet = Date.now();
    expect(await api.getUpdates({ offset: updateId + 1, timeout: 1 })).toEqual([]);
    expect(Date.now() - quiet).toBeGreaterThanOrEqual(900);
  });

  it('confirms and forgets every update below offset', async () => {
    const { fake, api } = await start();
    fake.sendUserMessage({ chatId: CHAT, text: 'one' });
    const second = fake.sendUserMessage({ chatId: CHAT, text: 'two' });
    const both = await api.getUpdates({ timeout: 0 });
    expect(both.map((u) => u.message?.text)).toEqual(['one', 'two']);
    expect(both.map((u) => u.message?.message_id)).toEqual([1, 2]);
    expect(await api.getUpdates({ offset: second.updateId, limit: 10 })).toHaveLength(1);
    expect(fake.confirmedOffset()).toBe(second.updateId);
    expect(fake.pendingUpdates()).toBe(1);
    expect(await api.getUpdates({ offset: second.updateId + 1 })).toEqual([]);
    expect(fake.confirmedOffset()).toBe(second.updateId + 1);
    expect(fake.pendingUpdates()).toBe(0);
  });

  it('answers the held poll 409 when a second getUpdates arrives', async () => {
    const { fake, api } = await start();
    const first = api.getUpdates({ timeout: 5 });
    await held(fake);
    const second = api.getUpdates({ timeout: 5 });
    const err = await grammyError(first);
    expect(err.error_code).toBe(409);
    expect(err.description).toBe(
      'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    );
    fake.sendUserMessage({ chatId: CHAT, text: 'for the survivor' });
    expect((await second).map((u) => u.message?.text)).toEqual(['for the survivor']);
  });

  it('carries the replied-to message, bot or user, and shares message ids between them', async () => {
    const { fake, api } = await start();
    const question = fake.sendUserMessage({ chatId: CHAT, text: 'question' });
    const answer = await api.sendMessage(CHAT, 'answer', { reply_parameters: { message_id: question.messageId } });
    expect(answer.message_id).toBe(question.messageId + 1);
    expect(answer.reply_to_message).toMatchObject({ message_id: question.messageId, text: 'question' });
    const followUp = fake.sendUserMessage({ chatId: CHAT, text: 'thanks', replyTo: answer.message_id });
    expect(followUp.messageId).toBe(answer.message_id + 1);
    const updates = await api.getUpdates({ offset: question.updateId + 1 });
    expect(updates[0]?.message?.reply_to_message).toMatchObject({
      message_id: answer.message_id,
      from: { id: fake.bot.id, is_bot: true },
      text: 'answer',
    });
    // The replied-to message does not nest its own reply.
    expect(updates[0]?.message?.reply_to_message?.reply_to_message).toBeUndefined();
    expect(fake.sent(CHAT)[0]?.replyTo).toBe(question.messageId);
  });
});

describe('telegram fake: grammY Bot', () => {
  it("serves the Bot's start/stop long-polling loop and confirms the last update on stop", async () => {
    const { fake } = await start();
    const bot = new Bot(fake.token, { client: { apiRoot: fake.url } });
    bot.on('message:text', (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
    const running = bot.start({ timeout: 5 });
    const { updateId } = fake.sendUserMessage({ chatId: CHAT, text: 'ping' });
    await fake.waitFor(() => fake.sent(CHAT).length === 1);
    expect(fake.sent(CHAT)[0]?.text).toBe('echo: ping');
    await bot.stop();
    await running;
    expect(fake.confirmedOffset()).toBe(updateId + 1);
    expect(fake.requests.slice(0, 2).map((r) => r.method)).toEqual(expect.arrayContaining(['getMe', 'deleteWebhook']));
  });
});

describe('telegram fake: sending', () => {
  it('answers sendMessage with the stored Message and records it', async () => {
    const { fake, api } = await start();
    const me = await api.getMe();
    expect(me).toMatchObject({ id: 123456, is_bot: true, username: fake.bot.username });
    const markup = { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }]] };
    const message = await api.sendMessage(CHAT, 'hello', { reply_markup: markup });
    expect(message).toMatchObject({
      message_id: 1,
      chat: { id: CHAT, type: 'private' },
      from: { id: 123456, is_bot: true },
      text: 'hello',
      reply_markup: markup,
    });
    expect(fake.sent()).toMatchObject([{ chatId: CHAT, messageId: 1, text: 'hello', replyMarkup: markup }]);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'sendMessage', status: 200, params: { chat_id: CHAT } });
    expect(await api.sendChatAction(CHAT, 'typing')).toBe(true);
    expect(fake.chatActions(CHAT)).toMatchObject([{ chatId: CHAT, action: 'typing' }]);
    expect(await api.setMyCommands([{ command: 'new', description: 'Start over' }])).toBe(true);
    expect(fake.commands()).toEqual([{ command: 'new', description: 'Start over' }]);
    expect(await api.deleteWebhook()).toBe(true);
  });

  it('refuses empty and too long texts with 400', async () => {
    const { fake, api } = await start();
    const empty = await grammyError(api.sendMessage(CHAT, ''));
    expect([empty.error_code, empty.description]).toEqual([400, 'Bad Request: message text is empty']);
    expect(await api.sendMessage(CHAT, 'x'.repeat(4096))).toMatchObject({ message_id: 1 });
    const long = await grammyError(api.sendMessage(CHAT, 'x'.repeat(4097)));
    expect([long.error_code, long.description]).toEqual([400, 'Bad Request: message is too long']);
    expect(fake.sent()).toHaveLength(1);
    expect(fake.requests.map((r) => r.status)).toEqual([400, 200, 400]);
  });

  it('refuses MarkdownV2 with an unescaped reserved character and accepts it escaped', async () => {
    const { fake, api } = await start();
    const err = await grammyError(api.sendMessage(CHAT, 'Version 1.0 is out!', { parse_mode: 'MarkdownV2' }));
    expect(err.error_code).toBe(400);
    expect(err.description).toBe(
      "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
    );
    const ok = await api.sendMessage(CHAT, '*Version* 1\\.0 is out\\!', { parse_mode: 'MarkdownV2' });
    expect(ok.text).toBe('Version 1.0 is out!');
    expect(ok.entities).toEqual([{ type: 'bold', offset: 0, length: 7 }]);
    expect(fake.sent()[0]).toMatchObject({ text: '*Version* 1\\.0 is out\\!', plainText: 'Version 1.0 is out!' });
    const unclosed = await grammyError(api.sendMessage(CHAT, '*bold', { parse_mode: 'MarkdownV2' }));
    expect(unclosed.description).toContain("Can't find end of Bold entity at byte offset 0");
  });

  it('refuses HTML with an unsupported tag and accepts the supported ones', async () => {
    const { api } = await start();
    const err = await grammyError(api.sendMessage(CHAT, 'use <name> here', { parse_mode: 'HTML' }));
    expect(err.description).toMatch(/^Bad Request: can't parse entities: Unsupported start tag "name"/);
    const ok = await api.sendMessage(CHAT, '<b>bold</b> &lt;name&gt;', { parse_mode: 'HTML' });
    expect(ok.text).toBe('bold <name>');
    expect(ok.entities).toEqual([{ type: 'bold', offset: 0, length: 4 }]);
  });

  it('edits a message, and refuses an unknown or unchanged one', async () => {
    const { fake, api } = await start();
    const markup = { inline_keyboard: [[{ text: 'Stop', callback_data: 'stop' }]] };
    const sent = await api.sendMessage(CHAT, 'working…', { reply_markup: markup });
    const edited = await api.editMessageText(CHAT, sent.message_id, 'done', { reply_markup: markup });
    expect(edited).toMatchObject({ message_id: sent.message_id, text: 'done', reply_markup: markup });
    expect(fake.edits(CHAT)).toMatchObject([{ messageId: sent.message_id, text: 'done', previousText: 'working…' }]);
    expect(fake.sent(CHAT)[0]).toMatchObject({ text: 'done', editCount: 1 });
    const same = await grammyError(api.editMessageText(CHAT, sent.message_id, 'done', { reply_markup: markup }));
    expect(same.description).toBe(
      'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    );
    const missing = await grammyError(api.editMessageText(CHAT, 999, 'x'));
    expect([missing.error_code, missing.description]).toEqual([400, 'Bad Request: message to edit not found']);
    // Without reply_markup the keyboard goes: that is a change.
    const bare = await api.editMessageText(CHAT, sent.message_id, 'done');
    expect(bare).not.toHaveProperty('reply_markup');
  });

  it('queues a callback query for a button press and takes one answer for it', async () => {
    const { fake, api } = await start();
    const markup = { inline_keyboard: [[{ text: 'Approve', callback_data: 'approve:7' }]] };
    const sent = await api.sendMessage(CHAT, 'approve?', { reply_markup: markup });
    const { updateId, callbackQueryId } = fake.pressButton({
      chatId: CHAT,
      messageId: sent.message_id,
      data: 'approve:7',
    });
    const [update] = await api.getUpdates({ timeout: 1 });
    expect(update?.update_id).toBe(updateId);
    expect(update?.callback_query).toMatchObject({
      id: callbackQueryId,
      from: { id: CHAT, is_bot: false },
      message: { message_id: sent.message_id, text: 'approve?', reply_markup: markup },
      data: 'approve:7',
    });
    expect(typeof update?.callback_query?.chat_instance).toBe('string');
    expect(await api.answerCallbackQuery(callbackQueryId, { text: 'Approved' })).toBe(true);
    expect(fake.callbackAnswers()).toMatchObject([{ callbackQueryId, text: 'Approved' }]);
    const again = await grammyError(api.answerCallbackQuery(callbackQueryId));
    expect(again.error_code).toBe(400);
  });

  it('reads form-encoded and query-string parameters, and answers unknown methods 404', async () => {
    const { fake } = await start();
    const base = `${fake.url}/bot${fake.token}`;
    const form = await fetch(`${base}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        chat_id: String(CHAT),
        text: 'from a form',
        reply_markup: JSON.stringify({ inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] }),
      }),
    });
    expect(await form.json()).toMatchObject({ ok: true, result: { text: 'from a form', reply_markup: {} } });
    const query = await fetch(`${base}/sendMessage?chat_id=${CHAT}&text=from%20a%20query`);
    expect(await query.json()).toMatchObject({ ok: true, result: { text: 'from a query', message_id: 2 } });
    const unknown = await fetch(`${base}/noSuchMethod`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found: method not found' });
  });
});

describe('telegram fake: faults', () => {
  it('answers 429 with retry_after, then normally', async () => {
    const { fake, api } = await start();
    fake.fault({ kind: 'rate_limit', retryAfter: 7 }, { method: 'sendMessage' });
    expect(await api.getMe()).toMatchObject({ is_bot: true });
    const err = await grammyError(api.sendMessage(CHAT, 'hi'));
    expect(err.error_code).toBe(429);
    expect(err.description).toBe('Too Many Requests: retry after 7');
    expect(err.parameters.retry_after).toBe(7);
    expect(await api.sendMessage(CHAT, 'hi')).toMatchObject({ text: 'hi' });
    expect(fake.requests.map((r) => [r.method, r.status, r.fault])).toEqual([
      ['getMe', 200, undefined],
      ['sendMessage', 429, 'rate_limit'],
      ['sendMessage', 200, undefined],
    ]);
  });

  it('answers 409 conflict, 5xx as JSON or an HTML page, and 401', async () => {
    const { fake, api } = await start();
    fake.fault({ kind: 'conflict' });
    expect((await grammyError(api.getUpdates())).error_code).toBe(409);
    fake.fault({ kind: 'server_error', status: 503 });
    expect((await grammyError(api.getMe())).error_code).toBe(503);
    fake.fault({ kind: 'server_error', status: 502, html: true });
    // grammY parses every body as JSON: an HTML page is a network error to it, not a GrammyError.
    const html = await failure(api.getMe());
    expect(html).toBeInstanceOf(HttpError);
    expect(fake.requests.at(-1)).toMatchObject({ status: 502, fault: 'server_error' });
    fake.fault({ kind: 'unauthorized' }, { times: 2 });
    expect((await grammyError(api.getMe())).error_code).toBe(401);
    expect((await grammyError(api.getMe())).error_code).toBe(401);
    expect(await api.getMe()).toMatchObject({ is_bot: true });
  });

  it('cuts the connection on reset, and delays on slow', async () => {
    const { fake, api } = await start();
    fake.fault({ kind: 'reset' });
    const reset = await failure(api.sendMessage(CHAT, 'lost'));
    expect(reset).toBeInstanceOf(HttpError);
    expect(fake.sent()).toHaveLength(0);
    fake.fault({ kind: 'slow', ms: 300 });
    const started = Date.now();
    expect(await api.sendMessage(CHAT, 'late')).toMatchObject({ text: 'late' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    // A slow long poll still ends when the client gives up.
    fake.fault({ kind: 'slow', ms: 5000 }, { method: 'getUpdates' });
    const abort = new AbortController();
    const poll = api.getUpdates({ timeout: 5 }, grammySignal(abort.signal));
    await fake.waitFor(() => fake.requests.some((r) => r.fault === 'slow' && r.method === 'getUpdates'));
    abort.abort();
    expect(await failure(poll)).toBeInstanceOf(HttpError);
  });

  it('answers 401 while revoked and for a wrong token', async () => {
    const { fake, api } = await start();
    fake.revoke();
    const err = await grammyError(api.getMe());
    expect([err.error_code, err.description]).toEqual([401, 'Unauthorized']);
    fake.restore();
    expect(await api.getMe()).toMatchObject({ id: fake.bot.id });
    const stranger = new Api('654321:WRONG-token', { apiRoot: fake.url });
    expect((await grammyError(stranger.getMe())).error_code).toBe(401);
  });

  it('goes down and comes back on the same port with its state', async () => {
    const { fake, api } = await start();
    await api.sendMessage(CHAT, 'before');
    const poll = api.getUpdates({ timeout: 5 });
    await held(fake);
    await fake.down();
    expect(await failure(poll)).toBeInstanceOf(HttpError);
    expect(await failure(api.getMe())).toBeInstanceOf(HttpError);
    await fake.up();
    expect(await api.sendMessage(CHAT, 'after')).toMatchObject({ message_id: 2 });
    expect(fake.url).toBe(`http://127.0.0.1:${fake.port}`);
    expect(fake.sent().map((m) => m.text)).toEqual(['before', 'after']);
  });

  it('says what waitFor waited for when it times out', async () => {
    const { fake, api } = await start();
    await api.getMe();
    await expect(fake.waitFor(() => fake.sent().length === 3, { timeoutMs: 100 })).rejects.toThrow(
      /timed out after 100 ms waiting for .*sent\(\)\.length === 3.*#1 getMe \{\} → 200/,
    );
    await fake.close();
    await fake.close();
  });
});
