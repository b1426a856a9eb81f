import { describe, expect, it } from '@jest/globals';
import { CATALOG } from '../../events/catalog.js';
import { hyphenate, LONG_WORD, SOFT_HYPHEN } from '../../functions/core/mail/email-layout.js';
import { adminPageClusterUrl } from '../../functions/kernel/public-paths.js';
import type { Language } from '../../functions/kernel/text.js';
import {
  type EmailKind,
  SAMPLE_BASE_URL,
  SAMPLE_CLUSTER,
  type SampleEmail,
  sampleEmails,
  visible,
} from '../support/email-samples.js';

const LANGUAGES: Language[] = ['en', 'de'];
const KINDS: EmailKind[] = ['condition', 'group', 'test-email', 'daily-notice'];
const ADMIN_URL = `${SAMPLE_BASE_URL}/admin/#cluster=${SAMPLE_CLUSTER}`;

const withLink = LANGUAGES.flatMap((language) => sampleEmails(language, SAMPLE_BASE_URL));
const withoutLink = LANGUAGES.flatMap((language) => sampleEmails(language));
const named = (emails: SampleEmail[]) => emails.map((email) => [email.name, email] as const);

/** The text a reader sees in the HTML part: no tags, no title, no conditional comments. */
function htmlWords(html: string): string {
  return html
    .replace(/<title>.*?<\/title>/s, '')
    .replace(/<!--.*?-->/gs, '')
    .replace(/<[^>]+>/g, ' ')
    .replaceAll('&shy;', SOFT_HYPHEN);
}

describe('every email kind', () => {
  it('is among the samples, in both languages', () => {
    for (const language of LANGUAGES) {
      const kinds = new Set(sampleEmails(language).map((email) => email.kind));
      expect([...kinds].sort()).toEqual([...KINDS].sort());
    }
  });

  it.each(named(withLink))('%s: carries the automatic-message and tracing headers', (_, email) => {
    expect(email.message.headers).toMatchObject({
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
      'X-Appliance-Notifier-Kind': email.kind,
      'X-Appliance-Notifier-Cluster': SAMPLE_CLUSTER,
      'X-Appliance-Notifier-Event': expect.any(String),
    });
    expect(email.message.from).toBe('appliance@example.com');
    expect(email.message.to).toEqual(['ops@example.com', 'oncall@example.com']);
  });

  it.each(named(withLink))('%s: links the cluster on the admin page, in HTML and text', (_, email) => {
    const { html = '', text } = email.message;
    expect(html).toContain(`href="${ADMIN_URL}"`);
    expect(text).toContain(`\n${ADMIN_URL}\n`);
    const label = email.name.endsWith('(de)')
      ? `Cluster ${SAMPLE_CLUSTER} auf der Admin-Seite öffnen`
      : `Open cluster ${SAMPLE_CLUSTER} on the admin page`;
    expect(visible(html)).toContain(`>${label}</a>`);
    expect(text).toContain(`${label}:`);
  });

  it.each(named(withoutLink))('%s: has no link when no public URL is known', (_, email) => {
    const { html = '', text } = email.message;
    expect(html).not.toMatch(/href=/);
    expect(`${html}${text}`).not.toContain('/admin/');
    expect(`${html}${text}`).not.toMatch(/Open cluster \S+ on the admin page|auf der Admin-Seite öffnen/);
  });

  it.each(named(withLink))('%s: names no API path anywhere', (_, email) => {
    const { html = '', text, subject } = email.message;
    expect(`${subject}\n${text}\n${html}`).not.toMatch(/\b(GET|POST|PUT|DELETE) \/|\/clusters\//);
  });

  it.each(named(withLink))('%s: is one column of at most 600 px, in tables, in its language', (_, email) => {
    const { html = '' } = email.message;
    const language = email.name.endsWith('(de)') ? 'de' : 'en';
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="(en|de)"/);
    expect(html).toContain(`<html lang="${language}"`);
    expect(html).toContain(`<body lang="${language}"`);
    expect(html).toContain('max-width:600px');
    expect(html).toMatch(/hyphens:auto/);
    // Every table is for layout, and nothing is wider than a phone outside Outlook's own table.
    const outsideMso = html.replace(/<!--\[if mso\]>.*?<!\[endif\]-->/gs, '');
    for (const [table] of outsideMso.matchAll(/<table[^>]*>/g))
      expect(table).toContain('role="presentation"');
    const widths = [
      ...[...outsideMso.matchAll(/\bwidth="(\d+)"/g)].map((m) => Number(m[1])),
      ...[...outsideMso.matchAll(/(?<!max-)width:(\d+)px/g)].map((m) => Number(m[1])),
    ];
    for (const width of widths) expect(width).toBeLessThanOrEqual(390);
    expect(html).not.toMatch(/<style|<link|<img|<script|url\(/i);
  });

  it.each(named(withLink))(
    `%s: every word of ${LONG_WORD} letters or more may break at a soft hyphen`,
    (_, email) => {
      const language: Language = email.name.endsWith('(de)') ? 'de' : 'en';
      const words = htmlWords(email.message.html ?? '').match(/[\p{L}\u00ad]+/gu) ?? [];
      const whole = words.filter((word) => word.length >= LONG_WORD && !word.includes(SOFT_HYPHEN));
      expect({ language, whole: [...new Set(whole)] }).toEqual({ language, whole: [] });
    },
  );
});

describe('soft hyphens', () => {
  it('go into long listed words only, in any case, and never into the plain text', () => {
    expect(hyphenate('Der Sicherungsknoten meldet', 'de')).toBe(
      `Der Si${SOFT_HYPHEN}che${SOFT_HYPHEN}rungs${SOFT_HYPHEN}kno${SOFT_HYPHEN}ten meldet`,
    );
    expect(hyphenate('ZUSAMMENGEFASST', 'de')).toBe(['ZU', 'SAM', 'MEN', 'GE', 'FASST'].join(SOFT_HYPHEN));
    expect(hyphenate('pra-backup-01.example.com', 'de')).toBe('pra-backup-01.example.com');
    expect(hyphenate('Sicherungsknoten', 'en')).toBe('Sicherungsknoten');
    for (const email of withLink) expect(email.message.text).not.toContain(SOFT_HYPHEN);
  });
});

describe('the admin page link', () => {
  it('selects the cluster in the fragment, whatever the base URL ends with', () => {
    expect(adminPageClusterUrl('https://api.example.com/', 'eu-prod-1')).toBe(
      'https://api.example.com/admin/#cluster=eu-prod-1',
    );
    expect(adminPageClusterUrl('http://localhost:3000', 'default')).toBe(
      'http://localhost:3000/admin/#cluster=default',
    );
  });
});

describe('the German wording', () => {
  const german = sampleEmails('de', SAMPLE_BASE_URL);
  const all = german.map((email) => `${email.message.subject}\n${email.message.text}`).join('\n');

  it('names the appliance after a dash, not "auf <host>" ("answers to")', () => {
    const promoted = german.find((email) => email.name.startsWith('condition backup-promoted'));
    expect(promoted?.message.subject).toMatch(
      /^\[KRITISCH\] Sicherungsknoten ist zum primären Knoten geworden: Der primäre Knoten antwortete zu lange nicht – pra-backup-01\.example\.com \(Cluster eu-prod-1\)/,
    );
    expect(all).not.toMatch(/ auf pra-/);
  });

  it('says in the backup-promoted body that the promotion has happened, as the subject does', () => {
    const promoted = german.find((email) => email.name.startsWith('condition backup-promoted'));
    expect(promoted?.message.text).toContain(
      'Der automatische Failover ist aktiviert, und der Sicherungsknoten ist automatisch zum primären Knoten geworden, weil der bisherige primäre Knoten zu lange nicht geantwortet hat.',
    );
    expect(CATALOG['backup-promoted'].description.de).not.toMatch(/\bwird\b/);
  });

  it('treats the Appliance as feminine and calls the daily notice a "Tagesbericht"', () => {
    expect(all).toContain('von dieser Appliance nicht per E-Mail gesendet');
    expect(all).toContain('Diese Appliance ist der primäre Knoten');
    expect(all).not.toMatch(
      /diesem Appliance|dem Appliance|des Appliances|Das aktuelle Appliance|vom selben Appliance/,
    );
    const daily = german.find((email) => email.kind === 'daily-notice');
    expect(daily?.message.text.startsWith('Tagesbericht: Die Benachrichtigung funktioniert\n')).toBe(true);
    expect(all).not.toContain('Kommunikationsmitteilung');
  });

  it("uses the seed's terms and no English reasons in German emails", () => {
    expect(all).not.toMatch(/Backup-Knoten|wird automatisch der primäre Knoten/);
    expect(all).not.toMatch(/\b(The|the|is|are|was|has) /);
    const group = german.find((email) => email.kind === 'group');
    expect(group?.message.text).toContain(
      'Die angekündigte Übernahme ist erfolgt: Der Sicherungsknoten ist jetzt der primäre Knoten.',
    );
  });
});
