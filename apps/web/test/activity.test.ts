// The activity page and usage in the console, in Debian's Chromium against the real daemon, at 1400×900 and on a
// phone (390×844): jobs of every outcome run by the fixture agent and rolled up (every second here) are drawn by uPlot
// (a canvas of non-zero size, a legend with the counts, the counts in words in the figure's caption), 7 d and 30 d
// redraw, the usage tables, the top bar's Refresh, light and dark, no sideways scroll and nothing serious for axe;
// before the first rollup the page says so instead of drawing empty axes. Then one claude job (the real pinned CLI
// against the fake Anthropic server, which reports tokens and a cost): its task view and job card show them.
import type { Job, StatsReport } from '@alter0/api';
import {
  claudeDaemonOptions,
  cliPath,
  makeTempHome,
  missingCliMessage,
  reply as say,
  startAnthropicFake,
} from '@alter0/fakes';
import type { ModelFake, TempHome } from '@alter0/fakes';
import { startDaemon as startServe, until } from '@alter0/testkit';
import type { Daemon as Served } from '@alter0/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatLatency } from '../src/ui/chart-model.js';
import { parseHash } from '../src/ui/use-hash-route.js';
import { costText, formatUsd } from '../src/ui/usage.js';
import { chartsOf } from '../src/views/activity-model.js';
import { ensureAssets } from './helpers/assets.js';
import { seriousViolations } from './helpers/axe.js';
import { launchChromium } from './helpers/browser.js';
import { browserTests, useBrowserSuite } from './helpers/suite.js';

// Chromium and the daemon share two cores with the rest of the suite.
const WAIT = { timeout: 30_000 };
const DESKTOP = { width: 1400, height: 900 };
const PHONE = { width: 390, height: 844 };
const TERMINAL = ['succeeded', 'failed', 'canceled'];
const RUN = { succeeded: 3, failed: 2, canceled: 1 };
const browsers = browserTests();

const figures = {
  jobs: { succeeded: 0, failed: 0, canceled: 0 },
  latency_ms: {
    queue_wait: { p50: null, p95: null },
    route: { p50: null, p95: null },
    execute: { p50: null, p95: null },
    close: { p50: null, p95: null },
  },
  queue_depth: { max: null, avg: null },
  model_calls: { route: 0, close: 0, agent: 0 },
  tokens: { input: 0, output: 0 },
  cost_usd: null,
} satisfies StatsReport['totals'];

/** A report of `n` hourly buckets, all quiet but the last (2 succeeded, 1 failed, execute p50 1.5 s). */
function report(n: number): StatsReport {
  const start = Date.parse('2026-03-01T00:00:00.000Z');
  const last = {
    ...figures,
    jobs: { succeeded: 2, failed: 1, canceled: 0 },
    latency_ms: { ...figures.latency_ms, execute: { p50: 1_500, p95: 4_000 } },
    queue_depth: { max: 2, avg: 0.25 },
  };
  const buckets = Array.from({ length: n }, (_, i) => ({
    start: new Date(start + i * 3_600_000).toISOString(),
    ...(i === n - 1 ? last : figures),
  }));
  return {
    range: '24h',
    bucket: '1h',
    from: buckets[0]?.start ?? '',
    to: new Date(start + n * 3_600_000).toISOString(),
    rolled_up_at: buckets.at(-1)?.start ?? null,
    buckets,
    totals: last,
  };
}

describe('activity helpers', () => {
  it('routes #/activity', () => {
    expect(parseHash('#/activity')).toEqual({ page: 'activity' });
  });

  it('writes costs and latencies as people read them', () => {
    expect(formatUsd(0.012345)).toBe('$0.0123');
    expect(formatUsd(null)).toBe('n/a');
    expect(costText({ jobs: 2, cost_usd: null, jobs_with_cost: 0 })).toBe('no cost reported');
    expect(costText({ jobs: 2, cost_usd: 0.5, jobs_with_cost: 2 })).toBe('$0.5000');
    expect(costText({ jobs: 5, cost_usd: 0.5, jobs_with_cost: 2 })).toBe(
      'at least $0.5000 (2 of 5 jobs reported a cost)',
    );
    expect([850, 1_500, 12_400, 150_000].map(formatLatency)).toEqual(['850 ms', '1.5 s', '12 s', '2.5 min']);
  });

  it('makes five charts of a report, in words too, and says which have nothing to draw', () => {
    const charts = chartsOf(report(24));
    expect(charts.map((c) => c.id)).toEqual(['jobs', 'latency', 'queue', 'calls', 'cost']);
    const [jobs, latency, queue, calls, cost] = charts;
    expect(jobs?.summary).toBe('3 jobs ended in the last 24 h: 2 succeeded, 1 failed, 0 canceled.');
    expect(jobs?.x).toHaveLength(24);
    expect(jobs?.series.map((s) => [s.key, s.total, s.values.at(-1)])).toEqual([
      ['succeeded', 2, 2],
      ['failed', 1, 1],
      ['canceled', 0, 0],
    ]);
    expect(latency?.summary).toContain('execute 1.5 s / 4.0 s');
    expect(latency?.axes[0].log).toBe(true);
    expect(queue?.summary).toBe('Queued jobs over the last 24 h: at most 2, on average 0.3.');
    expect([jobs?.empty, latency?.empty, queue?.empty]).toEqual([null, null, null]);
    expect(calls?.empty).toBe('No model call in the last 24 h.');
    expect(cost?.empty).toBe('No tokens or cost reported in the last 24 h.');
  });
});

describe.skipIf(browsers.skip)('activity page (Chromium, real daemon)', () => {
  const suite = useBrowserSuite({
    name: 'activity',
    // The rollup every second: the charts have the jobs at once. One attempt: a failure is final.
    env: { ALTER0_STATS__ROLLUP_EVERY: '1s', ALTER0_QUEUE__MAX_ATTEMPTS: '1' },
  });
  const { o } = suite;

  beforeAll(async () => {
    await runJobs();
  });

  /** 3 jobs succeed, 2 fail ([[fail]]), 1 is canceled while it runs ([[hang]]); then the rollup has seen them all. */
  async function runJobs(): Promise<void> {
    const { daemon } = suite;
    const ids: string[] = [];
    for (let i = 0; i < RUN.succeeded; i++) ids.push((await daemon.client.submitJob({ content: `ok ${i}` }, o)).job_id);
    for (let i = 0; i < RUN.failed; i++)
      ids.push((await daemon.client.submitJob({ content: `bad ${i} [[fail]]` }, o)).job_id);
    const hang = (await daemon.client.submitJob({ content: 'wait [[hang]]' }, o)).job_id;
    ids.push(hang);
    await until(async () => (await daemon.client.getJob(hang, o)).stage === 'execute', {
      timeoutMs: 30_000,
      what: 'the hanging job to run',
    });
    await daemon.client.cancelJob(hang, o);
    await until(async () => (await Promise.all(ids.map((id) => daemon.client.getJob(id, o)))).every(ended), {
      timeoutMs: 30_000,
      what: 'every job to end',
    });
    await until(
      async () => {
        const t = (await daemon.client.stats('24h', o)).totals.jobs;
        return t.succeeded === RUN.succeeded && t.failed === RUN.failed && t.canceled === RUN.canceled;
      },
      { timeoutMs: 30_000, what: 'the rollup to count the jobs' },
    );
  }
  const ended = (j: Job): boolean => TERMINAL.includes(j.state);

  /** The activity page in a fresh page of `size`, once its jobs chart is drawn. */
  async function open(size: { width: number; height: number }, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const phone = size.width < 500;
    const page = await suite.newPage({
      viewport: size,
      colorScheme,
      ...(phone ? { isMobile: true, hasTouch: true } : {}),
    });
    await page.goto(`${suite.daemon.url}/#/activity`);
    await page.getByRole('heading', { name: 'Activity', level: 2 }).waitFor(WAIT);
    await drawn(page, 24);
    return page;
  }

  const chart = (page: Page, id: string) => page.locator(`figure.chart[data-chart="${id}"]`);
  const overflow = (page: Page): Promise<number> =>
    page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

  /** Waits for the jobs chart of `buckets` buckets to be drawn on its canvas; its size on the page. */
  async function drawn(page: Page, buckets: number): Promise<{ x: number; width: number; height: number }> {
    const fig = chart(page, 'jobs');
    await page
      .locator(`figure.chart[data-chart="jobs"][data-buckets="${buckets}"] .chart-canvas[data-draws]`)
      .waitFor(WAIT);
    const box = await fig.locator('canvas').first().boundingBox();
    if (!box) throw new Error('the jobs chart has no canvas on the page');
    return box;
  }

  /** What the jobs chart says: its caption, and each legend entry's value. */
  async function jobsChartWords(page: Page): Promise<{ caption: string; legend: Record<string, string> }> {
    const fig = chart(page, 'jobs');
    const legend: Record<string, string> = {};
    for (const k of Object.keys(RUN))
      legend[k] = (await fig.locator(`.chart-legend li[data-series="${k}"] .series-value`).textContent()) ?? '';
    return { caption: (await fig.locator('figcaption').textContent()) ?? '', legend };
  }

  const counts = `${RUN.succeeded} succeeded, ${RUN.failed} failed, ${RUN.canceled} canceled`;
  const legendCounts = Object.fromEntries(Object.entries(RUN).map(([k, v]) => [k, String(v)]));

  it('draws the jobs of every outcome, redraws for 7 d and 30 d, and refreshes', async () => {
    const page = await open(DESKTOP);
    const box = await drawn(page, 24);
    expect(box.width).toBeGreaterThan(300);
    expect(box.height).toBeGreaterThan(100);
    await expect(jobsChartWords(page)).resolves.toEqual({
      caption: expect.stringContaining(counts),
      legend: legendCounts,
    });
    await expect(chart(page, 'jobs').getByRole('img').getAttribute('aria-label')).resolves.toContain(counts);
    // Pointing at a bucket shows its figures in the legend.
    const at = chart(page, 'jobs').locator('.chart-legend-at');
    await expect(at.textContent()).resolves.toBe('Totals, last 24 h');
    const over = chart(page, 'jobs').locator('.u-over');
    const o2 = await over.boundingBox();
    if (o2) await page.mouse.move(o2.x + o2.width - 3, o2.y + o2.height / 2);
    await page.waitForFunction(
      () => !document.querySelector('[data-chart="jobs"] .chart-legend-at')?.textContent?.startsWith('Totals'),
    );
    await page.mouse.move(0, 0);

    // The range is a radio group: the arrow keys move it.
    await page.getByRole('radio', { name: '24 h' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.getByRole('radio', { name: '7 d' }).isChecked()).resolves.toBe(true);
    expect((await drawn(page, 28)).width).toBeGreaterThan(300);
    await expect(jobsChartWords(page)).resolves.toEqual({
      caption: expect.stringContaining(`last 7 days: ${counts}`),
      legend: legendCounts,
    });
    await page.getByText('30 d', { exact: true }).click();
    expect((await drawn(page, 30)).width).toBeGreaterThan(300);
    await expect(jobsChartWords(page)).resolves.toMatchObject({ legend: legendCounts });
    for (const id of ['latency', 'queue', 'calls'])
      await chart(page, id).locator('.chart-canvas[data-draws] canvas').waitFor(WAIT);

    // The top bar's Refresh reads the history again.
    const again = page.waitForRequest((r) => r.url().includes('/api/stats?range=30d'), WAIT);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await again;

    await expectUsageTables(page);
    expect(await overflow(page)).toBe(0);
    await expect(seriousViolations(page)).resolves.toEqual([]);
    await page.close();
  });

  /** Usage by day: today's row has every job; by task: one row per task, each linked to it. */
  async function expectUsageTables(page: Page): Promise<void> {
    const today = new Date().toISOString().slice(0, 10);
    const total = RUN.succeeded + RUN.failed + RUN.canceled;
    const day = page.locator(`table[data-usage="day"] tr[data-key="${today}"]`);
    await day.waitFor(WAIT);
    await expect(day.locator('td').first().textContent()).resolves.toBe(String(total));
    await expect(day.locator('td').last().textContent()).resolves.toBe('n/a');
    const tasks = page.locator('table[data-usage="task"] tbody tr');
    await expect(tasks.count()).resolves.toBe(total);
    const first = tasks.first().locator('a.task-link');
    await expect(first.getAttribute('href')).resolves.toMatch(/^#\/tasks\/t_/);
  }

  it('fits a phone in the dark, follows the scheme, and keeps its tables in their boxes', async () => {
    const page = await open(PHONE, 'dark');
    const box = await drawn(page, 24);
    expect(box.width).toBeGreaterThan(200);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    await expect(jobsChartWords(page)).resolves.toEqual({
      caption: expect.stringContaining(counts),
      legend: legendCounts,
    });
    const canvas = chart(page, 'jobs').locator('.chart-canvas');
    await expect(canvas.getAttribute('data-scheme')).resolves.toBe('dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.locator('[data-chart="jobs"] .chart-canvas[data-scheme="light"][data-draws]').waitFor(WAIT);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.locator('[data-chart="jobs"] .chart-canvas[data-scheme="dark"][data-draws]').waitFor(WAIT);

    // A chart's figures as a table: open, wider than the phone, it scrolls inside its own box.
    const details = chart(page, 'latency').locator('details');
    await details.locator('summary').click();
    await expect(details.locator('tbody tr').count()).resolves.toBe(24);
    await expectUsageTables(page);
    expect(await overflow(page)).toBe(0);
    await page.getByRole('radio', { name: '7 d' }).check();
    await drawn(page, 28);
    expect(await overflow(page)).toBe(0);
    await expect(seriousViolations(page)).resolves.toEqual([]);
    await page.close();
  });

  it('says there is no history yet before the first rollup, instead of empty axes', async () => {
    const page = await suite.newPage({ viewport: DESKTOP });
    // The daemon's own answer, as it is before any rollup: no history, no time of one.
    await page.route('**/api/stats?**', async (route) => {
      const res = await route.fetch();
      const real = (await res.json()) as StatsReport;
      const none = {
        ...real,
        rolled_up_at: null,
        totals: figures,
        buckets: real.buckets.map((b) => ({ ...b, ...figures })),
      };
      await route.fulfill({ response: res, json: none });
    });
    await page.goto(`${suite.daemon.url}/#/activity`);
    await page.getByText('No history yet — the rollup runs every 1 s.').waitFor(WAIT);
    await expect(page.locator('figure.chart').count()).resolves.toBe(0);
    await expect(page.locator('canvas').count()).resolves.toBe(0);
    await expect(seriousViolations(page)).resolves.toEqual([]);
    await page.close();
  });
});

const claude = cliPath('claude');
const claudeRequired = process.env.ALTER0_REQUIRE_TOOLS === '1';
if (claude === null && !claudeRequired)
  console.warn(`skipping the console's claude usage test: ${missingCliMessage('claude')}`);

describe.skipIf((!browsers.available || claude === null) && !claudeRequired)(
  "a claude job's usage in the console (the real claude CLI against the fake Anthropic server)",
  () => {
    let tmp: TempHome;
    let fake: ModelFake;
    let d: Served;
    let browser: Browser;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      if (claude === null) throw new Error(`${missingCliMessage('claude')} (ALTER0_REQUIRE_TOOLS=1)`);
      browsers.requireChromium();
      await ensureAssets(AbortSignal.timeout(120_000));
      tmp = await makeTempHome('alter0-web-usage-claude-');
      fake = await startAnthropicFake();
      d = await startServe({ ...claudeDaemonOptions({ bin: claude, baseUrl: fake.url, tmp }), startTimeoutMs: 40_000 });
      browser = await launchChromium();
    }, 90_000);

    afterEach(() => {
      expect(pageErrors.splice(0), 'uncaught errors in the page').toEqual([]);
    });

    afterAll(async () => {
      await browser?.close();
      await d?.stop('SIGTERM', 10_000);
      await d?.cleanup();
      await fake?.close();
      await tmp?.remove();
    }, 30_000);

    it('shows the tokens and the cost claude reported on the task view and the job card', async () => {
      fake.script([
        say('PELICAN noted'),
        say(JSON.stringify({ close: false, confidence: 0.2, reason: 'more to come' })),
      ]);
      const r = await d.client.sendMessage({ content: 'Remember the word PELICAN.' });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const job = await until(
        async () => {
          const j = await d.client.getJob(r.body.job_id);
          return TERMINAL.includes(j.state) ? j : null;
        },
        { timeoutMs: 30_000, what: 'the job to end' },
      );
      const usage = job.usage;
      expect(usage?.costUsd).toBeGreaterThan(0);
      const cost = `$${(usage?.costUsd ?? 0).toFixed(4)}`;
      const tokensIn = (usage?.inputTokens ?? 0).toLocaleString('en-US');
      const tokensOut = (usage?.outputTokens ?? 0).toLocaleString('en-US');

      for (const size of [DESKTOP, PHONE]) {
        const context = await browser.newContext({ viewport: size, locale: 'en-US' });
        const page = await context.newPage();
        page.on('pageerror', (e) => pageErrors.push(e.message));
        await page.goto(`${d.url}/#/tasks/${job.task_id ?? ''}`);
        const line = page.locator('.task-view .usage-line');
        await line.waitFor(WAIT);
        expect(Number(await line.getAttribute('data-cost-usd'))).toBeGreaterThan(0);
        await expect(line.textContent()).resolves.toBe(
          `Usage 1 job · ${tokensIn} tokens in · ${tokensOut} tokens out · ${cost}`,
        );
        const card = page.locator(`.task-view .job[data-job-id="${job.id}"] .job-usage`);
        await expect(card.textContent()).resolves.toBe(`tokens ${tokensIn} in · ${tokensOut} out · ${cost}`);
        expect(
          await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
        ).toBe(0);

        // The activity page's usage by task has it, with its cost, linked to the task.
        await page.goto(`${d.url}/#/activity`);
        const row = page.locator(`table[data-usage="task"] tr[data-key="${job.task_id ?? ''}"]`);
        await row.waitFor(WAIT);
        await expect(row.locator('td').last().textContent()).resolves.toBe(cost);
        await expect(seriousViolations(page)).resolves.toEqual([]);
        await context.close();
      }
    }, 90_000);
  },
);
