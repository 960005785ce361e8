// The memory page, in Debian's Chromium against the real daemon: add an entry (global and a task's own), edit it
// inline, remove it after a confirm step, and the daemon's refusals (empty entry, unknown task) shown on the page;
// a closed task's summary in its own section, pinned and unpinned, and found by the search box.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserTests, useBrowserSuite } from './helpers/suite.js';

// Chromium and the daemon share two cores with the rest of the suite.
const WAIT = { timeout: 30_000 };
// Well formed, but no such task: the daemon answers 404.
const UNKNOWN_TASK = 't_00000000000000000000000000';
const browsers = browserTests();

describe.skipIf(browsers.skip)('memory page (Chromium, real daemon)', () => {
  const suite = useBrowserSuite({ name: 'memory' });
  const { o } = suite;

  /** The memory page in a fresh page `width` pixels wide (390: a phone). */
  async function open(width: number): Promise<Page> {
    const page = await suite.newPage(
      width < 500
        ? { viewport: { width, height: 844 }, isMobile: true, hasTouch: true }
        : { viewport: { width, height: 900 } },
    );
    await page.goto(`${suite.daemon.url}/#/memory`);
    await page.getByRole('heading', { name: 'Memory', level: 2 }).waitFor(WAIT);
    await page.locator('section[aria-labelledby="memory-global"]').waitFor(WAIT);
    return page;
  }

  async function until<T>(what: string, fn: () => Promise<T | null | undefined>): Promise<T> {
    const end = Date.now() + WAIT.timeout;
    for (;;) {
      const v = await fn();
      if (v !== null && v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const overflow = (page: Page): Promise<number> =>
    page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const form = (page: Page) => page.getByRole('form', { name: 'Add a memory entry' });
  const entryWith = (page: Page, text: string) =>
    page.locator('li.memory-entry').filter({ has: page.locator('.memory-content', { hasText: text }) });
  const contents = async (): Promise<string[]> => (await suite.daemon.client.listMemory({}, o)).map((m) => m.content);

  it('adds, edits and removes a global entry; an empty one shows the daemon refusal', async () => {
    const page = await open(1280);
    await expect(page.getByRole('link', { name: 'Memory', exact: true }).getAttribute('aria-current')).resolves.toBe(
      'page',
    );
    await page.locator('section[aria-labelledby="memory-global"] .empty').waitFor(WAIT);

    // Empty (only spaces): the daemon's own message, nothing added.
    await form(page).getByLabel('New entry').fill('   ');
    await form(page).getByRole('button', { name: 'Add' }).click();
    const alert = form(page).getByRole('alert');
    await alert.waitFor(WAIT);
    await expect(alert.textContent()).resolves.toContain('content must not be empty');
    await expect(contents()).resolves.toEqual([]);

    // Added from the page: listed as global, the form emptied, the refusal gone.
    await form(page).getByLabel('New entry').fill('Prefers pnpm over npm');
    await form(page).getByRole('button', { name: 'Add' }).click();
    const entry = page.locator('section[aria-labelledby="memory-global"] li.memory-entry');
    await entry.filter({ hasText: 'Prefers pnpm over npm' }).waitFor(WAIT);
    await expect(form(page).getByLabel('New entry').inputValue()).resolves.toBe('');
    await expect(form(page).getByRole('alert').count()).resolves.toBe(0);
    const [added] = await suite.daemon.client.listMemory({}, o);
    expect(added).toMatchObject({ content: 'Prefers pnpm over npm', task_id: null, kind: 'note' });
    await expect(entry.getAttribute('data-memory-id')).resolves.toBe(added?.id);

    // Edit inline, keyboard only: Edit → the textarea has the focus → Save.
    await entry.getByRole('button', { name: 'Edit' }).focus();
    await page.keyboard.press('Enter');
    const box = entry.getByLabel('Edit entry');
    await expect(box.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await expect(box.inputValue()).resolves.toBe('Prefers pnpm over npm');
    await box.fill('Prefers pnpm, never npm');
    await entry.getByRole('button', { name: 'Save' }).click();
    await entry.locator('.memory-content', { hasText: 'Prefers pnpm, never npm' }).waitFor(WAIT);
    await expect(contents()).resolves.toEqual(['Prefers pnpm, never npm']);
    // GET /api/memory as it comes over the wire, too.
    const wire = (await (await fetch(`${suite.daemon.url}/api/memory`)).json()) as { memory: { content: string }[] };
    expect(wire.memory.map((m) => m.content)).toEqual(['Prefers pnpm, never npm']);

    // Escape cancels and leaves it as it was; the keyboard is back on Edit.
    await entry.getByRole('button', { name: 'Edit' }).click();
    await entry.getByLabel('Edit entry').fill('not saved');
    await page.keyboard.press('Escape');
    await entry.locator('.memory-content', { hasText: 'Prefers pnpm, never npm' }).waitFor(WAIT);
    await expect(
      entry.getByRole('button', { name: 'Edit' }).evaluate((el) => el === document.activeElement),
    ).resolves.toBe(true);
    await expect(contents()).resolves.toEqual(['Prefers pnpm, never npm']);

    // Remove asks first; Keep keeps it, Yes removes it.
    await entry.getByRole('button', { name: 'Remove' }).click();
    await entry.getByRole('button', { name: 'Keep' }).click();
    await expect(contents()).resolves.toEqual(['Prefers pnpm, never npm']);
    await entry.getByRole('button', { name: 'Remove' }).click();
    await entry.getByRole('button', { name: 'Yes, remove' }).click();
    await page.locator('section[aria-labelledby="memory-global"] .empty').waitFor(WAIT);
    await expect(entryWith(page, 'Prefers pnpm').count()).resolves.toBe(0);
    await expect(contents()).resolves.toEqual([]);
    await page.close();
  });

  it("on a phone: a task's own entry, linked to the task; an unknown task refused; nothing overflows", async () => {
    const { job_id } = await suite.daemon.client.submitJob({ content: 'hello' }, o);
    const taskId = await until(
      'the job to be routed to a task',
      async () => (await suite.daemon.client.getJob(job_id, o)).task_id,
    );
    const page = await open(390);

    // An unknown task: the daemon's 404 message on the page.
    await form(page).getByLabel('New entry').fill('Nowhere to go');
    await form(page)
      .getByLabel(/Task id/)
      .fill(UNKNOWN_TASK);
    await form(page).getByRole('button', { name: 'Add' }).click();
    await form(page).getByRole('alert').waitFor(WAIT);
    await expect(form(page).getByRole('alert').textContent()).resolves.toContain(UNKNOWN_TASK);
    await expect(contents()).resolves.toEqual([]);

    const long = `Deploys go through ${'staging-'.repeat(40)}first`;
    await form(page).getByLabel('New entry').fill(long);
    await form(page)
      .getByLabel(/Task id/)
      .fill(taskId);
    await form(page).getByRole('button', { name: 'Add' }).click();
    const section = page.locator(`section.memory-section[data-task-id="${taskId}"]`);
    await section.locator('li.memory-entry', { hasText: 'Deploys go through' }).waitFor(WAIT);
    await expect(section.getByRole('link', { name: `Task ${taskId}` }).getAttribute('href')).resolves.toBe(
      `#/tasks/${taskId}`,
    );
    await expect(suite.daemon.client.listMemory({ task_id: taskId }, o)).resolves.toMatchObject([
      { content: long, task_id: taskId },
    ]);
    expect(await overflow(page)).toBeLessThanOrEqual(0);

    // Editing on the phone stays inside the screen too.
    await section.getByRole('button', { name: 'Edit' }).click();
    await section.getByLabel('Edit entry').waitFor(WAIT);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await section.getByRole('button', { name: 'Cancel' }).click();
    await section.getByRole('button', { name: 'Remove' }).click();
    await section.getByRole('button', { name: 'Yes, remove' }).waitFor(WAIT);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await section.getByRole('button', { name: 'Yes, remove' }).click();
    await section.waitFor({ state: 'detached', ...WAIT });
    await expect(contents()).resolves.toEqual([]);
    await page.close();
  });

  it("a closed task's summary: its own section, pinned and unpinned from the keyboard, found by the search", async () => {
    const { job_id } = await suite.daemon.client.submitJob(
      { content: 'Rotate the staging certificates [[tag:certs]]' },
      o,
    );
    const taskId = await until('the job to finish in a task', async () => {
      const j = await suite.daemon.client.getJob(job_id, o);
      return j.state === 'succeeded' ? j.task_id : null;
    });
    await suite.daemon.client.closeTask(taskId, { reason: 'certificates rotated' }, o);
    const [summary] = await suite.daemon.client.listMemory({ kind: 'task_summary' }, o);
    expect(summary).toMatchObject({ task_id: taskId, kind: 'task_summary', pinned: false });
    expect(summary?.content).toContain('(manual): certificates rotated');
    await suite.daemon.client.addMemory({ content: 'Certificates live in the vault' }, o);

    const page = await open(1280);
    const section = page.locator('section[aria-labelledby="memory-summaries"]');
    const entry = section.locator(`li.memory-entry[data-memory-id="${summary?.id}"]`);
    await entry.waitFor(WAIT);
    await expect(section.getByRole('heading', { level: 3 }).textContent()).resolves.toBe('Closed tasks (1)');
    await expect(entry.locator('.badge', { hasText: 'task summary' }).count()).resolves.toBe(1);
    await expect(entry.getByRole('link', { name: `task ${taskId}` }).getAttribute('href')).resolves.toBe(
      `#/tasks/${taskId}`,
    );
    // Not among the notes placed in sessions.
    await expect(page.locator('section[aria-labelledby="memory-global"] li.memory-entry').count()).resolves.toBe(1);

    // Pin with the keyboard: the daemon keeps it pinned, the page says so, the focus stays on the button.
    await entry.getByRole('button', { name: 'Pin', exact: true }).focus();
    await page.keyboard.press('Enter');
    await entry.locator('.badge', { hasText: 'pinned' }).waitFor(WAIT);
    const unpin = entry.getByRole('button', { name: 'Unpin', exact: true });
    await expect(unpin.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await expect(page.getByRole('status').filter({ hasText: 'Pinned' }).count()).resolves.toBe(1);
    await expect(suite.daemon.client.listMemory({ kind: 'task_summary' }, o)).resolves.toMatchObject([
      { pinned: true },
    ]);
    await page.keyboard.press('Enter');
    await entry.getByRole('button', { name: 'Pin', exact: true }).waitFor(WAIT);
    await expect(entry.locator('.badge', { hasText: 'pinned' }).count()).resolves.toBe(0);
    await expect(suite.daemon.client.listMemory({ kind: 'task_summary' }, o)).resolves.toMatchObject([
      { pinned: false },
    ]);

    // The search box: every word must match, over notes and summaries; the best match first.
    const search = page.getByRole('searchbox', { name: 'Search memory' });
    const results = page.locator('section[aria-labelledby="memory-results"]');
    await search.fill('CERTIFICATES');
    await results.getByRole('heading', { name: 'Matches for “CERTIFICATES” (2)' }).waitFor(WAIT);
    await search.fill('staging certificates');
    await results.getByRole('heading', { name: 'Matches for “staging certificates” (1)' }).waitFor(WAIT);
    await expect(results.locator('li.memory-entry').getAttribute('data-memory-id')).resolves.toBe(summary?.id);
    await expect(page.locator('section[aria-labelledby="memory-summaries"]').count()).resolves.toBe(0);
    await search.fill('certificates nowhere');
    await results.getByText('No memory matches “certificates nowhere”.').waitFor(WAIT);
    // Cleared: the grouped page again.
    await search.fill('');
    await section.waitFor(WAIT);
    await expect(results.count()).resolves.toBe(0);
    await page.close();
  });
});
