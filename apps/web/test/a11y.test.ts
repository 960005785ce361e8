// Every page of the console, in Debian's Chromium against the real daemon, at 1400×900 and on a phone (390×844):
// axe-core finds no serious or critical violation and nothing is wider than the screen; on the phone every control is
// at least 44 px high and no text is smaller than 12 px. Then keyboard only: Tab reaches the skip link, the nav, the
// composer and Send, each with a visible focus ring, and Enter follows a nav link; on a phone the composer of a task
// view is docked in reach, the page keeps clear of it, and an answer sent from it comes into sight.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALTER0_BIN } from '@alter0/testkit';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from './helpers/axe.js';
import type { Daemon } from './helpers/daemon.js';
import { browserTests, useBrowserSuite } from './helpers/suite.js';

// Chromium and the daemon share two cores with the rest of the suite.
const WAIT = { timeout: 30_000 };
const DESKTOP = { width: 1400, height: 900 };
const PHONE = { width: 390, height: 844 };
/** On a phone: the lowest touch target and the smallest text, in CSS pixels. */
const MIN = { target: 44, text: 12 };
/**
 * `SCREENSHOTS_DIR=docs/screenshots pnpm exec vitest run apps/web/test/a11y.test.ts` also saves each page as checked,
 * `<page>-desktop.png` and `<page>-phone.png` (the pictures in the README). Relative to the repository's root.
 */
const SHOTS = process.env.SCREENSHOTS_DIR
  ? join(fileURLToPath(new URL('../../../', import.meta.url)), process.env.SCREENSHOTS_DIR)
  : null;
const browsers = browserTests();

interface Fixture {
  taskId: string;
  jobId: string;
}

/** Each page, and what shows once its content is there. */
function pages(f: Fixture): { name: string; hash: string; ready: string }[] {
  return [
    { name: 'tasks', hash: '#/tasks', ready: `.task-list li[data-task-id="${f.taskId}"]` },
    { name: 'task view', hash: `#/tasks/${f.taskId}`, ready: `.task-view[data-task-id="${f.taskId}"] .msg-assistant` },
    { name: 'jobs', hash: '#/jobs', ready: '.content .job[data-state="failed"]' },
    { name: 'job', hash: `#/jobs/${f.jobId}`, ready: `.job-page [data-job-id="${f.jobId}"]` },
    { name: 'approvals', hash: '#/approvals', ready: 'article.approval[data-state="pending"]' },
    { name: 'memory', hash: '#/memory', ready: 'li.memory-entry' },
    { name: 'schedules', hash: '#/schedules', ready: 'li.schedule' },
    { name: 'activity', hash: '#/activity', ready: 'figure.chart canvas' },
    { name: 'status', hash: '#/status', ready: '[data-component="gateway"] .component-action' },
  ];
}

/**
 * Runs in the page: the visible controls lower than `target` px and the visible text smaller than `text` px. A
 * checkbox or radio counts as its label (what a finger presses); a link inside running text is left out (the inline
 * exception of WCAG 2.5.8).
 */
function phoneAudit(min: { target: number; text: number }): { targets: string[]; text: string[] } {
  const nameOf = (el: Element): string => {
    const cls =
      typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().replace(/\s+/g, '.')}` : '';
    const words = (el.textContent ?? '').trim().slice(0, 30) || (el.getAttribute('aria-label') ?? '');
    return `${el.tagName.toLowerCase()}${cls} "${words}"`;
  };
  // Drawn: not hidden, not a 1 px visually-hidden box, not moved off screen until focused (the skip link).
  const shown = (el: Element): boolean => {
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && r.right > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const inText = (el: Element): boolean => {
    const parent = el.parentElement;
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline' || !parent) return false;
    return (parent.textContent ?? '').trim().length > (el.textContent ?? '').trim().length;
  };
  const targets: string[] = [];
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary')) {
    const box = el instanceof HTMLInputElement && /^(checkbox|radio)$/.test(el.type) ? (el.closest('label') ?? el) : el;
    if (!shown(box) || inText(el)) continue;
    const h = box.getBoundingClientRect().height;
    if (h < min.target - 0.5) targets.push(`${nameOf(box)}: ${Math.round(h)} px`);
  }
  const text = new Set<string>();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || !(n.textContent ?? '').trim() || !shown(el)) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < min.text - 0.05) text.add(`${nameOf(el)}: ${px.toFixed(1)} px`);
  }
  return { targets, text: [...text] };
}

/** Runs in the page: the focused element, and whether a focus ring is drawn around it (an outline or a box-shadow). */
function focused(): { name: string; label: string; ring: boolean; visible: boolean } {
  const el = document.activeElement;
  if (!el || el === document.body) return { name: 'body', label: '', ring: false, visible: false };
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const r = el.getBoundingClientRect();
  const label = el.id ? (document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent ?? '') : '';
  return {
    name: `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}"`,
    label: label.trim(),
    ring: el.matches(':focus-visible') && (outline || s.boxShadow !== 'none'),
    visible: r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth,
  };
}

describe.skipIf(browsers.skip)('console accessibility and phone layout (Chromium, real daemon)', () => {
  const suite = useBrowserSuite({
    name: 'a11y',
    env: {
      // The agent's `alter0 approval request` runs the same build as the daemon.
      AGENT_ALTER0_BIN: process.env.ALTER0_BIN ?? ALTER0_BIN,
      // Nothing listens on port 9: the gateway turns degraded, so the status page shows what to do too.
      ALTER0_NOTIFY__WEBHOOK_URLS: '["http://127.0.0.1:9/hook"]',
      // The Activity page draws from the hourly history: roll it up at once.
      ALTER0_STATS__ROLLUP_EVERY: '1s',
    },
  });
  const { o } = suite;
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await seed(suite.daemon);
  });

  /** A task with a reply, a failed job, a pending approval (its job waits), a memory entry and a schedule. */
  async function seed(d: Daemon): Promise<Fixture> {
    const sent = await d.client.sendMessage({ content: 'check the backups [[tag:a11y]]' }, o);
    if (sent.status !== 200 || !sent.body.task_id) throw new Error(`no answer in time: ${JSON.stringify(sent.body)}`);
    await d.client.submitJob({ content: 'this one fails [[fail]]', lane: 'background' }, o);
    const asking = await d.client.submitJob({ content: 'ask-approval Bash make deploy', lane: 'background' }, o);
    await d.client.addMemory({ content: 'Prefers short answers' }, o);
    await d.client.addSchedule({ text: 'daily report', every: '24h' }, o);
    const end = Date.now() + WAIT.timeout;
    while ((await d.client.listApprovals({ state: 'pending', job_id: asking.job_id }, o)).length === 0) {
      if (Date.now() > end) throw new Error('timed out waiting for the pending approval');
      await new Promise((r) => setTimeout(r, 100));
    }
    return { taskId: sent.body.task_id, jobId: sent.body.job_id };
  }

  async function open(size: { width: number; height: number }, hash: string): Promise<Page> {
    const phone = size.width < 500;
    const page = await suite.newPage({ viewport: size, ...(phone ? { isMobile: true, hasTouch: true } : {}) });
    await page.goto(`${suite.daemon.url}/${hash}`);
    await page.locator('[data-live="live"]').waitFor(WAIT);
    return page;
  }

  const overflow = (page: Page): Promise<number> =>
    page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

  for (const size of [DESKTOP, PHONE]) {
    const phone = size.width < 500;
    it(`every page at ${size.width}×${size.height}: axe finds nothing serious, nothing wider than the screen${phone ? ', controls ≥ 44 px, text ≥ 12 px' : ''}`, async () => {
      const page = await open(size, '#/tasks');
      for (const p of pages(fixture)) {
        await page.goto(`${suite.daemon.url}/${p.hash}`);
        await page.locator(p.ready).first().waitFor(WAIT);
        expect.soft(await seriousViolations(page), `axe on ${p.name}`).toEqual([]);
        expect.soft(await overflow(page), `sideways overflow of ${p.name}`).toBeLessThanOrEqual(0);
        if (SHOTS) {
          mkdirSync(SHOTS, { recursive: true });
          // Past the live updates' first paint: a card that fades in is drawn in full.
          await page.waitForTimeout(300);
          await page.screenshot({
            path: join(SHOTS, `${p.name.replace(/\s+/g, '-')}-${phone ? 'phone' : 'desktop'}.png`),
          });
        }
        if (phone) {
          const audit = await page.evaluate(phoneAudit, MIN);
          expect.soft(audit.targets, `controls under ${MIN.target} px on ${p.name}`).toEqual([]);
          expect.soft(audit.text, `text under ${MIN.text} px on ${p.name}`).toEqual([]);
        }
      }
      await page.close();
    });
  }

  it('keyboard only: the skip link, the nav, the composer and Send, each with a focus ring; Enter follows a link', async () => {
    const status = await open(DESKTOP, '#/status');
    await status.locator(pages(fixture).at(-1)?.ready ?? '').waitFor(WAIT);
    // The first Tab: the skip link, shown; Enter moves the focus to the content and leaves the route alone.
    await status.keyboard.press('Tab');
    expect(await status.evaluate(focused)).toMatchObject({ name: 'a "Skip to content"', ring: true, visible: true });
    await status.keyboard.press('Enter');
    await expect(status.evaluate(() => document.activeElement?.id)).resolves.toBe('content');
    expect(new URL(status.url()).hash).toBe('#/status');
    await status.close();

    // From the top of a fresh page to Send, typing the message on the way.
    const page = await open(DESKTOP, '#/tasks');
    await page.locator(pages(fixture)[0]?.ready ?? '').waitFor(WAIT);
    const seen: string[] = [];
    for (let i = 0; i < 40 && !seen.includes('button "Send"'); i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(focused);
      expect.soft(f.ring, `a focus ring on ${f.name}`).toBe(true);
      expect.soft(f.visible, `${f.name} on screen when focused`).toBe(true);
      seen.push(f.label ? `${f.name} (${f.label})` : f.name);
      // Send is enabled once there is something to send.
      if (f.label === 'Message') await page.keyboard.type('typed without a mouse');
    }
    const wanted = ['a "Skip to content"', 'a "Tasks"', 'a "Status"', 'textarea "" (Message)', 'button "Send"'];
    expect(seen).toEqual(expect.arrayContaining(wanted));
    // Back to a nav link, and Enter follows it.
    for (let i = 0; i < 40 && (await page.evaluate(focused)).name !== 'a "Schedules"'; i++)
      await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Schedules', level: 2 }).waitFor(WAIT);
    expect(new URL(page.url()).hash).toBe('#/schedules');
    await page.close();
  });

  it('on a phone, a task view keeps the composer docked in reach, clear of the page, and shows what it sent', async () => {
    const page = await open(PHONE, `#/tasks/${fixture.taskId}`);
    await page.locator(pages(fixture)[1]?.ready ?? '').waitFor(WAIT);
    const message = page.getByLabel('Message', { exact: true });
    const send = page.getByRole('button', { name: 'Send' });
    /** Whether the element is on screen and is what a tap at its centre reaches (nothing covers it). */
    const reachable = (l: typeof send): Promise<boolean> =>
      l.evaluate((el) => {
        const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return r.top >= 0 && r.bottom <= window.innerHeight && hit !== null && el.contains(hit);
      });
    for (const where of ['top', 'bottom'] as const) {
      await page.evaluate((w) => window.scrollTo(0, w === 'top' ? 0 : document.documentElement.scrollHeight), where);
      expect(await reachable(message), `the message box at the ${where}`).toBe(true);
      // The last of the page ends above the docked form, not under it.
      const clear = await page.evaluate(() => {
        const form = document.querySelector('.composer-form')?.getBoundingClientRect();
        const parts = [...(document.querySelector('.layout')?.children ?? [])];
        const end = Math.max(...parts.map((el) => el.getBoundingClientRect().bottom));
        return form ? form.top - end : -1;
      });
      if (where === 'bottom') expect(clear, 'room between the end of the page and the dock').toBeGreaterThanOrEqual(0);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await message.fill('from the dock [[tag:dock]]');
    expect(await reachable(send)).toBe(true);
    await send.tap();
    const answer = page.locator('.submission .reply', { hasText: 'fixture reply-dock' });
    await answer.waitFor(WAIT);
    // Brought into sight, above the dock (the page follows it as it grows).
    const where = (): Promise<{ top: number; dock: number }> =>
      answer.evaluate((el) => {
        const dock = document.querySelector('.composer-form')?.getBoundingClientRect().top ?? window.innerHeight;
        return { top: Math.round(el.getBoundingClientRect().top), dock: Math.round(dock) };
      });
    await expect
      .poll(where, { timeout: 5_000 })
      .toSatisfy(({ top, dock }: { top: number; dock: number }) => top >= 0 && top < dock);
    await page.close();
  });
});
