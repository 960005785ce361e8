import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const INSTALL_HINT = 'apt-get update && apt-get install -y chromium';

/** Whether the browser tests can run here; they are required (never skipped) when ALTER0_REQUIRE_TOOLS=1. */
export function chromiumAvailability(): { run: boolean; required: boolean } {
  return { run: existsSync(CHROMIUM), required: process.env.ALTER0_REQUIRE_TOOLS === '1' };
}

/** Debian's Chromium, quiet: no first-run, sync or update traffic, so the tests touch nothing but 127.0.0.1. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
