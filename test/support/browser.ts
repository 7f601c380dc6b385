import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Real Chromium for browser tests: Debian's `chromium` package driven by playwright-core (which ships
 * no browser of its own). `CHROMIUM_PATH` names another binary. A missing browser fails the suite with
 * how to install it: a browser test is never skipped silently.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const screenshotDir = join(root, 'test-artifacts', 'screenshots');

export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `No Chromium at ${path}${process.env.CHROMIUM_PATH ? ' (from CHROMIUM_PATH)' : ''}. The browser tests need a real Chromium: ` +
        'install Debian\'s package (`sudo apt-get update && sudo apt-get install -y chromium`, as .ci/run does) or set CHROMIUM_PATH to a Chromium binary.',
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
    const safe = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const path = join(screenshotDir, `${safe(this.#test)}-${String(this.#shot).padStart(2, '0')}-${safe(step)}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
