import { describe, expect, it } from '@jest/globals';
import { CATALOG, CONDITION_IDS, type ConditionId } from '../../events/catalog.js';
import { type ValidConditionEvent, validateConditionEvent } from '../../events/envelope.js';
import { loadSample } from '../../events/samples.js';
import type { EmailConfig } from '../../functions/core/config/email-config.js';
import {
  type ConditionEmailInput,
  composeConditionEmail,
} from '../../functions/core/notify/condition-email.js';
import { hasControlCharacters } from '../../functions/kernel/header-safety.js';
import { escapeHtml, type Language } from '../../functions/kernel/text.js';
import { passwordConfig } from '../support/config-fixtures.js';
import { visible } from '../support/email-samples.js';

const PASSWORD = 'relay-Pa55word-never-shown';

function config(language: Language, overrides: Record<string, unknown> = {}): EmailConfig {
  return passwordConfig({ password: PASSWORD, language, ...overrides });
}

type ValidEvent<K extends ConditionId> = Extract<ValidConditionEvent, { id: K }>;

function validSample<K extends ConditionId>(
  id: K,
  detailChanges: Record<string, unknown> = {},
): ValidEvent<K> {
  const sample = loadSample(id);
  const result = validateConditionEvent({ ...sample, detail: { ...sample.detail, ...detailChanges } });
  if (!result.ok || result.id !== id) throw new Error(`sample ${id} was rejected`);
  return result as ValidEvent<K>;
}

function inputFor(
  id: ConditionId,
  language: Language,
  extra: Partial<ConditionEmailInput> = {},
): ConditionEmailInput {
  const { condition, detail, envelope } = validSample(id);
  return {
    condition,
    detail,
    eventId: envelope.id,
    eventTime: envelope.time,
    clusterId: 'eu-prod-1',
    config: config(language),
    ...extra,
  };
}

interface Row {
  /** The sample's values the email must show, in both languages (from events/samples). */
  shows: string[];
  showsEn?: string[];
  showsDe?: string[];
}

// Typed over the catalog: a condition without a row here does not compile.
const rows: Record<ConditionId, Row> = {
  'version-mismatch': { shows: ['24.3.2', '24.2.1', 'pra-backup-01.example.com', 'data sync'] },
  'shared-ip-interface-disabled': { shows: ['10.20.0.10', 'eth1'] },
  'shared-ip-not-assigned': { shows: ['10.20.0.10', '10.20.0.11, 10.20.1.11'] },
  'primary-and-test-ips-unreachable': { shows: ['pra-primary-01.example.com', '10.20.0.1, 192.0.2.53'] },
  'test-ips-unreachable': { shows: ['10.20.0.1, 192.0.2.53'] },
  'backup-operations-disabled': {
    shows: ['16:42:10 UTC', 'j.schneider'],
    showsEn: ['17 min 50 s before'],
    showsDe: ['17 Min. 50 Sek. vor'],
  },
  'self-check-failed': { shows: ['failover status probe exited with code 137 (killed: out of memory)'] },
  'primary-hostname-unreachable': { shows: ['pra-primary-01.example.com', '10.20.0.99'] },
  'primary-check-failed': {
    shows: ['pra-primary-01.example.com', '02:58:30 UTC'],
    showsEn: ['5 min 42 s before'],
    showsDe: ['5 Min. 42 Sek. vor'],
  },
  'promotion-pending': {
    shows: ['pra-primary-01.example.com', '03:08:42 UTC'],
    showsEn: ['4 min 30 s'],
    showsDe: ['4 Min. 30 Sek.'],
  },
  'backup-promoted': {
    shows: ['pra-primary-01.example.com', '03:08:42 UTC'],
    showsEn: ['7 min 3 s'],
    showsDe: ['7 Min. 3 Sek.'],
  },
  'data-sync-stale': {
    shows: ['pra-backup-01.example.com', '02:10:00 UTC'],
    showsEn: ['1 day 2 h before'],
    showsDe: ['1 Tag 2 Std. vor'],
  },
};

const TAG = {
  critical: { en: '[CRITICAL]', de: '[KRITISCH]' },
  warning: { en: '[WARNING]', de: '[WARNUNG]' },
} as const;

// The shared facts, as an admin reads them: which appliance in which role.
const ROLE_TEXT = {
  en: { primary: 'primary, version 24.3.2', backup: 'backup, version 24.3.2' },
  de: { primary: 'primärer Knoten, Version 24.3.2', backup: 'Sicherungsknoten, Version 24.3.2' },
} as const;

const cases = CONDITION_IDS.flatMap((id) =>
  (['en', 'de'] as const).map((language) => [id, language] as const),
);

describe('composeConditionEmail: every condition of the catalog', () => {
  it('has a row for exactly the catalog conditions', () => {
    expect(Object.keys(rows)).toEqual([...CONDITION_IDS]);
  });

  it.each(cases)('%s (%s): subject names severity, title, appliance and cluster', (id, language) => {
    const input = inputFor(id, language);
    const condition = CATALOG[id];

    const message = composeConditionEmail(input);

    expect(message.subject).toBe(
      `${TAG[condition.severity][language]} ${condition.title[language]} ${language === 'de' ? '–' : 'on'} ${input.detail.appliance.hostname} (${language === 'de' ? 'Cluster' : 'cluster'} eu-prod-1)`,
    );
    expect(hasControlCharacters(message.subject)).toBe(false);
  });

  it.each(cases)('%s (%s): the text shows description, facts, shared facts and checks', (id, language) => {
    const input = inputFor(id, language);
    const condition = CATALOG[id];
    const { shows, showsEn = [], showsDe = [] } = rows[id];
    const role = input.detail.appliance.role as 'primary' | 'backup';

    const { text } = composeConditionEmail(input);

    expect(text).toContain(condition.description[language]);
    for (const value of [...shows, ...(language === 'de' ? showsDe : showsEn)]) expect(text).toContain(value);
    expect(text).toContain(`${input.detail.appliance.hostname} (${ROLE_TEXT[language][role]})`);
    condition.checks[language].forEach((step, i) => {
      expect(text).toContain(`${i + 1}. ${step}`);
    });
  });

  it.each(cases)('%s (%s): the HTML shows the same, escaped', (id, language) => {
    const input = inputFor(id, language);
    const condition = CATALOG[id];
    const { shows, showsEn = [], showsDe = [] } = rows[id];
    const values = [
      condition.title[language],
      condition.description[language],
      ...condition.checks[language],
      ...shows,
      ...(language === 'de' ? showsDe : showsEn),
    ];

    const { html = '' } = composeConditionEmail(input);

    for (const value of values) {
      expect(visible(html)).toContain(escapeHtml(value));
      // A title like "Shared IP's ..." must not appear unescaped.
      if (escapeHtml(value) !== value) expect(visible(html)).not.toContain(value);
    }
    expect(visible(html)).toContain(`lang="${language}"`);
  });
});

describe('composeConditionEmail: content', () => {
  it('escapes an appliance error text in HTML and keeps it raw in the text', () => {
    const hostile = 'probe <script>alert(1)</script> & "quoted" failed';
    const { condition, detail, envelope } = validSample('self-check-failed', { error: hostile });

    const message = composeConditionEmail({
      condition,
      detail,
      eventId: envelope.id,
      eventTime: envelope.time,
      clusterId: 'eu-prod-1',
      config: config('en'),
    });

    expect(message.text).toContain(`Error: ${hostile}`);
    expect(visible(message.html)).toContain(
      'probe &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; failed',
    );
    expect(visible(message.html)).not.toContain('<script');
  });

  it('uses no external resources in the HTML', () => {
    const { html = '' } = composeConditionEmail(inputFor('promotion-pending', 'en'));

    expect(visible(html)).not.toMatch(/\b(src|href)=|url\(|<link|<img|<style/i);
    expect(visible(html)).toMatch(/^<!DOCTYPE html>/);
  });

  it('marks critical and warning conditions with their own colour', () => {
    const critical = composeConditionEmail(inputFor('backup-promoted', 'en')).html ?? '';
    const warning = composeConditionEmail(inputFor('data-sync-stale', 'en')).html ?? '';

    expect(critical).toContain('border-left:6px solid #b00020');
    expect(warning).toContain('border-left:6px solid #8a4b00');
    expect(warning).not.toContain('#b00020');
  });

  it('ends with the event id and time, in text and HTML', () => {
    const input = inputFor('version-mismatch', 'de');

    const { text, html } = composeConditionEmail(input);

    expect(text).toContain('Ereignis: 9b03ae23-3136-4805-b305-5eb135cf1d87');
    expect(text).toContain('Zeitpunkt des Ereignisses: 28.11.2026, 02:14:08 UTC');
    expect(text.indexOf('\n-- \n')).toBeLessThan(text.indexOf('Ereignis: 9b03ae23'));
    expect(visible(html)).toContain('9b03ae23-3136-4805-b305-5eb135cf1d87');
  });

  it('never shows a secret of the configuration', () => {
    const message = composeConditionEmail(inputFor('self-check-failed', 'en'));

    expect(JSON.stringify(message)).not.toContain(PASSWORD);
  });
});

describe('composeConditionEmail: folded repeats', () => {
  const folded = (count: number) => ({
    count,
    since: '2026-11-28T02:20:00Z',
    lastSentAt: '2026-11-28T02:14:09Z',
  });

  it('says how many repeats were not emailed, and since when (English, many)', () => {
    const message = composeConditionEmail(inputFor('version-mismatch', 'en', { folded: folded(49) }));

    expect(message.subject).toMatch(/ \(\+49 repeats\)$/);
    const note =
      '49 repeats of this condition from this appliance were not emailed since 28 Nov 2026, 02:20:00 UTC (the previous email went out at 28 Nov 2026, 02:14:09 UTC).';
    expect(message.text).toContain(note);
    expect(visible(message.html)).toContain(escapeHtml(note));
  });

  it('does not claim an interrupted email went out (a takeover after a crash), in both languages', () => {
    const interrupted = { ...folded(2), lastSentUnconfirmed: true };

    const en = composeConditionEmail(inputFor('version-mismatch', 'en', { folded: interrupted }));
    const de = composeConditionEmail(inputFor('data-sync-stale', 'de', { folded: interrupted }));

    expect(en.text).toContain(
      '(the email of 28 Nov 2026, 02:14:09 UTC may not have gone out: its send was interrupted).',
    );
    expect(en.text).not.toContain('the previous email went out');
    expect(de.text).toContain(
      '(die E-Mail vom 28.11.2026, 02:14:09 UTC wurde womöglich nicht gesendet, weil ihr Versand unterbrochen wurde).',
    );
  });

  it('uses the singular for one repeat (English)', () => {
    const message = composeConditionEmail(inputFor('version-mismatch', 'en', { folded: folded(1) }));

    expect(message.subject).toMatch(/ \(\+1 repeat\)$/);
    expect(message.text).toContain(
      '1 repeat of this condition from this appliance was not emailed since 28 Nov 2026, 02:20:00 UTC',
    );
  });

  it('says it in German, singular and plural', () => {
    const many = composeConditionEmail(inputFor('data-sync-stale', 'de', { folded: folded(49) }));
    const one = composeConditionEmail(inputFor('data-sync-stale', 'de', { folded: folded(1) }));

    expect(many.subject).toMatch(/ \(\+49 Wiederholungen\)$/);
    expect(many.text).toContain(
      'Seit 28.11.2026, 02:20:00 UTC wurden 49 Wiederholungen dieser Meldung von dieser Appliance nicht per E-Mail gesendet (die vorherige E-Mail wurde am 28.11.2026, 02:14:09 UTC gesendet).',
    );
    expect(one.subject).toMatch(/ \(\+1 Wiederholung\)$/);
    expect(one.text).toContain(
      'wurde 1 Wiederholung dieser Meldung von dieser Appliance nicht per E-Mail gesendet',
    );
    expect(many.text).not.toContain('diesem Appliance');
  });

  it.each([
    ['without a summary', undefined],
    ['with a count of zero', folded(0)],
  ])('says nothing about repeats %s', (_, summary) => {
    const message = composeConditionEmail(
      inputFor('version-mismatch', 'en', summary ? { folded: summary } : {}),
    );

    expect(message.subject).not.toContain('(+');
    expect(message.text).not.toContain('not emailed');
    expect(visible(message.html)).not.toContain('not emailed');
  });

  it.each([
    ['en', 240, 'Repeats of this condition from the same appliance within 4 hours of an email are folded'],
    ['en', 90, 'within 90 minutes of an email'],
    ['en', 60, 'within 1 hour of an email'],
    ['en', 10080, 'within 7 days of an email'],
    ['en', 0, 'Every event of this condition is emailed; repeats are not folded.'],
    ['de', 240, 'innerhalb von 4 Stunden nach einer E-Mail werden zusammengefasst'],
    ['de', 0, 'Wiederholungen werden nicht zusammengefasst'],
  ] as const)('(%s) states the folding policy for %i minutes', (language, minutes, expected) => {
    const input = inputFor('test-ips-unreachable', language, {
      config: config(language, { repeatIntervalMinutes: minutes }),
    });

    const { text, html } = composeConditionEmail(input);

    expect(text).toContain(expected);
    expect(visible(html)).toContain(escapeHtml(expected));
  });
});

describe('composeConditionEmail: envelope and headers', () => {
  it('sends from the sender to the admin contacts, with the tracing headers (critical)', () => {
    const input = inputFor('promotion-pending', 'en');

    const message = composeConditionEmail(input);

    expect(message.from).toBe('appliance@example.com');
    expect(message.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(message.headers).toEqual({
      'X-Appliance-Notifier-Kind': 'condition',
      'X-Appliance-Notifier-Event': input.eventId,
      'X-Appliance-Notifier-Condition': 'promotion-pending',
      'X-Appliance-Notifier-Cluster': 'eu-prod-1',
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
      'X-Priority': '1',
      Importance: 'high',
    });
  });

  it('does not raise the priority of a warning', () => {
    const message = composeConditionEmail(inputFor('shared-ip-not-assigned', 'de'));

    expect(message.headers).toMatchObject({
      'X-Appliance-Notifier-Condition': 'shared-ip-not-assigned',
      'Auto-Submitted': 'auto-generated',
    });
    expect(message.headers).not.toHaveProperty('X-Priority');
    expect(message.headers).not.toHaveProperty('Importance');
  });

  it('refuses to build a message whose header value would break the line', () => {
    const input = inputFor('version-mismatch', 'en', { eventId: 'abc\r\nBcc: victim@example.org' });

    expect(() => composeConditionEmail(input)).toThrow(/control characters/);
  });

  it('ties a condition to its own detail in the type', () => {
    const { detail, envelope } = validSample('version-mismatch');

    // Never called: `npm run typecheck` fails if the pairing of condition and detail is lost.
    const mismatched = () =>
      composeConditionEmail({
        condition: CATALOG['self-check-failed'],
        // @ts-expect-error a version-mismatch detail is not a self-check-failed detail
        detail,
        eventId: envelope.id,
        eventTime: envelope.time,
        clusterId: 'eu-prod-1',
        config: config('en'),
      });

    expect(typeof mismatched).toBe('function');
  });
});
