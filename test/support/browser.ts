import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Real Chromium for browser tests, driven by playwright-core (which ships no browser of its own): the one
 * `CHROMIUM_PATH` names, which `npm test` sets to the Chromium it found or installed
 * (scripts/provision-chromium.ts). A missing browser fails the suite with how to get one: a browser test is
 * never skipped silently.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const screenshotDir = join(root, 'test-artifacts', 'screenshots');

export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `No Chromium at ${path}${process.env.CHROMIUM_PATH ? ' (from CHROMIUM_PATH)' : ''}. The browser tests need a real Chromium: ` +
        "run the suite through `npm test` (it finds a Chromium on PATH or, as root on Debian/Ubuntu, installs Debian's), " +
        'install one (`sudo apt-get install chromium fonts-liberation`), or set CHROMIUM_PATH to a Chromium binary.',
    );
  }
  return path;
}

export async function launchChromium(): Promise<Browser> {
  const runningAsRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Chromium's sandbox refuses to start as root (CI runs as root); as any other user it stays on.
    args: runningAsRoot ? ['--no-sandbox'] : [],
  });
}

/**
 * One person's browser (its own cookies), with a screenshot helper that writes
 * `test-artifacts/screenshots/<test>-<step>.png`.
 */
export class BrowserUser {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly #test: string;
  #shot = 0;

  private constructor(context: BrowserContext, page: Page, test: string) {
    this.context = context;
    this.page = page;
    this.#test = test;
  }

  static async open(browser: Browser, test: string): Promise<BrowserUser> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return new BrowserUser(context, page, test);
  }

  /** Saves a full-page screenshot named after the test and the step; returns its path. */
  async screenshot(step: string): Promise<string> {
    mkdirSync(screenshotDir, { recursive: true });
    this.#shot += 1;
    const safe = (text: string) =>
      text
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '');
    const path = join(screenshotDir, `${safe(this.#test)}-${String(this.#shot).padStart(2, '0')}-${safe(step)}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
