// Agent replies rendered as Markdown, safely: Debian's Chromium (through playwright-core) at a desktop and a phone
// size, against the real daemon running a fixture agent (fixtures/markdown-agent.mjs) whose replies are fixed
// Markdown texts (fixtures/markdown/*.md). The link and collapse rules alone: markdown-policy.test.ts.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAssets } from './helpers/assets.js';
import { launchChromium } from './helpers/browser.js';
import { startDaemon, type Daemon } from './helpers/daemon.js';
import { browserTests } from './helpers/suite.js';

const AGENT = fileURLToPath(new URL('./fixtures/markdown-agent.mjs', import.meta.url));
const WAIT = { timeout: 30_000 };
const VIEWPORTS = [
  // The phone also checks the dark scheme (screenshots), the desktop the light one.
  { name: 'desktop 1400×900', viewport: { width: 1400, height: 900 }, isMobile: false, colorScheme: 'light' },
  { name: 'phone 390×844', viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: 'dark' },
] as const;
const CODE = `export function add(a: number, b: number): number {
  return a + b; // a long comment that goes on and on, so that the block must scroll sideways inside itself on a phone
}`;

const browsers = browserTests();

interface Asked {
  taskId: string;
  jobId: string;
}

describe.skipIf(browsers.skip)('Markdown replies (Chromium, real daemon)', () => {
  const ac = new AbortController();
  let tmp = '';
  let shots = '';
  let daemon: Daemon;
  let browser: Browser;
  const replies: Record<'rich' | 'evil' | 'long', Asked> = {
    rich: { taskId: '', jobId: '' },
    evil: { taskId: '', jobId: '' },
    long: { taskId: '', jobId: '' },
  };

  /** Sends a message through the API and waits for the fixture's reply; the job and task it landed in. */
  async function ask(name: keyof typeof replies): Promise<Asked> {
    const sent = await daemon.client.sendMessage({ content: `show me [[md:${name}]]` }, { signal: ac.signal });
    const jobId = sent.body.job_id;
    for (let i = 0; i < 300; i++) {
      const job = await daemon.client.getJob(jobId, { signal: ac.signal });
      if (job.state === 'succeeded' && job.task_id) return { taskId: job.task_id, jobId };
      if (job.state === 'failed' || job.state === 'canceled') throw new Error(`job ${jobId} ${job.state}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`job ${jobId} did not finish`);
  }

  beforeAll(async () => {
    browsers.requireChromium();
    tmp = mkdtempSync(join(tmpdir(), 'alter0-web-md-'));
    shots = join(tmp, 'screenshots');
    mkdirSync(shots);
    console.info(`[@alter0/web] screenshots: ${shots}`);
    await ensureAssets(ac.signal);
    daemon = await startDaemon({ dataDir: join(tmp, 'data'), command: ['node', AGENT], signal: ac.signal });
    browser = await launchChromium();
    replies.rich = await ask('rich');
    replies.evil = await ask('evil');
    replies.long = await ask('long');
  });

  afterAll(async () => {
    ac.abort();
    await browser?.close().catch((e: unknown) => console.error('closing Chromium failed:', e));
    await daemon?.stop().catch((e: unknown) => console.error('stopping the daemon failed:', e));
    // Screenshots stay for inspection; the daemon's data does not.
    if (tmp) rmSync(join(tmp, 'data'), { recursive: true, force: true });
  });

  describe.each(VIEWPORTS)('$name', ({ name, viewport, isMobile, colorScheme }) => {
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];
    const foreignRequests: string[] = [];
    const tag = name.split(' ')[0] ?? name;

    beforeAll(async () => {
      context = await browser.newContext({ viewport, isMobile, hasTouch: isMobile, colorScheme });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.url });
      // Every request must stay on the daemon: a reply may not make the browser fetch anything.
      context.on('request', (r) => {
        if (!r.url().startsWith(daemon.url) && !r.url().startsWith('about:')) foreignRequests.push(r.url());
      });
      page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
      });
    });

    afterAll(async () => {
      await context?.close();
    });

    afterEach(async (ctx) => {
      if (ctx.task.result?.state === 'fail' && page) {
        const file = join(shots, `FAILED-${tag}-${ctx.task.name.replace(/\W+/g, '-').slice(0, 50)}.png`);
        await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
        console.error(
          `[@alter0/web] failure screenshot: ${file}\n--- daemon log (tail) ---\n${daemon.log().slice(-3000)}`,
        );
      }
      expect(problems, 'errors, CSP violations in the page').toEqual([]);
      expect(foreignRequests, 'requests beyond the daemon').toEqual([]);
      if (page) expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    });

    /** Opens a task's view and waits for its assistant message, rendered (not the plain-text stand-in). */
    async function openTask(taskId: string): Promise<{ msg: Locator; card: Locator }> {
      await page.goto('about:blank');
      await page.goto(`${daemon.url}/#/tasks/${taskId}`);
      const view = page.locator(`.task-view[data-task-id="${taskId}"]`);
      const msg = view.locator('.conversation .msg-assistant .md');
      await msg.locator('.md-body > :not(.md-plain)').first().waitFor(WAIT);
      const card = view.locator('.job .reply.md');
      await card.locator('.md-body > :not(.md-plain)').first().waitFor(WAIT);
      return { msg, card };
    }

    async function expectNoPageOverflow(): Promise<void> {
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
      }));
      expect(scrollWidth, 'the page scrolls sideways').toBeLessThanOrEqual(innerWidth);
    }

    it('renders headings, emphasis, a GFM table, a task list, links and a highlighted code block', async () => {
      const { msg, card } = await openTask(replies.rich.taskId);
      for (const md of [msg, card]) {
        // Headings sit below the page's own (h3 "Conversation"): # is h4, ## h5, ### h6.
        await expect(md.locator('h4.md-h1').textContent()).resolves.toBe('Release notes');
        await expect(md.locator('h5.md-h2').textContent()).resolves.toBe('What changed');
        await expect(md.locator('h6.md-h3').textContent()).resolves.toBe('A table');
        await expect(md.locator('strong').textContent()).resolves.toBe('bold');
        await expect(md.locator('em').textContent()).resolves.toBe('italic');
        await expect(md.locator('del').textContent()).resolves.toBe('struck');
        await expect(md.locator('p code').textContent()).resolves.toBe('inline code');
        await expect(md.locator('blockquote').textContent()).resolves.toContain('a quoted line');
        await expect(md.locator('ol > li').allTextContents()).resolves.toEqual(['first', 'second']);

        const table = md.locator('.md-table-wrap > table');
        await expect(table.locator('thead th').allTextContents()).resolves.toEqual(['Name', 'Count', 'Note']);
        await expect(table.locator('tbody tr').count()).resolves.toBe(2);
        await expect(table.locator('tbody tr').first().locator('td').first().textContent()).resolves.toBe('alpha');

        const boxes = md.locator('.contains-task-list input[type="checkbox"]');
        await expect(boxes.count()).resolves.toBe(2);
        await expect(
          boxes.evaluateAll((els) =>
            els.map((e) => [(e as HTMLInputElement).checked, (e as HTMLInputElement).disabled]),
          ),
        ).resolves.toEqual([
          [true, true],
          [false, true],
        ]);

        // Links: the written one, an autolinked www., a mailto; each opens in a new tab without opener or referrer.
        const links = md.locator('a');
        await expect(links.evaluateAll((as) => as.map((a) => a.getAttribute('href')))).resolves.toEqual([
          'https://example.com/docs',
          'http://www.example.org/',
          'mailto:owner@example.com',
        ]);
        for (const a of await links.all()) {
          await expect(a.getAttribute('target')).resolves.toBe('_blank');
          await expect(a.getAttribute('rel')).resolves.toBe('noopener noreferrer nofollow');
        }

        // The fenced ts block is highlighted (highlight.js token spans); the one without a language is not.
        const blocks = md.locator('.md-code');
        await expect(blocks.count()).resolves.toBe(2);
        const ts = blocks.first();
        await expect(ts.locator('.md-code-lang').textContent()).resolves.toBe('ts');
        await expect(ts.locator('pre > code.hljs.language-ts').count()).resolves.toBe(1);
        expect(await ts.locator('pre code .hljs-keyword').count()).toBeGreaterThan(0);
        expect(await ts.locator('pre code .hljs-comment').count()).toBe(1);
        await expect(ts.locator('pre').textContent()).resolves.toBe(`${CODE}\n`);
        await expect(ts.locator('pre').evaluate((e) => getComputedStyle(e).overflowX)).resolves.toBe('auto');
        await expect(blocks.nth(1).locator('.md-code-lang').textContent()).resolves.toBe('text');
        await expect(blocks.nth(1).locator('[class^="hljs-"]').count()).resolves.toBe(0);
      }
      if (isMobile) {
        // On a phone the wide table and the long code line scroll inside their own boxes.
        const wrap = msg.locator('.md-table-wrap');
        expect(await wrap.evaluate((e) => e.scrollWidth > e.clientWidth)).toBe(true);
        const pre = msg.locator('.md-code pre').first();
        expect(await pre.evaluate((e) => e.scrollWidth > e.clientWidth)).toBe(true);
      }
      await expectNoPageOverflow();
      await page.screenshot({ path: join(shots, `${tag}-rich.png`), fullPage: true });
    });

    it('copies a code block with its button, from the keyboard too', async () => {
      const { msg } = await openTask(replies.rich.taskId);
      const copy = msg.locator('.md-code').first().getByRole('button', { name: 'Copy code' });
      await copy.focus();
      await page.keyboard.press('Enter');
      const copied = msg.locator('.md-code').first().getByRole('button', { name: 'Code copied' });
      await copied.waitFor(WAIT);
      await expect(copied.textContent()).resolves.toBe('Copied');
      await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(`${CODE}\n`);
      await msg
        .locator('.md-code')
        .first()
        .locator('[role="status"]', { hasText: 'Copied' })
        .waitFor({ state: 'attached', ...WAIT });
      // Back to its resting label after a moment.
      await msg.locator('.md-code').first().getByRole('button', { name: 'Copy code' }).waitFor(WAIT);
    });

    it('keeps a hostile reply inert: no script, image, handler, frame or script link, nothing fetched', async () => {
      const { msg, card } = await openTask(replies.evil.taskId);
      for (const md of [msg, card]) {
        await expect(
          md.locator('script, img, iframe, [onerror], [onclick], #evil-div, div.md-body div').count(),
        ).resolves.toBe(0);
        // Raw HTML from the model is shown as text, never made into elements.
        const text = (await md.textContent()) ?? '';
        expect(text).toContain('<script>window.__pwned = 1</script>');
        expect(text).toContain('<img src="x" onerror="window.__pwned = 2">');
        // Links with a script, data or relative URL are shown as their text.
        for (const label of ['click me', 'data link', 'relative link']) {
          await expect(md.locator('.md-link-off', { hasText: label }).count()).resolves.toBe(1);
        }
        await expect(md.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).resolves.toEqual([
          'https://tracker.example/pixel.png',
          'https://example.com/outer',
          'https://example.com/safe',
        ]);
        // Images are links to the picture (nothing loads); inside a link, plain text.
        await expect(md.locator('a.md-image-link').textContent()).resolves.toBe('[image: tracker]');
        await expect(md.locator('a[href="https://example.com/outer"] > .md-image').textContent()).resolves.toBe(
          '[image: nested image]',
        );
        await md.locator('.md-link-off', { hasText: 'click me' }).click();
      }
      await expect(page.locator('a[href^="javascript:" i], a[href^="data:" i], img, iframe').count()).resolves.toBe(0);
      await expectNoPageOverflow();
      await page.screenshot({ path: join(shots, `${tag}-evil.png`), fullPage: true });
    });

    it('collapses a long reply behind "Show all" and expands it', async () => {
      const { msg } = await openTask(replies.long.taskId);
      const toggle = msg.getByRole('button', { name: /^Show all/ });
      await expect(toggle.textContent()).resolves.toBe('Show all (122 lines)');
      await expect(toggle.getAttribute('aria-expanded')).resolves.toBe('false');
      const controlled = await toggle.getAttribute('aria-controls');
      await expect(msg.locator('.md-body').getAttribute('id')).resolves.toBe(controlled);
      await msg.getByText('Line 20 of a long reply.').waitFor(WAIT);
      await expect(msg.getByText('Line 100 of a long reply.').count()).resolves.toBe(0);
      await expectNoPageOverflow();
      await page.screenshot({ path: join(shots, `${tag}-long-collapsed.png`), fullPage: true });

      await toggle.click();
      const less = msg.getByRole('button', { name: 'Show less' });
      await expect(less.getAttribute('aria-expanded')).resolves.toBe('true');
      await msg.getByText('Line 120 of a long reply.').waitFor(WAIT);
      await expect(msg.locator('.md-body[data-collapsed]').count()).resolves.toBe(0);
      await expectNoPageOverflow();
      await less.click();
      await msg.getByRole('button', { name: /^Show all/ }).waitFor(WAIT);
    });

    it('renders the reply in the composer answer and on the jobs page', async () => {
      await page.goto('about:blank');
      await page.goto(`${daemon.url}/#/jobs`);
      await page.locator('[data-live="live"]').waitFor(WAIT);
      const listed = page.locator(`.content [data-job-id="${replies.rich.jobId}"] .reply.md`);
      await listed.locator('h4.md-h1', { hasText: 'Release notes' }).waitFor(WAIT);
      await listed.locator('.md-code pre code .hljs-keyword').first().waitFor(WAIT);

      const box = page.getByLabel('Message', { exact: true });
      await box.fill('again [[md:rich]]');
      await box.press('Control+Enter');
      const answer = page.locator('.submission').first().locator('.reply.md');
      await answer.locator('h4.md-h1', { hasText: 'Release notes' }).waitFor(WAIT);
      await answer.locator('.md-table-wrap table').waitFor(WAIT);
      await expectNoPageOverflow();
      await page.screenshot({ path: join(shots, `${tag}-jobs.png`), fullPage: true });
    });
  });
});
