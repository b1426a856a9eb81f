import { describe, expect, it } from '@jest/globals';
import { CATALOG, CONDITION_IDS } from '../../events/catalog.js';
import type { EmailConfig } from '../../functions/core/config/email-config.js';
import {
  type ConditionCounts,
  composeDailyNotice,
  type DailyNoticeInput,
  summarizeDeliveries,
} from '../../functions/core/daily-notice/daily-notice-email.js';
import type { DeliveryRecord, Outcome } from '../../functions/core/notify/delivery-ledger.js';
import { escapeHtml, type Language } from '../../functions/kernel/text.js';
import { microsoftOAuthConfig, passwordConfig } from '../support/config-fixtures.js';
import { visible } from '../support/email-samples.js';

const PASSWORD = 'relay-Pa55word-never-shown';
const CLIENT_SECRET = 'oauth-Cl1ent-Secret-never-shown';

function relayConfig(language: Language): EmailConfig {
  return passwordConfig({ password: PASSWORD, language });
}

function oauthConfig(language: Language): EmailConfig {
  return microsoftOAuthConfig({
    auth: {
      clientId: '00000000-1111-2222-3333-444444444444',
      clientSecret: CLIENT_SECRET,
      user: 'relay@example.com',
    },
    adminContacts: ['ops@example.com'],
    language,
  });
}

let sequence = 0;
function record(condition: string, outcome: Outcome, extra: Partial<DeliveryRecord> = {}): DeliveryRecord {
  sequence += 1;
  return {
    clusterId: 'eu-prod-1',
    eventId: `event-${sequence}`,
    condition,
    outcome,
    recipients: outcome === 'sent' ? ['ops@example.com'] : [],
    at: '2026-11-28T03:00:00.000Z',
    receivedAt: '2026-11-28T02:59:59.500Z',
    eventTime: '2026-11-28T02:59:59Z',
    ...(outcome === 'rejected' || outcome === 'failed' ? { reason: `${outcome} for a reason` } : {}),
    ...extra,
  };
}

/** Sent, folded ×3, rejected and failed for two conditions, one unidentifiable, and a daily notice. */
function sampleRecords(): DeliveryRecord[] {
  const forCondition = (condition: string) => [
    record(condition, 'sent'),
    record(condition, 'folded'),
    record(condition, 'folded'),
    record(condition, 'folded'),
    record(condition, 'rejected'),
    record(condition, 'failed', { transient: false }),
  ];
  return [
    ...forCondition('version-mismatch'),
    ...forCondition('data-sync-stale'),
    record('unknown', 'rejected', { reason: 'unknown detail-type "Failover Coffee Empty"' }),
    record('daily-notice', 'sent', { eventId: 'daily-notice:eu-prod-1:2026-11-27' }),
  ];
}

const counts = (received: number, sent: number, folded: number, rejected: number, failed: number) => ({
  received,
  sent,
  folded,
  rejected,
  failed,
});

const NOW = new Date('2026-11-28T06:00:00Z');
const PERIOD_START = new Date('2026-11-27T06:00:00Z');

function noticeInput(
  language: Language,
  summary: Map<string, ConditionCounts>,
  config = relayConfig(language),
): DailyNoticeInput {
  return {
    clusterId: 'eu-prod-1',
    config,
    now: NOW,
    periodStart: PERIOD_START,
    counts: summary,
    noticeId: 'daily-notice:eu-prod-1:2026-11-28',
  };
}

/** The text table's row for `label`: the five numbers before it. */
function textRow(text: string, label: string): number[] | undefined {
  const line = text.split('\n').find((l) => /^\s*\d/.test(l) && l.trimEnd().endsWith(`  ${label}`));
  return line
    ?.trim()
    .split(/\s+/)
    .slice(0, 5)
    .map((n) => Number(n));
}

/** The HTML table's counts under the row that names `label` (each title has a row of its own). */
function htmlRow(html: string, label: string): string[] | undefined {
  const rows = [...html.matchAll(/<tr>(.*?)<\/tr>/g)].map(([, row = '']) =>
    [...row.matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((m) => m[1] ?? ''),
  );
  const index = rows.findIndex((cells) => cells.length === 1 && cells[0] === escapeHtml(label));
  return index >= 0 ? rows[index + 1] : undefined;
}

describe('summarizeDeliveries', () => {
  it('counts each condition by outcome, unknown apart, without the daily notice', () => {
    const records = sampleRecords();

    const summary = summarizeDeliveries(records);

    expect(Object.fromEntries(summary)).toEqual({
      'version-mismatch': counts(6, 1, 3, 1, 1),
      'data-sync-stale': counts(6, 1, 3, 1, 1),
      unknown: counts(1, 0, 0, 1, 0),
    });
  });

  it('counts a condition the catalog no longer knows as unknown', () => {
    const records = [record('retired-condition', 'sent'), record('unknown', 'rejected')];

    const summary = summarizeDeliveries(records);

    expect(Object.fromEntries(summary)).toEqual({ unknown: counts(2, 1, 0, 1, 0) });
  });

  it('counts a redelivered event once, with its latest outcome', () => {
    const records = [
      record('promotion-pending', 'failed', { eventId: 'e-1', at: '2026-11-28T03:00:00Z', transient: true }),
      record('promotion-pending', 'sent', { eventId: 'e-1', at: '2026-11-28T03:05:00Z' }),
    ];

    const summary = summarizeDeliveries(records);

    expect(summary.get('promotion-pending')).toEqual(counts(1, 1, 0, 0, 0));
  });

  it('returns an empty map for an empty log', () => {
    expect(summarizeDeliveries([]).size).toBe(0);
  });
});

describe('composeDailyNotice', () => {
  const expectedRows = {
    'version-mismatch': [6, 1, 3, 1, 1],
    'data-sync-stale': [6, 1, 3, 1, 1],
  } as Record<string, number[]>;

  it.each([
    ['en', 'Total', 'Unidentifiable events'],
    ['de', 'Summe', 'Nicht zuordenbare Ereignisse'],
  ] as const)(
    '(%s) shows all twelve conditions, the unknown row and the totals',
    (language, total, unknown) => {
      const input = noticeInput(language, summarizeDeliveries(sampleRecords()));

      const { text, html = '' } = composeDailyNotice(input);

      for (const id of CONDITION_IDS) {
        const title = CATALOG[id].title[language];
        const expected = expectedRows[id] ?? [0, 0, 0, 0, 0];
        expect({ id, text: textRow(text, title), html: htmlRow(visible(html), title) }).toEqual({
          id,
          text: expected,
          html: expected.map(String),
        });
      }
      const unknownLabel = text
        .split('\n')
        .find((line) => line.includes(unknown))
        ?.replace(/^[\s\d]+/, '');
      expect(unknownLabel && textRow(text, unknownLabel)).toEqual([1, 0, 0, 1, 0]);
      expect(textRow(text, total)).toEqual([13, 2, 6, 3, 2]);
      expect(htmlRow(visible(html), total)).toEqual(['13', '2', '6', '3', '2']);
      // Twelve conditions, unknown, total: nothing else looks like a row.
      expect(
        text.split('\n').filter((line) => /^\s*\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+\S/.test(line)),
      ).toHaveLength(14);
    },
  );

  it('leaves out the unknown row when nothing was unidentifiable, and shows zeros for quiet conditions', () => {
    const input = noticeInput('en', new Map());

    const { text, html = '' } = composeDailyNotice(input);

    expect(text).not.toContain('Unidentifiable');
    expect(visible(html)).not.toContain('Unidentifiable');
    expect(textRow(text, CATALOG['shared-ip-interface-disabled'].title.en)).toEqual([0, 0, 0, 0, 0]);
    expect(htmlRow(visible(html), CATALOG['shared-ip-interface-disabled'].title.en)).toEqual([
      '0',
      '0',
      '0',
      '0',
      '0',
    ]);
    expect(textRow(text, 'Total')).toEqual([0, 0, 0, 0, 0]);
  });

  it('(en) says delivery works, the period, and where to look when something failed', () => {
    const input = noticeInput('en', summarizeDeliveries(sampleRecords()));

    const message = composeDailyNotice(input);

    expect(message.subject).toBe(
      'appliance-notifier: notification works (cluster eu-prod-1, 28 Nov 2026; 2 failed, 3 rejected)',
    );
    expect(message.text).toContain('Daily communication notice');
    expect(message.text).toContain('notification works');
    expect(message.text).toContain(
      'Period: 27 Nov 2026, 06:00:00 UTC – 28 Nov 2026, 06:00:00 UTC (24 hours)',
    );
    expect(message.text).toContain(
      'In this period: 2 failed, 3 rejected. The delivery log of cluster eu-prod-1 on the admin page has the reasons. Failed events can be replayed once the cause is fixed.',
    );
    expect(visible(message.html)).toContain(
      'The delivery log of cluster eu-prod-1 on the admin page has the reasons.',
    );
    expect(`${message.text}${message.html}`).not.toContain('/clusters/');
  });

  it('(de) says the same in German', () => {
    const input = noticeInput('de', summarizeDeliveries(sampleRecords()));

    const message = composeDailyNotice(input);

    expect(message.subject).toBe(
      'appliance-notifier: Benachrichtigung funktioniert (Cluster eu-prod-1, 28.11.2026; 2 fehlgeschlagen, 3 abgelehnt)',
    );
    expect(message.text).toContain('Tagesbericht: Die Benachrichtigung funktioniert');
    expect(message.text).not.toContain('Kommunikationsmitteilung');
    expect(message.text).toContain(
      'Zeitraum: 27.11.2026, 06:00:00 UTC – 28.11.2026, 06:00:00 UTC (24 Stunden)',
    );
    expect(message.text).toContain('Zusammengefasst');
    expect(message.text).toContain(
      'In diesem Zeitraum: 2 fehlgeschlagen, 3 abgelehnt. Die Gründe stehen im Zustellprotokoll des Clusters eu-prod-1 auf der Admin-Seite. Fehlgeschlagene Ereignisse können nach Behebung der Ursache erneut zugestellt werden.',
    );
  });

  it('has a plain subject and no delivery-log line when nothing failed or was rejected', () => {
    const summary = new Map([['test-ips-unreachable', counts(4, 1, 3, 0, 0)]]);

    const message = composeDailyNotice(noticeInput('en', summary));

    expect(message.subject).toBe('appliance-notifier: notification works (cluster eu-prod-1, 28 Nov 2026)');
    expect(message.text).toContain('No event failed or was rejected in this period.');
    expect(message.text).not.toContain('delivery log');
  });

  it('names only what happened: rejected events cannot be replayed', () => {
    const summary = new Map([['unknown', counts(1, 0, 0, 1, 0)]]);

    const message = composeDailyNotice(noticeInput('en', summary));

    expect(message.subject).toBe(
      'appliance-notifier: notification works (cluster eu-prod-1, 28 Nov 2026; 1 rejected)',
    );
    expect(message.text).toContain(
      'In this period: 1 rejected. The delivery log of cluster eu-prod-1 on the admin page has the reasons',
    );
    expect(message.text).not.toContain('replayed');
  });

  it('lists the delivery settings in use and the recipients', () => {
    const message = composeDailyNotice(noticeInput('en', new Map()));

    expect(message.text).toContain('- Transport: SMTP relay smtp.example.com:587');
    expect(message.text).toContain('- Authentication: username and password (relay@example.com)');
    expect(message.text).toContain('- Recipients: ops@example.com, oncall@example.com');
    expect(visible(message.html)).toContain('Encryption: STARTTLS, certificate verified');
  });

  it.each([
    ['password', relayConfig('en'), PASSWORD],
    ['OAuth2 client secret', oauthConfig('de'), CLIENT_SECRET],
  ])('never shows the %s', (_, config, secret) => {
    const summary = summarizeDeliveries(sampleRecords());

    const message = composeDailyNotice(noticeInput(config.language, summary, config));

    expect(message.text).toContain(config.language === 'de' ? 'Authentifizierung' : 'Authentication');
    expect(JSON.stringify(message)).not.toContain(secret);
    expect(JSON.stringify(message)).not.toContain(Buffer.from(secret).toString('base64'));
  });

  it('sends from the sender to the admin contacts, marked as an automatic daily notice', () => {
    const message = composeDailyNotice(noticeInput('en', new Map()));

    expect(message.from).toBe('appliance@example.com');
    expect(message.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(message.headers).toEqual({
      'X-Appliance-Notifier-Kind': 'daily-notice',
      'X-Appliance-Notifier-Cluster': 'eu-prod-1',
      'X-Appliance-Notifier-Event': 'daily-notice:eu-prod-1:2026-11-28',
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
    });
    expect(message.text).toContain('Notice: daily-notice:eu-prod-1:2026-11-28');
  });

  it('escapes the titles and uses no external resources in the HTML', () => {
    const { html = '' } = composeDailyNotice(noticeInput('en', new Map()));

    // "Shared IP's network interface ..." has an apostrophe: it must arrive escaped.
    expect(visible(html)).toContain(escapeHtml(CATALOG['shared-ip-interface-disabled'].title.en));
    expect(visible(html)).not.toContain(CATALOG['shared-ip-interface-disabled'].title.en);
    expect(visible(html)).not.toMatch(/\b(src|href)=|url\(|<link|<img|<style/i);
  });
});
