// The console as an installable web app and its opt-in notifications, in Debian's Chromium against the real daemon:
// the manifest (its type, its fields, its icons at their sizes), the page's links to it, Chromium's own verdict on
// installability (CDP), a service worker that caches nothing (an /api answer is never served twice), and the
// notifications: asked for only on a click, one per job sent from the composer that ends while the tab is hidden
// (with the outcome and the reply's or error's first line; a click opens the job), none for a job submitted through
// the API or while the tab is in front, none once turned off; on a plain-HTTP LAN name the control says why not.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  describeEnd,
  firstLine,
  JobNotifier,
  type EndedJob,
  type JobNotification,
} from '../src/notify/job-notifier.js';
import { launchChromiumProfile } from './helpers/browser.js';
import { startDaemon } from './helpers/daemon.js';
import { browserTests, useBrowserSuite } from './helpers/suite.js';

const WAIT = { timeout: 30_000 };
/** A LAN-like name Chromium resolves to 127.0.0.1: over plain HTTP it is not a secure context (localhost is). */
const LAN_NAME = 'alter0.lan';
const browsers = browserTests();

const ended = (id: string, over: Partial<EndedJob> = {}): EndedJob => ({
  id,
  state: 'succeeded',
  reply: 'done',
  error: null,
  ...over,
});

describe('job notifier', () => {
  function notifier(shouldNotify = () => true): { n: JobNotifier; shown: JobNotification[] } {
    const shown: JobNotification[] = [];
    return { n: new JobNotifier({ shouldNotify, show: (x) => shown.push(x) }), shown };
  }

  it('notifies the end of a job started here, once, and of no other job', () => {
    const { n, shown } = notifier();
    n.track('j_1');
    n.seen(ended('j_1', { state: 'running' }));
    n.seen(ended('j_2'));
    expect(shown).toEqual([]);
    n.seen(ended('j_1'));
    n.seen(ended('j_1', { state: 'failed' }));
    n.track('j_1');
    expect(shown.map((s) => s.jobId)).toEqual(['j_1']);
  });

  it('an end seen before the id was known (a message answered at once) is notified when the id arrives', () => {
    const { n, shown } = notifier();
    n.seen(ended('j_9', { reply: 'early' }));
    n.track('j_9');
    n.seen(ended('j_9'));
    expect(shown).toEqual([{ jobId: 'j_9', title: 'alter0: job succeeded', body: 'early' }]);
  });

  it('a job that ends while the owner is looking is not notified later', () => {
    let hidden = false;
    const { n, shown } = notifier(() => hidden);
    n.track('j_1');
    n.seen(ended('j_1'));
    hidden = true;
    n.seen(ended('j_1'));
    expect(shown).toEqual([]);
  });

  it('a reply shown while the owner is looking settles its job: the end that comes later (the closer) is not told', () => {
    let hidden = false;
    const { n, shown } = notifier(() => hidden);
    n.track('j_1');
    n.answered(ended('j_1', { state: 'running', reply: 'seen here' }));
    hidden = true;
    n.seen(ended('j_1'));
    // Hidden while it waited: the reply alone is no end, the end is told when it comes.
    n.track('j_2');
    n.answered(ended('j_2', { state: 'running', reply: 'not seen' }));
    n.seen(ended('j_2'));
    expect(shown.map((s) => s.jobId)).toEqual(['j_2']);
  });

  it('says the outcome and the first line of the reply or the error', () => {
    expect(describeEnd(ended('j_1', { reply: '\n## Done\n\nMore text' })).body).toBe('Done');
    const failed = describeEnd(
      ended('j_1', { state: 'failed', reply: null, error: { class: 'timeout', message: 'took too long\nstack' } }),
    );
    expect(failed).toEqual({ jobId: 'j_1', title: 'alter0: job failed', body: 'timeout: took too long' });
    expect(describeEnd(ended('j_1', { state: 'canceled', reply: null })).body).toBe('The job canceled.');
    expect(firstLine(`${'x'.repeat(300)}`)).toHaveLength(160);
    expect(firstLine('```ts\ncode')).toBe('code');
  });
});

/** What the stub of window.Notification saw, as the page keeps it. */
interface Recorded {
  title: string;
  body: string;
  tag: string;
  hash: string;
}

/**
 * Replaces window.Notification (headless Chromium shows none) with a recorder whose permission is the real one, and
 * lets the test hide the page: document.visibilityState and a visibilitychange event, as when the tab goes behind.
 */
function notificationStub(): void {
  const Real = window.Notification;
  const w = window as unknown as Record<string, unknown>;
  const shown: { title: string; options: NotificationOptions; onclick: (() => void) | null }[] = [];
  let asked = 0;
  let hidden = false;
  class Recorder {
    onclick: (() => void) | null = null;
    constructor(
      readonly title: string,
      readonly options: NotificationOptions = {},
    ) {
      shown.push(this);
    }
    close(): void {}
    static get permission(): NotificationPermission {
      return Real.permission;
    }
    static requestPermission(): Promise<NotificationPermission> {
      asked++;
      return Real.requestPermission();
    }
  }
  w.Notification = Recorder;
  w.alter0Shown = () =>
    shown.map((n) => ({
      title: n.title,
      body: n.options.body,
      tag: n.options.tag,
      hash: (n.options.data as { hash: string }).hash,
    }));
  w.alter0Click = (i: number) => shown[i]?.onclick?.();
  w.alter0Asked = () => asked;
  w.alter0Hide = (h: boolean) => {
    hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  Object.defineProperty(Document.prototype, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { get: () => hidden });
}

describe.skipIf(browsers.skip)('installable console and notifications (Chromium, real daemon)', () => {
  const suite = useBrowserSuite({
    name: 'pwa',
    chromiumArgs: [`--host-resolver-rules=MAP ${LAN_NAME} 127.0.0.1`],
  });
  const { o } = suite;
  /** Answers to /api requests that a service worker gave instead of the daemon: there must be none. */
  const fromWorker = suite.mustStayEmpty('/api answers given by the service worker');

  /** A watched page of `context` (the test's own, or a real profile's); closing the page closes the context. */
  async function newPage(context: BrowserContext): Promise<Page> {
    const page = suite.watch(await context.newPage());
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/') && r.fromServiceWorker()) fromWorker.push(r.url());
    });
    page.on('close', () => void context.close());
    return page;
  }

  async function open(url: string, init?: () => void): Promise<Page> {
    const context = await suite.browser.newContext({ viewport: { width: 1280, height: 900 } });
    if (init) await context.addInitScript(init);
    const page = await newPage(context);
    await page.goto(url);
    await page.locator('[data-live="live"]').waitFor(WAIT);
    return page;
  }

  async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>): Promise<T> {
    const end = Date.now() + WAIT.timeout;
    for (;;) {
      const v = await fn();
      if (v !== null && v !== undefined && v !== false) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** PNG width and height from its IHDR chunk. */
  function pngSize(b: Buffer): string {
    expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
    return `${b.readUInt32BE(16)}x${b.readUInt32BE(20)}`;
  }

  it('serves a web app manifest whose icons load at their sizes', async () => {
    const res = await fetch(`${suite.daemon.url}/manifest.webmanifest`, o);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/manifest\+json\b/);
    const m = (await res.json()) as Record<string, unknown> & { icons: Record<string, string>[] };
    expect(m).toMatchObject({ name: 'alter0', short_name: 'alter0', start_url: './', scope: './' });
    expect(m.display).toBe('standalone');
    expect(m.theme_color).toMatch(/^#[0-9a-f]{6}$/);
    expect(m.background_color).toMatch(/^#[0-9a-f]{6}$/);
    const purposes = new Set<string>();
    for (const icon of m.icons) {
      const iconRes = await fetch(new URL(icon.src ?? '', res.url), o);
      expect(iconRes.status, icon.src).toBe(200);
      expect(iconRes.headers.get('content-type'), icon.src).toMatch(new RegExp(`^${icon.type?.replace('+', '\\+')}`));
      const body = Buffer.from(await iconRes.arrayBuffer());
      if (icon.type === 'image/png') expect(pngSize(body), icon.src).toBe(icon.sizes);
      else expect(body.toString('utf8'), icon.src).toContain('<svg');
      purposes.add(`${icon.type} ${icon.sizes} ${icon.purpose}`);
    }
    expect([...purposes]).toEqual(
      expect.arrayContaining(['image/png 192x192 any', 'image/png 512x512 any', 'image/png 512x512 maskable']),
    );
  });

  it('links it from the page; Chromium finds the console installable; its worker caches no /api answer', async () => {
    // A real profile: Chromium does not install from an incognito one (which Playwright's contexts are).
    const page = await newPage(await launchChromiumProfile(join(suite.tmp, 'profile')));
    await page.goto(`${suite.daemon.url}/#/tasks`);
    await page.locator('[data-live="live"]').waitFor(WAIT);
    const links = await page.evaluate(() => ({
      manifest: document.querySelector<HTMLLinkElement>('link[rel="manifest"]')?.href,
      apple: document.querySelector<HTMLLinkElement>('link[rel="apple-touch-icon"]')?.href,
      icon: document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href,
      theme: document.querySelector<HTMLMetaElement>('meta[name="theme-color"]')?.content,
    }));
    expect(links.manifest).toBe(`${suite.daemon.url}/manifest.webmanifest`);
    expect(links.theme).toMatch(/^#[0-9a-f]{6}$/);
    for (const href of [links.apple, links.icon]) expect((await fetch(href ?? '', o)).status, href).toBe(200);

    const cdp = await page.context().newCDPSession(page);
    const manifest = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[] };
    expect(manifest.url).toBe(`${suite.daemon.url}/manifest.webmanifest`);
    expect(manifest.errors).toEqual([]);
    const installable = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
    expect(installable.installabilityErrors).toEqual([]);

    // The worker is registered and controls the page (clients.claim), and has kept nothing.
    const worker = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.ready;
      for (let i = 0; i < 100 && !navigator.serviceWorker.controller; i++) await new Promise((x) => setTimeout(x, 50));
      return { script: r.active?.scriptURL, controlled: navigator.serviceWorker.controller !== null };
    });
    expect(worker).toEqual({ script: `${suite.daemon.url}/sw.js`, controlled: true });
    // The same /api URL twice, with a job added in between: the second answer is the daemon's new one.
    const jobIds = (): Promise<string[]> =>
      page.evaluate(async () => {
        const r = await fetch('./api/jobs?limit=100');
        return ((await r.json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
      });
    const before = await jobIds();
    const added = await suite.daemon.client.submitJob({ content: 'between two reads [[tag:fresh]]' }, o);
    expect(before).not.toContain(added.job_id);
    await expect(jobIds()).resolves.toContain(added.job_id);
    await expect(page.evaluate(() => caches.keys())).resolves.toEqual([]);
    await page.close();
  });

  const shown = (page: Page): Promise<Recorded[]> =>
    page.evaluate(() => (window as unknown as { alter0Shown(): Recorded[] }).alter0Shown());
  const hide = (page: Page, hidden: boolean): Promise<void> =>
    page.evaluate((h) => (window as unknown as { alter0Hide(h: boolean): void }).alter0Hide(h), hidden);

  /** Sends `text` from the composer (in the background when asked) and returns the job id its card shows. */
  async function send(page: Page, text: string, background = false): Promise<string> {
    const before = await page.locator('.submission').count();
    await page.getByLabel('Run in background').setChecked(background);
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
    await until('the submission', async () => (await page.locator('.submission').count()) > before);
    const card = page.locator('.submission').first().locator('[data-job-id]').first();
    await card.waitFor(WAIT);
    const id = await card.getAttribute('data-job-id');
    if (!id) throw new Error('the submission shows no job id');
    return id;
  }

  async function endOf(id: string): Promise<void> {
    await until(`job ${id} to end`, async () =>
      ['succeeded', 'failed', 'canceled'].includes((await suite.daemon.client.getJob(id, o)).state),
    );
  }

  it('asks on a click only; notifies once per job sent from here that ends while hidden, and opens it', async () => {
    const page = await open(`${suite.daemon.url}/#/tasks`, notificationStub);
    await page.context().grantPermissions(['notifications'], { origin: suite.daemon.url });
    const toggle = page.getByRole('button', { name: 'Notify me when my jobs end' });
    await expect(toggle.getAttribute('aria-pressed')).resolves.toBe('false');
    await expect(page.evaluate(() => (window as unknown as { alter0Asked(): number }).alter0Asked())).resolves.toBe(0);
    await toggle.click();
    await page.locator('button[aria-pressed="true"]', { hasText: 'Notify me when my jobs end' }).waitFor(WAIT);
    await expect(page.evaluate(() => (window as unknown as { alter0Asked(): number }).alter0Asked())).resolves.toBe(1);
    // Remembered: a reload finds it on.
    await page.reload();
    await page.locator('[data-live="live"]').waitFor(WAIT);
    await expect(toggle.getAttribute('aria-pressed')).resolves.toBe('true');

    // In front: no notification. Hidden: one for the answered message, one for the failed background job.
    const seenInFront = await send(page, 'while looking [[tag:front]]');
    await page.locator('.submission').first().locator('.reply', { hasText: 'fixture reply-front' }).waitFor(WAIT);
    await hide(page, true);
    const answered = await send(page, 'hello\n[[tag:notified]]');
    const failed = await send(page, 'this one fails [[fail]]', true);
    await until('two notifications', async () => (await shown(page)).length >= 2);
    await endOf(failed);

    // A job submitted through the API, not from this console: nothing, even hidden. A later job of ours is told,
    // and the stream keeps order, so the API job's end was seen before it.
    const viaApi = await suite.daemon.client.submitJob({ content: 'from a script [[tag:api]]' }, o);
    await endOf(viaApi.job_id);
    const last = await send(page, 'one more [[tag:last]]', true);
    await until('the third notification', async () => (await shown(page)).length >= 3);
    const all = await shown(page);
    expect(all.map((n) => n.hash)).toEqual([answered, failed, last].map((id) => `#/jobs/${id}`));
    expect(all.map((n) => n.title)).toEqual(['alter0: job succeeded', 'alter0: job failed', 'alter0: job succeeded']);
    expect(all[0]?.body).toBe('fixture reply-notified');
    expect(all[1]?.body).toMatch(/^\w+: \S/);
    expect(all[2]?.tag).toBe(`alter0-job-${last}`);
    expect(all.map((n) => n.hash)).not.toContain(`#/jobs/${seenInFront}`);

    // A click brings the job forward.
    await page.evaluate(() => (window as unknown as { alter0Click(i: number): void }).alter0Click(1));
    await page.getByRole('heading', { name: `Job ${failed}`, level: 2 }).waitFor(WAIT);
    expect(new URL(page.url()).hash).toBe(`#/jobs/${failed}`);

    // Turned off: nothing more, and the choice is forgotten.
    await toggle.click();
    await page.locator('button[aria-pressed="false"]', { hasText: 'Notify me when my jobs end' }).waitFor(WAIT);
    await expect(page.evaluate(() => localStorage.getItem('alter0.notify'))).resolves.toBeNull();
    const quiet = await send(page, 'not told [[tag:quiet]]', true);
    await page.locator(`.submission [data-job-id="${quiet}"][data-state="succeeded"]`).first().waitFor(WAIT);
    await expect(shown(page)).resolves.toHaveLength(3);
    await page.close();
  });

  it('under a token: the worker registers (its files are public); by a plain-HTTP LAN name the control says why not', async () => {
    const secret = randomBytes(24).toString('hex');
    const tokenFile = join(suite.tmp, 'token');
    writeFileSync(tokenFile, `${secret}\n`, { mode: 0o600 });
    const guarded = await startDaemon({
      dataDir: join(suite.tmp, 'data-token'),
      command: suite.command,
      extraArgs: ['--set', `token_file=${tokenFile}`, '--set', `allowed_hosts=["${LAN_NAME}"]`],
      signal: o.signal,
    });
    const context = await suite.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      // At 127.0.0.1 (a secure context): the worker is registered before any token is given.
      const local = await newPage(context);
      await local.goto(`${guarded.url}/#/tasks`);
      await local.getByRole('alert').filter({ hasText: 'Access token needed' }).waitFor(WAIT);
      await expect(local.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL)).resolves.toBe(
        `${guarded.url}/sw.js`,
      );
      await expect(local.getByRole('button', { name: 'Notify me when my jobs end' }).isEnabled()).resolves.toBe(true);

      // By a LAN name over plain HTTP: no secure context, so neither notifications nor a worker.
      const page = await newPage(context);
      await page.goto(`${guarded.url.replace('127.0.0.1', LAN_NAME)}/#/tasks`);
      const toggle = page.getByRole('button', { name: 'Notify me when my jobs end' });
      await toggle.waitFor(WAIT);
      await expect(page.evaluate(() => window.isSecureContext)).resolves.toBe(false);
      await expect(toggle.isDisabled()).resolves.toBe(true);
      const why = page.locator('[data-notify="unavailable"]');
      await expect(why.textContent()).resolves.toMatch(/secure page.*plain HTTP.*localhost.*HTTPS/);
      await expect(toggle.getAttribute('aria-describedby')).resolves.toBe(await why.getAttribute('id'));
      await expect(page.evaluate(() => 'serviceWorker' in navigator)).resolves.toBe(false);
    } finally {
      await context.close();
      await guarded.stop();
    }
  });
});
