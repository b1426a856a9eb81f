// The admin page's two languages: every text of the markup comes from the catalog (nothing is
// written in index.html that German would miss), every key the markup names exists, and the
// German catalog has the English one's parameters and markup for every message.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { MESSAGES, type MessageKey } from '../../web/admin-page/messages.js';

const html = readFileSync(new URL('../../web/admin-page/index.html', import.meta.url), 'utf8');
const keys = Object.keys(MESSAGES.en) as MessageKey[];

/**
 * The markup without what is not the page's own words: comments, noscript, the language names,
 * and the title (English before the script runs, for whatever reads the page without running it:
 * `npm run smoke`, a bookmark) when it is the catalog's.
 */
const markup = html
  .replace(/<!--[\s\S]*?-->/g, '')
  .replace(
    `<title data-i18n="page.title">${MESSAGES.en['page.title']}</title>`,
    '<title data-i18n="page.title"></title>',
  )
  .replace(/<noscript>[\s\S]*?<\/noscript>/g, '')
  .replace(/<option value="(en|de)" lang="\1">[^<]*<\/option>/g, '');

const parameters = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
const marks = (text: string) => [...text.matchAll(/[`*]/g)].length;

describe('admin page languages', () => {
  it('names only messages that exist, in both languages', () => {
    const named = [...markup.matchAll(/data-i18n="([^"]+)"/g)].map((match) => match[1] as string);
    expect(named.length).toBeGreaterThan(100);
    expect(named.filter((key) => !(key in MESSAGES.en))).toEqual([]);
    expect(named.filter((key) => !(key in MESSAGES.de))).toEqual([]);
  });

  it('writes no text of its own into the markup: every text is a catalog message', () => {
    const texts = [...markup.matchAll(/>([^<]+)</g)]
      .map((match) => (match[1] ?? '').trim())
      .filter((text) => text !== '');
    expect(texts).toEqual([]);
  });

  it('has every German message with the English parameters and markup, and in German', () => {
    const mismatched = keys.filter(
      (key) =>
        parameters(MESSAGES.en[key]).join() !== parameters(MESSAGES.de[key]).join() ||
        marks(MESSAGES.en[key]) !== marks(MESSAGES.de[key]),
    );
    expect(mismatched).toEqual([]);
    // Names, brands and symbols read the same in both; everything else must be translated.
    const same = keys.filter((key) => MESSAGES.en[key] === MESSAGES.de[key]);
    expect(
      same.every((key) =>
        /^[\p{Lu}\d][\w .·/()+-]*$|^\{|OAuth2|Amazon SES|TLS|Scopes|Version|Appliance|Cluster/u.test(
          MESSAGES.en[key],
        ),
      ),
    ).toBe(true);
    expect(same.length).toBeLessThan(25);
  });

  it('has a singular and a plural for every counted message', () => {
    for (const key of keys.filter((candidate) => candidate.endsWith('.one'))) {
      const other = key.replace(/\.one$/, '.other');
      expect(keys).toContain(other);
      expect(MESSAGES.en[key]).toContain('{count}');
      expect(MESSAGES.de[key]).toContain('{count}');
    }
  });
});
