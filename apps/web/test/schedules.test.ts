// The schedules page, in Debian's Chromium against the real daemon, at 1400×900 and on a phone (390×844): a schedule
// added through the form (every, cron in a zone, once at), the daemon's refusal of a bad pattern shown with the input
// kept, Run now (its job linked, then its result), the runs of a schedule, pause (with its reason) and resume, remove
// after a confirm step; a schedule paused after failures counted in the nav; nothing wider than the screen.
import type { Schedule } from '@alter0/api';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { formatRelative } from '../src/ui/format.js';
import { parseHash } from '../src/ui/use-hash-route.js';
import { browserTests, useBrowserSuite } from './helpers/suite.js';

// Chromium and the daemon share two cores with the rest of the suite.
const WAIT = { timeout: 30_000 };
// The browser's zone, so that a cron pattern and a one-shot time are read in a zone other than the machine's.
const ZONE = 'Europe/Berlin';
const browsers = browserTests();

describe('schedule helpers', () => {
  const now = Date.parse('2026-03-01T12:00:00.000Z');
  const at = (ms: number): string => new Date(now + ms).toISOString();

  it('says how far a time is, in words', () => {
    expect(formatRelative(at(4 * 60_000), now)).toBe('in 4 min');
    expect(formatRelative(at(-3 * 60_000), now)).toBe('3 min ago');
    expect(formatRelative(at(8_000), now)).toBe('in 8 s');
    expect(formatRelative(at(-2_000), now)).toBe('just now');
    expect(formatRelative(at(2 * 3_600_000 + 5 * 60_000), now)).toBe('in 2 h 5 min');
    expect(formatRelative(at(-3 * 86_400_000), now)).toBe('3 days ago');
    expect(formatRelative(at(72 * 365.25 * 86_400_000), now)).toBe('in 72 years');
    expect(formatRelative(null, now)).toBe('—');
  });

  it('routes #/schedules and a job of its own', () => {
    expect(parseHash('#/schedules')).toEqual({ page: 'schedules' });
    expect(parseHash('#/jobs/j_1')).toEqual({ page: 'jobs', jobId: 'j_1' });
    expect(parseHash('#/jobs')).toEqual({ page: 'jobs' });
  });
});

describe.skipIf(browsers.skip)('schedules page (Chromium, real daemon)', () => {
  const suite = useBrowserSuite({
    name: 'schedules',
    // One failed run pauses a schedule: the nav's count is seen without waiting for five.
    extraArgs: ['--set', 'schedules.max_consecutive_failures=1'],
  });
  const { o } = suite;

  /** The schedules page in a fresh page `width` pixels wide (390: a phone), once its live stream is up. */
  async function open(width: number): Promise<Page> {
    const phone = width < 500;
    const page = await suite.newPage({
      viewport: { width, height: phone ? 844 : 900 },
      ...(phone ? { isMobile: true, hasTouch: true } : {}),
      timezoneId: ZONE,
    });
    await page.goto(`${suite.daemon.url}/#/schedules`);
    await page.getByRole('heading', { name: 'Schedules', level: 2 }).waitFor(WAIT);
    await page.locator('[data-live="live"]').waitFor(WAIT);
    await page.getByRole('heading', { name: /^Your schedules \(\d+\)$/ }).waitFor(WAIT);
    return page;
  }

  async function until<T>(what: string, fn: () => Promise<T | null | undefined>, ms = WAIT.timeout): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== null && v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const overflow = (page: Page): Promise<number> =>
    page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const form = (page: Page) => page.getByRole('form', { name: 'Add a schedule' });
  const item = (page: Page, id: string) => page.locator(`li.schedule[data-schedule-id="${id}"]`);
  const focused = (l: Locator): Promise<boolean> => l.evaluate((el) => el === document.activeElement);
  const schedules = (): Promise<Schedule[]> => suite.daemon.client.listSchedules(o);
  /** The one schedule whose text is `text`, once the daemon has it. */
  const byText = (text: string): Promise<Schedule> =>
    until(`a schedule saying ${text}`, async () => (await schedules()).find((s) => s.text === text));
  /** What the daemon itself answers to a request: the page must show this very text. */
  async function refusal(body: object): Promise<string> {
    const res = await fetch(`${suite.daemon.url}/api/schedules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    return ((await res.json()) as { error: { message: string } }).error.message;
  }

  /**
   * At either size: a bad cron refused with the daemon's words and the input kept; every 10s added and listed with a
   * next run; Run now starts a linked job that ends succeeded; its runs; pause (reason) and resume; remove.
   */
  async function everyFlow(page: Page, tag: string): Promise<void> {
    const f = form(page);
    const text = `status report [[tag:${tag}]]`;
    await f.getByLabel('Message to send').fill(text);
    await f.getByRole('radio', { name: 'Cron' }).check();
    await expect(f.getByLabel('Time zone').inputValue()).resolves.toBe(ZONE);
    await f.getByLabel('Cron pattern').fill('61 * * * *');
    await f.getByRole('button', { name: 'Add schedule' }).click();
    const alert = f.getByRole('alert');
    await alert.waitFor(WAIT);
    const said = await refusal({ text, cron: '61 * * * *', tz: ZONE, lane: 'background' });
    expect(said).toContain('invalid cron pattern "61 * * * *"');
    await expect(alert.textContent()).resolves.toContain(said);
    // Everything typed stays, to be corrected.
    await expect(f.getByLabel('Cron pattern').inputValue()).resolves.toBe('61 * * * *');
    await expect(f.getByLabel('Message to send').inputValue()).resolves.toBe(text);
    expect((await schedules()).filter((s) => s.text === text)).toEqual([]);
    expect(await overflow(page)).toBeLessThanOrEqual(0);

    // Every 10s instead: listed with its description and a next run, the form emptied, the refusal gone.
    await f.getByRole('radio', { name: 'Every' }).check();
    await f.getByLabel('Period').fill('10s');
    await f.getByRole('button', { name: 'Add schedule' }).click();
    const s = await byText(text);
    expect(s).toMatchObject({ kind: 'every', description: 'every 10s', state: 'active', lane: 'background' });
    const li = item(page, s.id);
    await li.waitFor(WAIT);
    await expect(li.locator('.schedule-description').textContent()).resolves.toBe('every 10s');
    await expect(li.locator('.schedule-text').textContent()).resolves.toBe(text);
    const next = li.locator('[data-fact="next"] time');
    await next.waitFor(WAIT);
    await expect(next.textContent()).resolves.toMatch(/^(in \d+ s|in a moment|due now)$/);
    // The exact time is in its title.
    await expect(next.getAttribute('title')).resolves.toMatch(/\(\d{4}-\d\d-\d\dT/);
    await expect(f.getByLabel('Message to send').inputValue()).resolves.toBe('');
    await expect(f.getByRole('alert').count()).resolves.toBe(0);

    // Run now: the started job is named and linked; it ends succeeded, and so does the last result.
    await li.getByRole('button', { name: 'Run now' }).click();
    const started = li.locator('.schedule-started a');
    await started.waitFor(WAIT);
    const jobId = (await started.textContent()) ?? '';
    expect(jobId).toMatch(/^j_/);
    await expect(started.getAttribute('href')).resolves.toBe(`#/jobs/${jobId}`);
    const job = await suite.daemon.client.getJob(jobId, o);
    expect(job).toMatchObject({ channel_id: 'schedule', content: text });
    await until(`job ${jobId} to succeed`, async () =>
      (await suite.daemon.client.getJob(jobId, o)).state === 'succeeded' ? true : null,
    );
    await li.locator('[data-fact="result"] .badge', { hasText: 'succeeded' }).waitFor({ timeout: 10_000 });
    await expect(li.locator('[data-fact="result"] a').getAttribute('href')).resolves.toMatch(/^#\/jobs\/j_/);
    await expect(li.locator('[data-fact="last"] time').count()).resolves.toBe(1);

    // Its runs: the one asked for now, ended, linked to its job.
    await li.getByRole('button', { name: 'Show runs' }).click();
    await expect(li.getByRole('button', { name: 'Hide runs' }).getAttribute('aria-expanded')).resolves.toBe('true');
    const run = li.locator(`.run[data-kind="now"]:has(a[href="#/jobs/${jobId}"])`);
    await run.and(page.locator('[data-result="succeeded"]')).waitFor({ timeout: 10_000 });
    await expect(run.textContent()).resolves.toContain('run now');
    expect(await overflow(page)).toBeLessThanOrEqual(0);

    // Pause from the keyboard: paused with its reason, no next run; the focus stays on the button, now Resume.
    await li.getByRole('button', { name: 'Pause' }).focus();
    await page.keyboard.press('Enter');
    await li.and(page.locator('[data-state="paused"]')).waitFor(WAIT);
    await expect(li.locator('.schedule-reason').textContent()).resolves.toContain('paused by the owner');
    await expect(li.locator('[data-fact="next"]').textContent()).resolves.toContain('none while paused');
    await expect(focused(li.getByRole('button', { name: 'Resume' }))).resolves.toBe(true);
    await expect(suite.daemon.client.getSchedule(s.id, o)).resolves.toMatchObject({ state: 'paused' });
    await li.getByRole('button', { name: 'Resume' }).click();
    await li.and(page.locator('[data-state="active"]')).waitFor(WAIT);
    await li.locator('[data-fact="next"] time').waitFor(WAIT);
    await expect(li.locator('.schedule-reason').count()).resolves.toBe(0);
    await expect(suite.daemon.client.getSchedule(s.id, o)).resolves.toMatchObject({ state: 'active' });

    // Remove asks first: Keep keeps it (the focus back on Remove), Yes removes it.
    await li.getByRole('button', { name: 'Remove', exact: true }).click();
    await li.getByRole('button', { name: 'Keep' }).click();
    await expect(focused(li.getByRole('button', { name: 'Remove', exact: true }))).resolves.toBe(true);
    await li.getByRole('button', { name: 'Remove', exact: true }).click();
    await li.getByRole('button', { name: 'Yes, remove' }).click();
    await li.waitFor({ state: 'detached', ...WAIT });
    expect((await schedules()).map((x) => x.id)).not.toContain(s.id);
    await expect(focused(page.getByRole('heading', { name: /^Your schedules/ }))).resolves.toBe(true);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
  }

  it('at 1400×900: add, refuse, run now, runs, pause, resume, remove; a cron in a zone; the failure count', async () => {
    const page = await open(1400);
    await expect(page.getByRole('link', { name: 'Schedules', exact: true }).getAttribute('aria-current')).resolves.toBe(
      'page',
    );
    await page.getByText('No schedule yet: add one above.').waitFor(WAIT);
    await everyFlow(page, 'wide');

    // A cron pattern in the browser's zone, the kind chosen with the keyboard.
    const f = form(page);
    await f.getByLabel('Message to send').fill('weekday digest');
    await f.getByRole('radio', { name: 'Every' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect(f.getByRole('radio', { name: 'Cron' }).isChecked()).resolves.toBe(true);
    await f.getByLabel('Cron pattern').fill('0 9 * * 1-5');
    await f.getByLabel('Lane').selectOption('interactive');
    await f.getByRole('button', { name: 'Add schedule' }).click();
    const cron = await byText('weekday digest');
    expect(cron).toMatchObject({ kind: 'cron', cron: '0 9 * * 1-5', tz: ZONE, lane: 'interactive' });
    await item(page, cron.id)
      .locator('.schedule-description', { hasText: `cron 0 9 * * 1-5 (${ZONE})` })
      .waitFor(WAIT);
    await expect(item(page, cron.id).locator('[data-fact="next"] time').textContent()).resolves.toMatch(/^in /);

    // Paused after failures (one, in this daemon): its reason, its result, and a count in the nav until resumed.
    const failing = await suite.daemon.client.addSchedule({ text: 'broken report [[fail]]', every: '1h' }, o);
    // Added elsewhere: no event says so; the top bar's Refresh shows it now rather than at the next poll.
    await page.getByRole('button', { name: 'Refresh' }).click();
    const li = item(page, failing.id);
    await li.waitFor(WAIT);
    const nav = page.getByRole('link', { name: /^Schedules/ });
    await expect(nav.locator('.nav-count').count()).resolves.toBe(0);
    await li.getByRole('button', { name: 'Run now' }).click();
    await li.and(page.locator('[data-state="paused"]')).waitFor(WAIT);
    await expect(li.locator('.schedule-reason').textContent()).resolves.toContain('paused after 1 failed run');
    await li.locator('[data-fact="result"] .badge', { hasText: 'failed' }).waitFor(WAIT);
    await expect(li.locator('[data-fact="failures"] dd').textContent()).resolves.toBe('1');
    await nav.locator('.nav-count', { hasText: '1' }).waitFor(WAIT);
    await page.getByRole('link', { name: 'Schedules 1 paused after failures' }).waitFor(WAIT);
    await li.getByRole('button', { name: 'Resume' }).click();
    await li.and(page.locator('[data-state="active"]')).waitFor(WAIT);
    await nav.locator('.nav-count').waitFor({ state: 'detached', ...WAIT });

    // A job linked from here opens on its own page, followed live.
    const { last_job_id: jobId } = await suite.daemon.client.getSchedule(failing.id, o);
    expect(jobId).toMatch(/^j_/);
    await li.locator('[data-fact="result"] a').click();
    await page.locator(`.job-page [data-job-id="${jobId}"][data-state="failed"]`).waitFor(WAIT);
    await page.goBack();
    await item(page, cron.id).waitFor(WAIT);

    for (const x of [cron, failing]) await suite.daemon.client.removeSchedule(x.id, o);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.close();
  });

  it('on a phone (390×844): the same, once at a time in the zone; touch targets of 44 px; nothing overflows', async () => {
    const page = await open(390);
    await page.getByText('No schedule yet: add one above.').waitFor(WAIT);

    // Every control of the page is big enough for a finger.
    await form(page).getByRole('radio', { name: 'Once at' }).check();
    const small = await page.evaluate(() =>
      [
        ...document.querySelectorAll<HTMLElement>(
          '.schedules-page :is(button, input:not([type=radio]), select, textarea, .schedule-kind)',
        ),
      ]
        .map((el) => ({ el: el.outerHTML.slice(0, 80), r: el.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && (r.height < 44 || r.width < 44))
        .map(({ el, r }) => `${el} ${r.width}×${r.height}`),
    );
    expect(small).toEqual([]);

    // Once at a local time, read in the zone given (Berlin: UTC+1 in January).
    const f = form(page);
    await f.getByLabel('Message to send').fill('new year check');
    await f.getByLabel('Time', { exact: true }).fill('2099-01-01T09:00');
    await f.getByRole('button', { name: 'Add schedule' }).click();
    const once = await byText('new year check');
    expect(once).toMatchObject({ kind: 'at', at: '2099-01-01T08:00:00.000Z', tz: ZONE });
    await item(page, once.id).locator('.schedule-description', { hasText: '2099-01-01T08:00:00.000Z' }).waitFor(WAIT);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await suite.daemon.client.removeSchedule(once.id, o);

    await everyFlow(page, 'phone');
    await page.close();
  });
});
