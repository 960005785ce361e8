import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { ensureAssets } from './assets.js';
import { CHROMIUM, INSTALL_HINT, chromiumAvailability, launchChromium } from './browser.js';
import { startDaemon, type Daemon, type DaemonOptions } from './daemon.js';

const AGENT = fileURLToPath(new URL('../fixtures/agent.mjs', import.meta.url));

/** Whether a test file's browser suites run here, decided once at the top of the file. */
export interface BrowserTests {
  /** Chromium is missing and not required: `describe.skipIf(browsers.skip)`. */
  skip: boolean;
  /** Chromium is installed. */
  available: boolean;
  /** In a beforeAll: throws when ALTER0_REQUIRE_TOOLS=1 requires the browser tests and Chromium is missing. */
  requireChromium(): void;
}

/**
 * The skip decision for a file's browser suites. They run where Chromium is installed, and always under
 * ALTER0_REQUIRE_TOOLS=1 (CI), where a missing Chromium fails them instead; skipped, they say why, once.
 */
export function browserTests(): BrowserTests {
  const tools = chromiumAvailability();
  const skip = !tools.run && !tools.required;
  if (skip)
    console.warn(`[@alter0/web] browser tests skipped: ${CHROMIUM} is missing. Install it with: ${INSTALL_HINT}`);
  return { skip, available: tools.run, requireChromium };
}

function requireChromium(): void {
  if (!chromiumAvailability().run)
    throw new Error(
      `${CHROMIUM} is missing and ALTER0_REQUIRE_TOOLS=1 requires the browser tests. Install it with: ${INSTALL_HINT}`,
    );
}

export interface BrowserSuiteOptions {
  /** The temp dir is alter0-web-<name>-XXXXXX. */
  name: string;
  /** The daemon's extra environment (settings such as ALTER0_STATS__ROLLUP_EVERY). */
  env?: DaemonOptions['env'];
  /** More `alter0 serve` arguments, e.g. ['--set', 'key=value']. */
  extraArgs?: DaemonOptions['extraArgs'];
  /** More Chromium switches, e.g. a --host-resolver-rules. */
  chromiumArgs?: readonly string[];
}

/** What a suite's tests use; the getters throw until the fixture's beforeAll has run. */
export interface BrowserSuite {
  readonly daemon: Daemon;
  readonly browser: Browser;
  /** The suite's temp dir (the daemon's data and the fixture agent's state are inside), removed after the suite. */
  readonly tmp: string;
  /** Options for API calls: aborted when the suite ends, so nothing outlives it. */
  readonly o: { signal: AbortSignal };
  /** The fixture agent's command, for another daemon of the suite's own. */
  readonly command: readonly string[];
  /** Records the page's uncaught errors and what the Content-Security-Policy blocked: each fails the test. */
  watch(page: Page): Page;
  /** A fresh page in a browser context of its own (closed with the page), watched. */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** A list of the suite's own that must stay empty: after each test, anything in it fails the test with `message`. */
  mustStayEmpty(message: string): string[];
}

/**
 * The fixture of a browser suite, called inside its describe: before all, the real daemon (the fixture agent through
 * the command executor, in a temp dir) and a quiet Chromium; after each test, the daemon's log on a failure, and no
 * uncaught error in any watched page; after all, both stopped and the temp dir removed. A suite's own setup is a
 * beforeAll registered after this call (hooks run in registration order).
 */
export function useBrowserSuite(opts: BrowserSuiteOptions): BrowserSuite {
  const ac = new AbortController();
  const o = { signal: ac.signal };
  let tmp = '';
  let browser: Browser | undefined;
  let daemon: Daemon | undefined;
  /** The fixture agent, its state dir in the suite's temp dir. */
  const command = (dir: string): string[] => ['node', AGENT, join(dir, 'agent-state')];
  /** Each list and the message it fails with, checked in this order. */
  const empty: { list: string[]; message: string }[] = [];
  const mustStayEmpty = (message: string): string[] => {
    const list: string[] = [];
    empty.push({ list, message });
    return list;
  };
  const pageErrors = mustStayEmpty('uncaught errors in the page');
  const cspViolations = mustStayEmpty('what the Content-Security-Policy blocked');

  beforeAll(async () => {
    requireChromium();
    tmp = mkdtempSync(join(tmpdir(), `alter0-web-${opts.name}-`));
    mkdirSync(join(tmp, 'agent-state'));
    await ensureAssets(ac.signal);
    daemon = await startDaemon({
      dataDir: join(tmp, 'data'),
      command: command(tmp),
      env: opts.env,
      extraArgs: opts.extraArgs,
      signal: ac.signal,
    });
    browser = await launchChromium(opts.chromiumArgs);
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail')
      console.error(`--- daemon log (tail) ---\n${daemon?.log().slice(-4000) ?? '(not started)'}`);
    for (const { list, message } of empty) expect(list.splice(0), message).toEqual([]);
  });

  afterAll(async () => {
    ac.abort();
    await daemon?.stop().catch((e: unknown) => console.error('stop failed:', e));
    await browser?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const started = <T>(what: string, value: T | undefined): T => {
    if (value === undefined)
      throw new Error(`the suite's ${what} is not there: useBrowserSuite's beforeAll has not run or failed`);
    return value;
  };
  const watch = (page: Page): Page => {
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    return page;
  };

  return {
    get daemon() {
      return started('daemon', daemon);
    },
    get browser() {
      return started('browser', browser);
    },
    get tmp() {
      return started('temp dir', tmp || undefined);
    },
    o,
    get command() {
      return command(started('temp dir', tmp || undefined));
    },
    watch,
    async newPage(options) {
      const context = await started('browser', browser).newContext(options);
      const page = watch(await context.newPage());
      page.on('close', () => void context.close());
      return page;
    },
    mustStayEmpty,
  };
}
