import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const INSTALL_HINT = 'apt-get update && apt-get install -y chromium';

/** Whether the browser tests can run here; they are required (never skipped) when ALTER0_REQUIRE_TOOLS=1. */
export function chromiumAvailability(): { run: boolean; required: boolean } {
  return { run: existsSync(CHROMIUM), required: process.env.ALTER0_REQUIRE_TOOLS === '1' };
}

/** Switches for a quiet Chromium: no first-run, sync or update traffic, so the tests touch nothing but 127.0.0.1. */
const QUIET = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Debian's Chromium, quiet. Its contexts are incognito-like profiles.
 * `extraArgs`: more switches, e.g. a --host-resolver-rules that gives 127.0.0.1 a LAN-like name.
 */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...QUIET, ...extraArgs] });
}

/** Debian's Chromium, quiet, with a real profile in `userDataDir` (what installing a web app needs). */
export function launchChromiumProfile(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: QUIET,
    viewport: { width: 1280, height: 900 },
  });
}
