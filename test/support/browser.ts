// A real browser for end-to-end tests of the admin page: Debian's chromium driven by
// playwright-core (no browser download). Every host name but 127.0.0.1 fails to resolve, so a
// page that reached for a CDN, a font or any other outside address would break visibly.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No chromium at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    ],
  });
}

/** What went wrong inside a page: script errors, uncaught exceptions, CSP violations, failed requests. */
export function collectPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // An expected 4xx of the API (a cluster without configuration) is logged as "Failed to load
    // resource"; script errors and CSP violations ("Refused to ...") are what count.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('requestfailed', (request) => {
    problems.push(`requestfailed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  return problems;
}

/**
 * Presses Tab (only Tab) until the focused element matches `selector`; fails after `max` presses.
 * Keyboard-only tests use it to reach a control the way a keyboard user does.
 */
export async function tabTo(page: Page, selector: string, max = 80): Promise<number> {
  for (let presses = 1; presses <= max; presses++) {
    await page.keyboard.press('Tab');
    const reached = await page.evaluate(
      `document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`,
    );
    if (reached === true) return presses;
  }
  throw new Error(`${selector} not reached with ${max} Tab presses`);
}
