// The hand-written date formats of kernel/text.ts write what Intl's medium style writes for en-GB
// and de-DE in UTC (the formats the emails used before), without Intl's cold-start cost.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { formatDate, formatTime, type Language } from '../../functions/kernel/text.js';

const LOCALES: Record<Language, string> = { en: 'en-GB', de: 'de-DE' };
const intl = (language: Language, withTime: boolean) =>
  new Intl.DateTimeFormat(LOCALES[language], {
    dateStyle: 'medium',
    ...(withTime ? { timeStyle: 'medium' } : {}),
    timeZone: 'UTC',
  });

describe.each(['en', 'de'] as const)('formats in %s', (language) => {
  const dateTime = intl(language, true);
  const date = intl(language, false);
  // Years 1000-9999: four-digit years, as every timestamp the service handles has.
  const dates = fc.date({
    min: new Date('1000-01-01T00:00:00Z'),
    max: new Date('9999-12-31T23:59:59Z'),
    noInvalidDate: true,
  });

  it('writes a time as Intl writes it, with " UTC"', () => {
    fc.assert(
      fc.property(dates, (d) => formatTime(d, language) === `${dateTime.format(d)} UTC`),
      { numRuns: 2000 },
    );
  });

  it('writes a date as Intl writes it', () => {
    fc.assert(
      fc.property(dates, (d) => formatDate(d, language) === date.format(d)),
      { numRuns: 2000 },
    );
  });
});

it('writes the examples of its documentation', () => {
  const at = new Date('2026-11-28T18:06:51.000Z');
  expect(formatTime(at, 'en')).toBe('28 Nov 2026, 18:06:51 UTC');
  expect(formatTime(at, 'de')).toBe('28.11.2026, 18:06:51 UTC');
  expect(formatDate(new Date('2026-09-03T00:00:00Z'), 'en')).toBe('3 Sept 2026');
  expect(formatDate(new Date('2026-09-03T00:00:00Z'), 'de')).toBe('03.09.2026');
});
