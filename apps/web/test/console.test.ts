// Browser tests of the web console: Debian's Chromium (through playwright-core) against the real
// daemon (`alter0 serve`) running the fixture agent through the `command` executor.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAssets } from './helpers/assets.js';
import { launchChromium } from './helpers/browser.js';
import type { ApiClient } from '@alter0/api';
import { startDaemon, type Daemon } from './helpers/daemon.js';
import { browserTests } from './helpers/suite.js';

const AGENT = fileURLToPath(new URL('./fixtures/agent.mjs', import.meta.url));
// Chromium and the daemon share two cores with the rest of the suite: generous, still well inside the 90 s test timeout.
const WAIT = { timeout: 30_000 };
const browsers = browserTests();

describe.skipIf(browsers.skip)('web console (Chromium, real daemon)', () => {
  const ac = new AbortController();
  let tmp = '';
  let shots = '';
  let daemon: Daemon;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  // The daemon sends a Content-Security-Policy: anything of the console it blocks shows up here.
  const cspViolations: string[] = [];
  const externalRequests: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  /** The current daemon's typed client (@alter0/testkit's) and the options that end its calls with the suite. */
  const api = (): ApiClient => daemon.client;
  const o = { signal: ac.signal };
  /** A card's data-job-id; a card without one fails the test here. */
  const jobIdOf = (id: string | null): string => {
    if (id === null) throw new Error('the job card has no data-job-id');
    return id;
  };

  async function shot(name: string, p: Page = page): Promise<void> {
    await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    browsers.requireChromium();
    tmp = mkdtempSync(join(tmpdir(), 'alter0-web-'));
    shots = join(tmp, 'screenshots');
    mkdirSync(join(tmp, 'agent-state'));
    mkdirSync(shots);
    console.info(`[@alter0/web] screenshots: ${shots}`);
    await ensureAssets(ac.signal);
    daemon = await startDaemon({
      dataDir: join(tmp, 'data'),
      command: ['node', AGENT, join(tmp, 'agent-state')],
      signal: ac.signal,
    });
    cleanups.push(() => daemon.stop());
    browser = await launchChromium();
    cleanups.push(() => browser.close());
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    // Everything is bundled: the console must never reach beyond 127.0.0.1 (no CDN, fonts, telemetry).
    context.on('request', (r) => {
      const u = new URL(r.url());
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '127.0.0.1')
        externalRequests.push(r.url());
    });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page) {
      const name = `FAILED-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}`;
      await shot(name).catch(() => undefined);
      console.error(
        `[@alter0/web] failure screenshot: ${join(shots, name)}.png\n--- daemon log (tail) ---\n${daemon?.log().slice(-4000) ?? '(not started)'}`,
      );
    }
    expect(pageErrors, 'uncaught errors in the page').toEqual([]);
    expect(cspViolations, 'what the Content-Security-Policy blocked').toEqual([]);
    expect(externalRequests, 'requests beyond 127.0.0.1').toEqual([]);
  });

  afterAll(async () => {
    ac.abort();
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => console.error('cleanup failed:', e));
    // Screenshots stay for inspection; the daemon's data does not.
    if (tmp) rmSync(join(tmp, 'data'), { recursive: true, force: true });
  });

  async function open(hash: string): Promise<void> {
    // A fresh document each time: going from one #route to another would keep the page (and its form state).
    await page.goto('about:blank');
    await page.goto(`${daemon.url}/${hash}`);
    await page.locator('[data-live="live"]').waitFor(WAIT);
  }

  /** Lets a job started with [[hold:NAME]] finish (the fixture agent waits for this file). */
  function release(name: string): void {
    writeFileSync(join(tmp, 'agent-state', `release-${name}`), '');
  }

  const messageBox = (): ReturnType<Page['getByLabel']> => page.getByLabel('Message', { exact: true });
  const latestSubmission = (): ReturnType<Page['locator']> => page.locator('.submission').first();

  it('submits a message and shows the reply, and the new task appears live', async () => {
    await open('#/tasks');
    await messageBox().fill('hello [[tag:alpha]]');
    await messageBox().press('Control+Enter');
    const sub = latestSubmission();
    await sub.locator('.reply', { hasText: 'fixture reply-alpha' }).waitFor(WAIT);
    await expect(messageBox().inputValue()).resolves.toBe('');
    const jobId = jobIdOf(await sub.locator('[data-job-id]').first().getAttribute('data-job-id'));
    expect(jobId).toMatch(/\S/);
    const job = await api().getJob(jobId, o);
    const taskId = job.task_id;
    expect(taskId).toBeTruthy();

    const item = page.locator(`.task-list [data-task-id="${taskId}"] a`);
    await item.waitFor(WAIT);
    await item.click();
    const view = page.locator(`.task-view[data-task-id="${taskId}"]`);
    await view.locator('.conversation', { hasText: 'fixture reply-alpha' }).waitFor(WAIT);
    await view.locator('.job[data-state="succeeded"]').first().waitFor(WAIT);
    await shot('task-view');
  });

  it('runs a slow background job and follows it to running then succeeded without a reload', async () => {
    await open('#/jobs');
    await page.evaluate(() => {
      (window as unknown as { alter0Marker: number }).alter0Marker = 1;
    });
    await page.getByLabel('Run in background').check();
    await messageBox().fill('take your time [[hold:beta]] [[tag:beta]]');
    await page.getByRole('button', { name: 'Send' }).click();
    const card = latestSubmission().locator('.job');
    // The agent holds the job running until released below, however slow the machine (no fixed sleep to race).
    await card.and(page.locator('[data-state="running"]')).waitFor(WAIT);
    const jobId = jobIdOf(await card.getAttribute('data-job-id'));
    // The jobs list shows the same job, also live.
    await page.locator(`.content [data-job-id="${jobId}"]`).waitFor(WAIT);
    await shot('job-running');
    release('beta');
    await card.and(page.locator('[data-state="succeeded"]')).waitFor(WAIT);
    await card.locator('.reply', { hasText: 'fixture reply-beta' }).waitFor(WAIT);
    await page.locator(`.content [data-job-id="${jobId}"][data-state="succeeded"]`).waitFor(WAIT);
    // Screen readers hear the change through the polite live region.
    await page
      .locator('[aria-live="polite"]', { hasText: `Job ${jobId} is succeeded` })
      .waitFor({ state: 'attached', ...WAIT });
    const job = await api().getJob(jobId, o);
    expect(job).toMatchObject({ state: 'succeeded', lane: 'background' });
    const marker = await page.evaluate(() => (window as unknown as { alter0Marker?: number }).alter0Marker);
    expect(marker, 'the page was reloaded').toBe(1);
    await shot('jobs');
  });

  it('cancels a running job', async () => {
    await open('#/jobs');
    await page.getByLabel('Run in background').check();
    await messageBox().fill('never ends [[hang]]');
    await messageBox().press('Control+Enter');
    const card = latestSubmission().locator('.job');
    await card.and(page.locator('[data-state="running"]')).waitFor(WAIT);
    const running = jobIdOf(await card.getAttribute('data-job-id'));
    await card.getByRole('button', { name: 'Cancel' }).click();
    await card
      .and(page.locator('[data-state="canceled"]'))
      .waitFor(WAIT)
      .catch(async (err: unknown) => {
        // Which side failed: the daemon (the job is not canceled) or the page (it did not hear so).
        const job = await api().getJob(running, o);
        const shown = await card.getAttribute('data-state').catch(() => '(gone)');
        const text = (await card.innerText().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300);
        const live = await page.locator('[data-live]').first().getAttribute('data-live');
        throw new Error(
          `job ${running} not shown canceled: the API says ${job.state} (stage ${job.stage}, cancel requested ${job.cancel_requested}); the card says ${shown}: "${text}"; the event stream is ${live}`,
          { cause: err },
        );
      });
    // A canceled job can be retried, not canceled again.
    await card.getByRole('button', { name: 'Retry' }).waitFor(WAIT);
    expect(await card.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    expect((await api().getJob(running, o)).state).toBe('canceled');
  });

  it('retries a failed job from the jobs list', async () => {
    await open('#/jobs');
    await messageBox().fill('flaky [[fail-once:gamma]]');
    await messageBox().press('Control+Enter');
    const failed = latestSubmission().locator('.job');
    await failed.and(page.locator('[data-state="failed"]')).waitFor(WAIT);
    await failed.locator('.job-error', { hasText: 'exit' }).waitFor(WAIT);
    const failedId = await failed.getAttribute('data-job-id');

    await page.getByRole('group', { name: 'Job state filter' }).getByRole('button', { name: 'failed' }).click();
    const listed = page.locator(`.content [data-job-id="${failedId}"]`);
    await listed.waitFor(WAIT);
    await shot('job-failed');
    await listed.getByRole('button', { name: 'Retry' }).click();
    const note = listed.locator('[role="status"]', { hasText: 'retry queued as' });
    await note.waitFor(WAIT);
    const newId = (await note.locator('code').textContent()) ?? '';
    expect(newId).not.toBe(failedId);

    await page.getByRole('group', { name: 'Job state filter' }).getByRole('button', { name: 'all' }).click();
    const retried = page.locator(`.content [data-job-id="${newId}"]`);
    await retried.and(page.locator('[data-state="succeeded"]')).waitFor(WAIT);
    await retried.locator('.reply').waitFor(WAIT);
    await retried.getByText(`retry of ${failedId}`).waitFor(WAIT);
  });

  it('closes and reopens a task, and replies into a chosen task', async () => {
    const sent = await api().sendMessage({ content: 'a task to close [[tag:epsilon]]' }, o);
    expect(sent.status).toBe(200);
    const taskId = sent.status === 200 ? sent.body.task_id : null;
    expect(taskId).toBeTruthy();

    await open(`#/tasks/${taskId}`);
    const view = page.locator(`.task-view[data-task-id="${taskId}"]`);
    const inList = page.locator(`.task-list [data-task-id="${taskId}"]`);
    await view.waitFor(WAIT);
    await inList.waitFor(WAIT);
    await view.getByLabel('Close reason (optional)').fill('done here');
    await view.getByRole('button', { name: 'Close task' }).click();
    await view.and(page.locator('[data-state="closed"]')).waitFor(WAIT);
    await view.getByText('“done here”').waitFor(WAIT);
    await view.locator('table', { hasText: 'manual' }).waitFor(WAIT);
    // The open list drops it live.
    await inList.waitFor({ state: 'detached', ...WAIT });
    expect((await api().getTask(taskId ?? '', o)).state).toBe('closed');
    await shot('task-closed');

    await view.getByRole('button', { name: 'Reopen task' }).click();
    await view.and(page.locator('[data-state="open"]')).waitFor(WAIT);
    await inList.waitFor(WAIT);
    expect((await api().getTask(taskId ?? '', o)).state).toBe('open');

    await view.getByRole('button', { name: 'Reply in this task' }).click();
    const chip = page.getByLabel('Reply target');
    await chip.getByText(taskId ?? '').waitFor(WAIT);
    await expect(messageBox().evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await messageBox().fill('follow-up [[tag:zeta]]');
    await messageBox().press('Control+Enter');
    const answer = latestSubmission();
    await answer.locator('.reply', { hasText: 'fixture reply-zeta' }).waitFor(WAIT);
    const jobId = jobIdOf(await answer.locator('[data-job-id]').first().getAttribute('data-job-id'));
    expect((await api().getJob(jobId, o)).task_id).toBe(taskId);
    await view.locator('.conversation', { hasText: 'fixture reply-zeta' }).waitFor(WAIT);
    await view.locator('table', { hasText: 'reopen' }).waitFor(WAIT);
    await shot('console');
    await chip.getByRole('button').click();
    await chip.waitFor({ state: 'detached', ...WAIT });
  });

  it('shows status per component, and a missing executor binary as degraded', async () => {
    await open('#/status');
    await page.locator('[data-component="gateway"]').waitFor(WAIT);
    await page.locator('[data-component="queue"]').waitFor(WAIT);
    await page.locator('[data-component="executor"]').waitFor(WAIT);
    await shot('status');

    const broken = await startDaemon({
      dataDir: join(tmp, 'data-broken'),
      command: [join(tmp, 'no-such-agent')],
      signal: ac.signal,
    });
    try {
      await page.goto(`${broken.url}/#/status`);
      const executor = page.locator('[data-component="executor"]');
      await executor.and(page.locator('[data-state="degraded"]')).waitFor(WAIT);
      await executor.locator('.badge.state-degraded').first().waitFor(WAIT);
      await page.locator('.status-summary[data-state="degraded"]').waitFor(WAIT);
      await shot('status-degraded');
    } finally {
      await broken.stop();
      rmSync(join(tmp, 'data-broken'), { recursive: true, force: true });
    }
  });

  it('is usable on a phone-sized screen', async () => {
    expect((await api().sendMessage({ content: 'from a phone [[tag:phone]]' }, o)).status).toBe(200);
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const p = await phone.newPage();
      await p.goto(`${daemon.url}/#/tasks`);
      await p.locator('[data-live="live"]').waitFor(WAIT);
      await p.locator('.task-list li').first().waitFor(WAIT);
      // Nothing wider than the screen: no sideways scrolling of the page.
      const overflow = await p.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      await p.getByLabel('Message', { exact: true }).waitFor(WAIT);
      await p.screenshot({ path: join(shots, 'phone.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  });

  it('asks for the access token when the daemon requires one, then works live with it', async () => {
    const tokenFile = join(tmp, 'token');
    const secret = randomBytes(24).toString('hex');
    writeFileSync(tokenFile, secret + '\n', { mode: 0o600 });
    const guarded = await startDaemon({
      dataDir: join(tmp, 'data-token'),
      command: ['node', AGENT, join(tmp, 'agent-state')],
      extraArgs: ['--set', `token_file=${tokenFile}`],
      signal: ac.signal,
    });
    try {
      await page.goto('about:blank');
      await page.goto(`${guarded.url}/#/jobs`);
      const prompt = page.getByRole('alert').filter({ hasText: 'Access token needed' });
      await prompt.waitFor(WAIT);
      await shot('token-prompt');
      await prompt.getByLabel('Access token').fill(secret);
      await prompt.getByRole('button', { name: 'Use token' }).click();
      await prompt.waitFor({ state: 'detached', ...WAIT });
      await page.locator('[data-live="live"]').waitFor(WAIT);
      // Live events arrive over the authenticated stream: a background job goes to succeeded on its own.
      await page.getByLabel('Run in background').check();
      await messageBox().fill('with a token [[hold:iota]] [[tag:iota]]');
      await messageBox().press('Control+Enter');
      const card = latestSubmission().locator('.job');
      await card.and(page.locator('[data-state="running"]')).waitFor(WAIT);
      release('iota');
      await card.and(page.locator('[data-state="succeeded"]')).waitFor(WAIT);
      await card.locator('.reply', { hasText: 'fixture reply-iota' }).waitFor(WAIT);
      // The token is kept for this tab only, and never in the URL.
      expect(page.url()).not.toContain(secret);
    } finally {
      await guarded.stop();
      rmSync(join(tmp, 'data-token'), { recursive: true, force: true });
    }
  });

  it('refuses cross-origin state changes and foreign Host headers', async () => {
    expect((await api().sendMessage({ content: 'a task to attack [[tag:victim]]' }, o)).status).toBe(200);
    const jobsBefore = (await api().listJobs({ limit: 1000 }, o)).length;
    const tasksBefore = await api().listTasks({ state: 'all', limit: 1000 }, o);
    const victim = tasksBefore.find((t) => t.state === 'open');
    expect(victim, 'an open task to attack').toBeDefined();

    const evil = await serveEvilPage(daemon.url, victim?.id ?? '');
    try {
      await page.goto(evil.url);
      await page.waitForFunction(
        () => (window as unknown as { attack?: { done?: boolean } }).attack?.done === true,
        undefined,
        WAIT,
      );
      const outcome = await page.evaluate(() => (window as unknown as { attack: Record<string, string> }).attack);
      // The CORS fetch must not be readable by the foreign page.
      expect(outcome.cors).toBe('blocked');
      // Nor may it listen to the live event stream.
      expect(outcome.sse).toBe('blocked');
      // Nor frame the console (clickjacking), nor show the daemon's answers to its form posts in its frames.
      expect(cspViolations.length, 'the evil page framed the console').toBeGreaterThan(0);
      expect(cspViolations.filter((m) => !m.includes("frame-ancestors 'none'"))).toEqual([]);
      cspViolations.length = 0;
    } finally {
      await new Promise<void>((resolve) => evil.server.close(() => resolve()));
    }
    expect((await api().listJobs({ limit: 1000 }, o)).length).toBe(jobsBefore);
    const tasksAfter = await api().listTasks({ state: 'all', limit: 1000 }, o);
    expect(tasksAfter.map((t) => [t.id, t.state])).toEqual(tasksBefore.map((t) => [t.id, t.state]));

    // The same requests from a non-browser client that claims a foreign Origin are refused outright.
    const cross = await fetch(`${daemon.url}/api/message`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' },
      body: JSON.stringify({ content: 'cross-origin' }),
      signal: ac.signal,
    });
    expect(cross.status).toBe(403);
    expect(cross.headers.get('access-control-allow-origin')).not.toBe('*');

    // DNS rebinding: a foreign Host header is refused, for reads and writes.
    const port = Number(new URL(daemon.url).port);
    expect(await rawStatus(port, 'GET', '/api/status', 'evil.example')).toBe(403);
    expect(await rawStatus(port, 'POST', '/api/message', 'evil.example', JSON.stringify({ content: 'rebound' }))).toBe(
      403,
    );
    expect(await rawStatus(port, 'GET', '/', `evil.example:${port}`)).toBe(403);
    expect((await api().listJobs({ limit: 1000 }, o)).length).toBe(jobsBefore);
  });

  it('shows "reconnecting" while the daemon restarts and comes back live on its own', async () => {
    await open('#/jobs');
    const listen = new URL(daemon.url).host;
    await daemon.stop();
    await page.locator('[data-live="reconnecting"]').waitFor(WAIT);
    await shot('reconnecting');
    daemon = await startDaemon({
      dataDir: join(tmp, 'data'),
      listen,
      command: ['node', AGENT, join(tmp, 'agent-state')],
      signal: ac.signal,
    });
    // Submitted before the stream is back, so its events may be missed: the refetch after reconnect shows it.
    const early = await api().sendMessage({ content: 'while reconnecting [[tag:eta]]' }, o);
    expect(early.status).toBe(200);
    await page.locator('[data-live="live"]').waitFor({ timeout: 40_000 });
    await page.locator(`.content [data-job-id="${early.body.job_id}"][data-state="succeeded"]`).waitFor(WAIT);
    // Subscribed again: a job submitted now shows up without a manual refresh.
    // Accepted and queued (the 202 answer; a refusal would throw ApiRequestError).
    const sent = await api().submitJob({ content: 'after restart [[tag:theta]]' }, o);
    expect(sent.state).toBe('queued');
    await page.locator(`.content [data-job-id="${sent.job_id}"][data-state="succeeded"]`).waitFor(WAIT);
  });
});

/** A page on a second 127.0.0.1 origin that tries to drive the daemon (CORS and no-cors fetch, form POSTs) and to read its events. */
async function serveEvilPage(daemonUrl: string, taskId: string): Promise<{ server: Server; url: string }> {
  const html = `<!doctype html><meta charset="utf-8"><title>evil</title>
<form id="msg" method="POST" action="${daemonUrl}/api/message" enctype="text/plain" target="sink1">
  <input name='{"content":"evil form","pad":"' value='"}'></form>
<form id="close" method="POST" action="${daemonUrl}/api/tasks/${taskId}/close" enctype="text/plain" target="sink2">
  <input name='{"reason":"evil","pad":"' value='"}'></form>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe><iframe src="${daemonUrl}/"></iframe>
<script>
const attack = (window.attack = {});
const daemon = ${JSON.stringify(daemonUrl)};
const submit = (form, frame) => new Promise((resolve) => { frame.onload = resolve; form.submit(); });
(async () => {
  try {
    const r = await fetch(daemon + '/api/message', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content: 'evil cors fetch' }) });
    attack.cors = 'read ' + r.status;
  } catch { attack.cors = 'blocked'; }
  for (const path of ['/api/message', '/api/jobs', ${JSON.stringify(`/api/tasks/${taskId}/close`)}]) {
    try {
      await fetch(daemon + path, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ content: 'evil no-cors', reason: 'evil' }) });
    } catch {}
  }
  attack.sse = await new Promise((resolve) => {
    const es = new EventSource(daemon + '/api/events');
    es.addEventListener('hello', () => { es.close(); resolve('read'); });
    es.addEventListener('job', () => { es.close(); resolve('read'); });
    es.onerror = () => { es.close(); resolve('blocked'); };
  });
  await submit(document.getElementById('msg'), document.getElementsByName('sink1')[0]);
  await submit(document.getElementById('close'), document.getElementsByName('sink2')[0]);
  attack.done = true;
})();
</script>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

/** node:http, because fetch() may not set Host. */
function rawStatus(port: number, method: string, path: string, host: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { Host: host, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path} with Host ${host} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}
