// The status page, in Debian's Chromium against the real daemon: its channels table and notices line for a plain
// daemon (http only, nothing waiting) and one whose webhook points at a port nothing listens on (deliveries fail, and
// the gateway card says what that means and what to do); values in words and units, and nothing cut off or wider
// than the screen from 360 px up.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatDuration, formatEvery, formatSize } from '../src/ui/format.js';
import { ensureAssets } from './helpers/assets.js';
import { launchChromium } from './helpers/browser.js';
import { startDaemon, type Daemon, type DaemonOptions } from './helpers/daemon.js';
import { browserTests } from './helpers/suite.js';

const AGENT = fileURLToPath(new URL('./fixtures/agent.mjs', import.meta.url));
// The page polls the status every 5 s; Chromium and the daemon share two cores with the rest of the suite.
const WAIT = { timeout: 30_000 };
const COLUMNS = ['channel', 'state', 'since', 'restarts', 'next try', 'last error'];
const browsers = browserTests();

describe('status helpers', () => {
  it('says durations, periods and sizes in words and units', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(5 * 60_000)).toBe('5 min');
    expect(formatDuration(90 * 60_000)).toBe('1 h 30 min');
    expect(formatDuration(86_400_000)).toBe('24 h');
    expect(formatDuration(3 * 86_400_000)).toBe('3 days');
    expect(formatDuration(null)).toBe('—');
    expect(formatEvery(86_400_000)).toBe('every 24 h');
    expect(formatEvery(300_000)).toBe('every 5 min');
    expect(formatEvery('0 3 * * *')).toBe('cron 0 3 * * *');
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(12_300_000)).toBe('12.3 MB');
    expect(formatSize(1_234_000_000)).toBe('1.2 GB');
    expect(formatSize(999_960)).toBe('1.0 MB');
  });
});

describe.skipIf(browsers.skip)('status page: channels and outbox (Chromium, real daemon)', () => {
  const ac = new AbortController();
  let tmp = '';
  let browser: Browser;
  const daemons: Daemon[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browsers.requireChromium();
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

  /** The status page of `d` in a fresh page `width` pixels wide (under 500: a phone). */
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
    // Cells after the row header: state, since (in words, the exact time in a title), restarts, next try, last error.
    const cells = await http.locator('td').allTextContents();
    expect(cells[1]).toMatch(/^(just now|\d+ s ago|\d+ min ago)$/);
    await expect(http.locator('td time').first().getAttribute('title')).resolves.toMatch(/\(\d{4}-\d\d-\d\dT/);
    expect(cells.slice(2)).toEqual(['none', '—', '—']);
    // Neither Telegram nor webhooks are configured.
    expect(await table.locator('tbody tr').count()).toBe(1);

    const outbox = page.locator('[data-component="gateway"] .outbox');
    await expect(outbox.textContent()).resolves.toBe('all delivered');
    // Each card: its state in a word and one line of what it means; nothing to do while it is ok.
    const gateway = page.locator('[data-component="gateway"]');
    await expect(gateway.locator('.component-meaning').textContent()).resolves.toBe(
      'Messages come in on every channel and job notices are delivered.',
    );
    await expect(gateway.locator('.component-action').count()).resolves.toBe(0);
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
          /^1 notice waiting to be delivered \(the oldest for .+\); last failure: webhook http:\/\/127\.0\.0\.1:9 could not be reached: fetch failed \(/,
      })
      .waitFor(WAIT);
    // What it means and what to do: the words `alter0 diagnose` prints (@alter0/api's componentAdvice).
    const gateway = page.locator('[data-component="gateway"][data-state="degraded"]');
    await expect(gateway.locator('.component-meaning').textContent()).resolves.toBe(
      'A job notice could not be delivered to a webhook; it waits and is tried again.',
    );
    await expect(gateway.locator('.component-action').textContent()).resolves.toBe(
      'What to do: Make the webhook receiver answer (2xx); waiting notices go out by themselves.',
    );
    await expect(channels(page).locator('tr[data-channel="http"]').getAttribute('data-state')).resolves.toBe('ok');

    // The longest row (the error) stays inside the table's box on a phone.
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    await page.close();
  });

  it('says its values in words and units, and fits every width from 360 px with nothing cut off', async () => {
    const d = await daemon('widths');
    const page = await openStatus(d, 1400);
    const backup = page.locator('[data-component="scheduler"] tr[data-job="backup"]');
    await backup.waitFor(WAIT);
    // No raw keys, milliseconds or byte counts.
    const text = await page.locator('.status-page').innerText();
    expect(text).not.toMatch(/_ms\b|_bytes\b|oldest queued age|86400000|every \d{4,}/i);
    await expect(backup.locator('td').first().textContent()).resolves.toBe('every 24 h');
    await expect(page.locator('[data-component="storage"]').innerText()).resolves.toMatch(
      /\d+(\.\d)? (kB|MB|GB|TB) free/,
    );
    await expect(page.locator('[data-component="queue"] .component-meaning').textContent()).resolves.toBe(
      'Jobs start as soon as a worker is free.',
    );
    for (const width of [1400, 1100, 900, 700, 500, 390, 360]) {
      await page.setViewportSize({ width, height: 900 });
      expect(await pageOverflow(page), `the page at ${width} px`).toBeLessThanOrEqual(0);
      // Every table fits its box: none is cut off, none has to be scrolled sideways.
      const scrolled = await page.evaluate(() =>
        [...document.querySelectorAll('.status-page .table-wrap')]
          .filter((el) => el.scrollWidth > el.clientWidth + 1)
          .map((el) => el.querySelector('table')?.getAttribute('aria-label')),
      );
      expect(scrolled, `tables wider than their box at ${width} px`).toEqual([]);
    }
    await page.close();
  });
});
