// Every kind of email, rendered in Debian's chromium on a 390 px wide phone screen, in English and
// German: nothing scrolls sideways, and a word that does not fit on its line breaks only where the
// email allows it (a soft hyphen, a hyphen or a slash), never in the middle.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { SAMPLE_BASE_URL, sampleEmails } from '../support/email-samples.js';

const PHONE = { width: 390, height: 844 };

let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: PHONE, javaScriptEnabled: true });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
});

interface Rendering {
  scrollWidth: number;
  /** Words whose lines change at a character that is no break opportunity, with the place. */
  brokenWords: string[];
  words: number;
}

/**
 * Runs in the page (a string: the project's types have no DOM): for every word of every text
 * node, the top of each character's box; where a character sits lower than the one before it, the
 * word continues on the next line, and the character before that place must be a soft hyphen, a
 * hyphen, a dash or a slash. A character right after a break can report the hyphen drawn at the
 * end of the line before as its first box: its own box is the last one with a width.
 */
const MEASURE = `(() => {
  const allowed = new Set(['\u00ad', '-', '/', '\u2013']);
  const brokenWords = [];
  let words = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent || '';
    for (const match of text.matchAll(/\\S+/g)) {
      words += 1;
      const word = match[0];
      let previousTop;
      for (let i = 0; i < word.length; i++) {
        range.setStart(node, match.index + i);
        range.setEnd(node, match.index + i + 1);
        const boxes = [...range.getClientRects()].filter((rect) => rect.width > 0);
        const box = boxes[boxes.length - 1];
        if (!box) continue;
        if (previousTop !== undefined && box.top > previousTop + 2 && !allowed.has(word[i - 1])) {
          brokenWords.push((word.slice(0, i) + '|' + word.slice(i)).replaceAll('\u00ad', ''));
        }
        previousTop = box.top;
      }
    }
  }
  const scrollWidth = document.scrollingElement ? document.scrollingElement.scrollWidth : Infinity;
  return { scrollWidth, brokenWords, words };
})()`;

const measure = async (page: Page): Promise<Rendering> => (await page.evaluate(MEASURE)) as Rendering;

describe.each(['en', 'de'] as const)('emails on a 390 px phone (%s)', (language) => {
  const emails = sampleEmails(language, SAMPLE_BASE_URL);

  it.each(emails.map((email) => [email.name, email] as const))(
    '%s: no horizontal scroll, no word broken mid-word',
    async (_, email) => {
      const page = await context.newPage();
      try {
        await page.setContent(email.message.html ?? '', { waitUntil: 'load' });
        const rendering = await measure(page);

        expect(rendering.words).toBeGreaterThan(20);
        expect(rendering.brokenWords).toEqual([]);
        expect(rendering.scrollWidth).toBeLessThanOrEqual(PHONE.width);
      } finally {
        await page.close();
      }
    },
  );
});

describe('the check itself', () => {
  it('finds a word broken mid-word and a page wider than the phone', async () => {
    const page = await context.newPage();
    try {
      await page.setContent(
        '<html lang="de"><body style="margin:0"><p style="width:80px;overflow-wrap:anywhere">Datensynchronisierung</p><div style="width:700px">x</div></body></html>',
      );
      const rendering = await measure(page);

      expect(rendering.brokenWords.length).toBeGreaterThan(0);
      expect(rendering.scrollWidth).toBeGreaterThan(PHONE.width);
    } finally {
      await page.close();
    }
  });
});
