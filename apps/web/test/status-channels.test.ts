// The status page's channels table and outbox line, in Debian's Chromium against the real daemon: a plain one
// (http only, nothing waiting) and one whose webhook points at a port nothing listens on (deliveries fail).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAssets } from './helpers/assets.js';
import { CHROMIUM, INSTALL_HINT, chromiumAvailability, launchChromium } from './helpers/browser.js';
import { startDaemon, type Daemon, type DaemonOptions } from './helpers/daemon.js';

const AGENT = fileURLToPath(new URL('./fixtures/agent.mjs', import.meta.url));
// The page polls the status every 5 s; Chromium and the daemon share two cores with the rest of the suite.
const WAIT = { timeout: 30_000 };
const COLUMNS = ['name', 'state', 'since', 'last error', 'restarts', 'next retry'];
const tools = chromiumAvailability();
if (!tools.run && !tools.required) {
  console.warn(`[@alter0/web] browser tests skipped: ${CHROMIUM} is missing. Install it with: ${INSTALL_HINT}`);
}

describe.skipIf(!tools.run && !tools.required)('status page: channels and outbox (Chromium, real daemon)', () => {
  const ac = new AbortController();
  let tmp = '';
  let browser: Browser;
  const daemons: Daemon[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!tools.run)
      throw new Error(
        `${CHROMIUM} is missing and ALTER0_REQUIRE_TOOLS=1 requires the browser tests. Install it with: ${INSTALL_HINT}`,
      );
    tmp = mkdtempSync(join(tmpdir(), 'alter0-web-status-'));
    await ensureAssets(ac.signal);
    browser = await launchChromium();
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail')
      for (const d of daemons) console.error(`--- daemon log (tail) ---\n${d.log().slice(-4000)}`);
    for (const d of daemons.splice(0)) await d.stop().catch((e: unknown) => console.error('stop failed:', e));
    expect(pageErrors.splice(0), 'uncaught errors in the page').toEqual([]);
  });

  afterAll(async () => {
    ac.abort();
    await browser?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function daemon(name: string, env?: DaemonOptions['env']): Promise<Daemon> {
    mkdirSync(join(tmp, `${name}-agent`));
    const d = await startDaemon({
      dataDir: join(tmp, `${name}-data`),
      command: ['node', AGENT, join(tmp, `${name}-agent`)],
      ...(env === undefined ? {} : { env }),
      signal: ac.signal,
    });
    daemons.push(d);
    return d;
  }

  /** The status page of `d` in a fresh page `width` pixels wide (390: a phone). */
  async function openStatus(d: Daemon, width: number): Promise<Page> {
    const context = await browser.newContext(
      width < 500
        ? { viewport: { width, height: 844 }, isMobile: true, hasTouch: true }
        : { viewport: { width, height: 900 } },
    );
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('close', () => void context.close());
    await page.goto(`${d.url}/#/status`);
    await page.locator('[data-component="gateway"]').waitFor(WAIT);
    return page;
  }

  const channels = (page: Page) =>
    page.locator('[data-component="gateway"]').getByRole('table', { name: 'Channels', exact: true });

  /** Nothing wider than the screen: the table scrolls inside its own box, not the page sideways. */
  const pageOverflow = (page: Page): Promise<number> =>
    page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

  it('lists the http channel as ok and an empty outbox', async () => {
    const d = await daemon('plain');
    const page = await openStatus(d, 1280);
    const table = channels(page);
    await table.waitFor(WAIT);
    expect(await table.getByRole('columnheader').allTextContents()).toEqual(COLUMNS);

    const http = table.locator('tr[data-channel="http"]');
    await expect(http.getAttribute('data-state')).resolves.toBe('ok');
    await expect(http.getByRole('rowheader').textContent()).resolves.toBe('http');
    await expect(http.locator('.badge.state-ok').textContent()).resolves.toBe('ok');
    // Cells after the row header: state, since, last error, restarts, next retry.
    const cells = await http.locator('td').allTextContents();
    expect(cells[2]).toBe('—');
    expect(cells[3]).toBe('0');
    expect(cells[4]).toBe('—');
    // Neither Telegram nor webhooks are configured.
    expect(await table.locator('tbody tr').count()).toBe(1);

    const outbox = page.locator('[data-component="gateway"] .outbox');
    await expect(outbox.textContent()).resolves.toBe('0 waiting, 0 given up');
    await page.close();
  });

  it('shows a webhook nobody answers as degraded, with its error, and the notice waiting', async () => {
    // Nothing listens on port 9: every delivery is refused, and tried again soon (it stays degraded meanwhile).
    const d = await daemon('webhook', {
      ALTER0_NOTIFY__WEBHOOK_URLS: '["http://127.0.0.1:9/hook"]',
      ALTER0_NOTIFY__RETRY_INITIAL: '200ms',
    });
    const page = await openStatus(d, 390);
    const webhook = channels(page).locator('tr[data-channel="webhook"]');
    await webhook.waitFor(WAIT);
    await expect(webhook.getAttribute('data-state')).resolves.toBe('ok');

    const submitted = await d.client.submitJob(
      { content: 'announce me [[tag:hook]]', lane: 'background' },
      { signal: ac.signal },
    );
    expect(submitted).toMatchObject({ state: 'queued' });
    // The job's end is a notice for the webhook; its first attempt fails, and the page's next poll shows it.
    const degraded = channels(page).locator('tr[data-channel="webhook"][data-state="degraded"]');
    await degraded.waitFor(WAIT);
    await degraded.locator('.badge.state-degraded').waitFor(WAIT);
    await expect(degraded.locator('.last-error').textContent()).resolves.toMatch(
      /^a notice could not be delivered: .+\(.+\)$/,
    );
    await page
      .locator('[data-component="gateway"] .outbox', {
        hasText:
          /^1 waiting \(oldest .+ ago\), 0 given up; last failure: webhook http:\/\/127\.0\.0\.1:9 could not be reached: fetch failed \(/,
      })
      .waitFor(WAIT);
    await expect(channels(page).locator('tr[data-channel="http"]').getAttribute('data-state')).resolves.toBe('ok');

    // The longest row (the error) stays inside the table's box on a phone.
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    await page.close();
  });
});
