// Approvals in the console, in Debian's Chromium against the real daemon: the fixture agent asks before a tool use
// (`ask-approval TOOL ARG` runs `alter0 approval request` with its run's own token); the top bar counts the waiting
// ones live, the approvals page shows them and answers them, the agent is told the answer, and a task's page lists its
// approvals.
import type { Approval, Job } from '@alter0/api';
import { ALTER0_BIN } from '@alter0/testkit';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { applyApprovalEvent, newerApproval } from '../src/live/approvals.js';
import { browserTests, useBrowserSuite } from './helpers/suite.js';

// Chromium and the daemon share two cores with the rest of the suite: generous, well inside the 90 s test timeout.
const WAIT = { timeout: 30_000 };
const browsers = browserTests();

function approval(id: string, extra: Partial<Approval> = {}): Approval {
  return {
    id,
    job_id: 'j_1',
    attempt: 1,
    task_id: 't_1',
    agent: 'command',
    tool: 'Bash',
    input: { command: 'make' },
    state: 'pending',
    reason: null,
    decided_by: null,
    always: false,
    created_at: '2025-01-01T00:00:00.000Z',
    expires_at: '2025-01-01T00:30:00.000Z',
    decided_at: null,
    waited_ms: null,
    ...extra,
  };
}

describe('approval events applied to a list', () => {
  const allowed = approval('a_1', {
    state: 'allowed',
    decided_by: 'cli',
    decided_at: '2025-01-01T00:01:00.000Z',
    waited_ms: 60_000,
  });

  it('a decided copy always wins over a pending one, whichever comes last', () => {
    expect(newerApproval(approval('a_1'), allowed)).toBe(allowed);
    expect(newerApproval(allowed, approval('a_1'))).toBe(allowed);
  });

  it('adds a new one, replaces a known one, and the pending scope drops decided ones', () => {
    const list = [approval('a_2')];
    expect(applyApprovalEvent(list, approval('a_1'), 'pending').map((a) => a.id)).toEqual(['a_1', 'a_2']);
    expect(applyApprovalEvent([approval('a_1'), ...list], allowed, 'pending').map((a) => a.id)).toEqual(['a_2']);
    expect(applyApprovalEvent([approval('a_1'), ...list], allowed, 'all')).toEqual([allowed, ...list]);
    // A decided one never becomes pending again.
    expect(applyApprovalEvent([allowed], approval('a_1'), 'all')).toEqual([allowed]);
  });
});

describe.skipIf(browsers.skip)('approvals: top bar count and page (Chromium, real daemon)', () => {
  const suite = useBrowserSuite({
    name: 'approvals',
    // The agent's `alter0 approval request` runs the same build as the daemon.
    env: { AGENT_ALTER0_BIN: process.env.ALTER0_BIN ?? ALTER0_BIN },
  });
  const { o } = suite;

  /** `hash` of the console in a fresh page `width` pixels wide (390: a phone), once its live stream is up. */
  async function open(hash: string, width: number): Promise<Page> {
    const page = await suite.newPage(
      width < 500
        ? { viewport: { width, height: 844 }, isMobile: true, hasTouch: true }
        : { viewport: { width, height: 900 } },
    );
    await page.goto(`${suite.daemon.url}/${hash}`);
    await page.locator('[data-live="live"]').waitFor(WAIT);
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

  const pendingOf = (jobId: string): Promise<Approval> =>
    until(`a pending approval of ${jobId}`, async () =>
      (await suite.daemon.client.listApprovals({ state: 'pending', job_id: jobId }, o)).at(0),
    );
  const replyOf = (jobId: string, text: string): Promise<Job> =>
    until(`the reply of ${jobId} to contain ${text}`, async () => {
      const j = await suite.daemon.client.getJob(jobId, o);
      return j.reply?.includes(text) ? j : null;
    });

  const badge = (page: Page) => page.locator('header.topbar a.approvals-badge');
  const card = (page: Page, id: string) => page.locator(`article.approval[data-approval-id="${id}"]`);
  const overflow = (page: Page): Promise<number> =>
    page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

  it('counts a new approval live in the top bar, and Approve on the page lets the agent go on', async () => {
    const page = await open('#/tasks', 1280);
    await badge(page).and(page.locator('[data-count="0"]')).waitFor(WAIT);
    await expect(badge(page).getAttribute('href')).resolves.toBe('#/approvals');
    await page.getByRole('link', { name: '0 approvals waiting', exact: true }).waitFor(WAIT);
    // Marks this document: still there afterwards means the count came without a reload.
    await page.evaluate(() => Object.assign(window, { __sameDocument: true }));

    const { job_id } = await suite.daemon.client.submitJob({ content: 'ask-approval Bash make deploy' }, o);
    const asked = await pendingOf(job_id);
    expect(asked).toMatchObject({ tool: 'Bash', input: { command: 'make deploy' }, agent: 'command' });
    await page.getByRole('link', { name: '1 approval waiting', exact: true }).waitFor(WAIT);
    await expect(badge(page).textContent()).resolves.toBe('1 approval waiting');
    await expect(page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument)).resolves.toBe(true);

    await badge(page).click();
    await page.getByRole('heading', { name: 'Approvals', level: 2 }).waitFor(WAIT);
    expect(new URL(page.url()).hash).toBe('#/approvals');
    await expect(page.getByRole('link', { name: 'Approvals', exact: true }).getAttribute('aria-current')).resolves.toBe(
      'page',
    );
    const pending = page.locator('section[aria-labelledby="approvals-pending"]');
    const c = pending.locator(`article.approval[data-approval-id="${asked.id}"]`);
    await c.waitFor(WAIT);
    await expect(c.getAttribute('data-state')).resolves.toBe('pending');
    await expect(c.locator('.approval-tool').first().innerText()).resolves.toBe('Bash');
    // The input, pretty-printed.
    await expect(c.locator('pre.approval-input').textContent()).resolves.toBe(
      JSON.stringify({ command: 'make deploy' }, null, 2),
    );
    await expect(c.textContent()).resolves.toContain(job_id);
    await expect(c.textContent()).resolves.toContain('command');
    // The job's task (routed before it ran) is linked.
    expect(asked.task_id).toBeTruthy();
    await expect(c.getByRole('link', { name: `task ${asked.task_id}` }).getAttribute('href')).resolves.toBe(
      `#/tasks/${asked.task_id}`,
    );
    await expect(c.locator('time').first().getAttribute('datetime')).resolves.toBe(asked.created_at);
    await expect(c.locator('.approval-times').textContent()).resolves.toMatch(/^asked .+ · expires .+$/);
    await c.getByRole('button', { name: 'Always allow for this task' }).waitFor(WAIT);
    await c.getByRole('button', { name: 'Deny' }).waitFor(WAIT);

    await c.getByRole('button', { name: 'Approve', exact: true }).click();
    const decided = page.locator(
      `section[aria-labelledby="approvals-decided"] article.approval[data-approval-id="${asked.id}"]`,
    );
    await decided.and(page.locator('[data-state="allowed"]')).waitFor(WAIT);
    await expect(card(page, asked.id).count()).resolves.toBe(1);
    await expect(decided.locator('.badge').textContent()).resolves.toBe('allowed');
    await expect(decided.locator('.decided-by').textContent()).resolves.toBe('console');
    await expect(decided.locator('.approval-times').textContent()).resolves.toMatch(/allowed by console .* waited /);
    await expect(decided.getByRole('button').count()).resolves.toBe(0);
    await page.locator('section[aria-labelledby="approvals-pending"] .empty').waitFor(WAIT);
    await page.getByRole('link', { name: '0 approvals waiting', exact: true }).waitFor(WAIT);

    // The daemon recorded the answer as the console's (x-alter0-channel), and the agent was told.
    await expect(suite.daemon.client.getApproval(asked.id, {}, o)).resolves.toMatchObject({
      state: 'allowed',
      decided_by: 'console',
      always: false,
    });
    expect((await replyOf(job_id, 'approval(0): allowed')).reply).toContain('approval(0): allowed');
    await page.close();
  });

  it('on a phone: denies with a reason typed on the keyboard, the agent is told it, nothing overflows', async () => {
    const page = await open('#/approvals', 390);
    await page.getByRole('heading', { name: 'Approvals', level: 2 }).waitFor(WAIT);
    // A long argument with no place to break: the input box must wrap or scroll inside itself.
    const arg = `deploy --target=${'x'.repeat(300)}`;
    const { job_id } = await suite.daemon.client.submitJob({ content: `ask-approval Bash ${arg}` }, o);
    const asked = await pendingOf(job_id);
    const c = page.locator(
      `section[aria-labelledby="approvals-pending"] article.approval[data-approval-id="${asked.id}"]`,
    );
    await c.waitFor(WAIT);
    await page.getByRole('link', { name: '1 approval waiting', exact: true }).waitFor(WAIT);
    await expect(c.locator('pre.approval-input').textContent()).resolves.toContain(arg);
    expect(await overflow(page)).toBeLessThanOrEqual(0);

    // Keyboard only: the reason field by its label, Enter submits the deny form.
    const reason = c.getByLabel('Reason for denying (optional)');
    await reason.focus();
    await page.keyboard.type('not on a Friday');
    await page.keyboard.press('Enter');
    const decided = page.locator(
      `section[aria-labelledby="approvals-decided"] article.approval[data-approval-id="${asked.id}"]`,
    );
    await decided.and(page.locator('[data-state="denied"]')).waitFor(WAIT);
    await expect(decided.locator('.decided-by').textContent()).resolves.toBe('console');
    await expect(decided.locator('.approval-reason .reason-text').textContent()).resolves.toBe('not on a Friday');
    await page.getByRole('link', { name: '0 approvals waiting', exact: true }).waitFor(WAIT);
    await expect(suite.daemon.client.getApproval(asked.id, {}, o)).resolves.toMatchObject({
      state: 'denied',
      decided_by: 'console',
      reason: 'not on a Friday',
    });
    expect((await replyOf(job_id, 'approval(1): denied: not on a Friday')).reply).toContain(
      'approval(1): denied: not on a Friday',
    );
    // Decided ones (with the earlier test's) and the long input stay inside the screen.
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.close();
  });

  it('moves an approval answered elsewhere (the API) to the decided list without a reload', async () => {
    const page = await open('#/approvals', 1280);
    await page.getByRole('heading', { name: 'Approvals', level: 2 }).waitFor(WAIT);
    await page.evaluate(() => Object.assign(window, { __sameDocument: true }));
    const { job_id } = await suite.daemon.client.submitJob({ content: 'ask-approval Bash git push --force' }, o);
    const asked = await pendingOf(job_id);
    await page
      .locator(`section[aria-labelledby="approvals-pending"] article.approval[data-approval-id="${asked.id}"]`)
      .waitFor(WAIT);
    await page.getByRole('link', { name: '1 approval waiting', exact: true }).waitFor(WAIT);

    await suite.daemon.client.denyApproval(asked.id, { reason: 'decided from elsewhere' }, o);
    const decided = page.locator(
      `section[aria-labelledby="approvals-decided"] article.approval[data-approval-id="${asked.id}"][data-state="denied"]`,
    );
    await decided.waitFor(WAIT);
    await expect(decided.locator('.decided-by').textContent()).resolves.toBe('api');
    await expect(card(page, asked.id).count()).resolves.toBe(1);
    await page.getByRole('link', { name: '0 approvals waiting', exact: true }).waitFor(WAIT);
    await expect(page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument)).resolves.toBe(true);
    expect((await replyOf(job_id, 'approval(1): denied: decided from elsewhere')).reply).toBeTruthy();
    await page.close();
  });
  it("a task's page lists its approvals (tool, argument, state, who answered, how long it waited), live, on a phone", async () => {
    const { job_id } = await suite.daemon.client.submitJob({ content: 'ask-approval Bash make release' }, o);
    const asked = await pendingOf(job_id);
    const taskId = asked.task_id;
    if (!taskId) throw new Error(`approval ${asked.id} has no task`);
    await suite.daemon.client.allowApproval(asked.id, { always: true }, o);
    await replyOf(job_id, 'approval(0): allowed');

    // Opened once the approval was answered.
    const page = await open(`#/tasks/${taskId}`, 390);
    const section = page.locator('section.task-view section[aria-labelledby="task-approvals-title"]');
    await section.getByRole('heading', { name: 'Approvals', level: 3 }).waitFor(WAIT);
    const row = (id: string) => section.locator(`li.task-approval[data-approval-id="${id}"]`);
    const allowed = row(asked.id);
    await expect(allowed.getAttribute('data-state')).resolves.toBe('allowed');
    await expect(allowed.locator('.approval-tool').textContent()).resolves.toBe('Bash');
    await expect(allowed.locator('.approval-arg').textContent()).resolves.toBe('make release');
    await expect(allowed.locator('.badge').textContent()).resolves.toBe('allowed');
    await expect(allowed.locator('.decided-by').textContent()).resolves.toBe('api');
    await expect(allowed.locator('.task-approval-outcome').textContent()).resolves.toMatch(
      /^allowed by api after [\d.]+ m?s · always for this task · job j_/,
    );
    await expect(allowed.getByRole('link').count()).resolves.toBe(0);
    expect(await overflow(page)).toBeLessThanOrEqual(0);

    // A reply into the task asks again: no job event tells of it, the approval event does. Newest on top, linked to
    // the approvals page while it waits; a long argument is cut short (all of it in the title) and wraps.
    await page.evaluate(() => Object.assign(window, { __sameDocument: true }));
    const arg = `deploy --target=${'y'.repeat(300)}`;
    const second = await suite.daemon.client.submitJob({ content: `ask-approval Bash ${arg}`, task_id: taskId }, o);
    const again = await pendingOf(second.job_id);
    expect(again.task_id).toBe(taskId);
    const waiting = row(again.id);
    await waiting.and(page.locator('[data-state="pending"]')).waitFor(WAIT);
    await expect(section.locator('li.task-approval').first().getAttribute('data-approval-id')).resolves.toBe(again.id);
    await expect(waiting.locator('.badge').textContent()).resolves.toBe('pending');
    await expect(
      waiting.getByRole('link', { name: 'answer it on the approvals page' }).getAttribute('href'),
    ).resolves.toBe('#/approvals');
    await expect(waiting.locator('.approval-arg').getAttribute('title')).resolves.toBe(arg);
    await expect(waiting.locator('.approval-arg').textContent()).resolves.toMatch(/^deploy --target=y+…$/);
    expect(await overflow(page)).toBeLessThanOrEqual(0);

    await suite.daemon.client.denyApproval(again.id, { reason: 'not today' }, o);
    await waiting.and(page.locator('[data-state="denied"]')).waitFor(WAIT);
    await expect(waiting.locator('.decided-by').textContent()).resolves.toBe('api');
    await expect(waiting.locator('.reason-text').textContent()).resolves.toBe('not today');
    await expect(waiting.getByRole('link').count()).resolves.toBe(0);
    await expect(section.locator('li.task-approval').count()).resolves.toBe(2);
    await expect(page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument)).resolves.toBe(true);
    expect((await replyOf(second.job_id, 'approval(1): denied: not today')).reply).toBeTruthy();
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.close();
  });

  it('an answer that comes too late shows the daemon refusal (409) on the card, which is decided already', async () => {
    const page = await open('#/approvals', 1280);
    const { job_id } = await suite.daemon.client.submitJob({ content: 'ask-approval Bash npm publish' }, o);
    const asked = await pendingOf(job_id);
    const c = page.locator(
      `section[aria-labelledby="approvals-pending"] article.approval[data-approval-id="${asked.id}"]`,
    );
    await c.waitFor(WAIT);
    // Someone answers elsewhere just before the console's answer reaches the daemon.
    const sent: Record<string, string>[] = [];
    await page.route('**/api/approvals/*/allow', async (route) => {
      sent.push(route.request().headers());
      await suite.daemon.client.denyApproval(asked.id, { reason: 'too late' }, o);
      await route.continue();
    });
    await c.getByRole('button', { name: 'Always allow for this task' }).click();
    const decided = page.locator(
      `section[aria-labelledby="approvals-decided"] article.approval[data-approval-id="${asked.id}"][data-state="denied"]`,
    );
    await decided.waitFor(WAIT);
    const alert = decided.getByRole('alert');
    await alert.waitFor(WAIT);
    await expect(alert.textContent()).resolves.toMatch(/already denied \(api\)/);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.['x-alter0-channel']).toBe('console');
    await expect(suite.daemon.client.getApproval(asked.id, {}, o)).resolves.toMatchObject({
      state: 'denied',
      decided_by: 'api',
      always: false,
    });
    expect((await replyOf(job_id, 'approval(1): denied: too late')).reply).toBeTruthy();
    await page.close();
  });
});
