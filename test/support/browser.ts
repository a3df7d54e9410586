// A real headless Chromium (Debian's `chromium`, installed by
// scripts/prepare-env.ts) driven over the DevTools protocol by puppeteer-core.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join('test-results', 'dashboard');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: npm test installs Debian's chromium (scripts/prepare-env.ts)`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    // Root in a container: Chromium's sandbox needs user namespaces it may not get.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    headless: true,
    defaultViewport: { width: 1280, height: 800 },
  });
}

/** The text of the first element matching `selector`, or '' when there is none. */
export async function textOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => el.textContent ?? '').catch(() => '');
}

/** Waits until `selector`'s text matches (the page updates itself from its stream). */
export async function waitForText(
  page: Page,
  selector: string,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await textOf(page, selector)).replace(/\s+/g, ' ').trim();
    if (pattern.test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${selector} to match ${pattern}; last: "${last}"`,
  );
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
