import { describe, expect, it } from '@jest/globals';
import { CATALOG, type ConditionId, supersessionReason } from '../../events/catalog.js';
import { type ValidConditionEvent, validateConditionEvent } from '../../events/envelope.js';
import { loadSample } from '../../events/samples.js';
import { composeRawMessage } from '../../functions/adapters/smtp/mime.js';
import type { EmailConfig } from '../../functions/core/config/email-config.js';
import { composeConditionEmail, type FoldedSummary } from '../../functions/core/notify/condition-email.js';
import {
  composeGroupEmail,
  type GroupEmailInput,
  type GroupingPolicy,
  type GroupMember,
  type InhibitedMember,
  MAX_DETAILED_MEMBERS,
  MAX_EVENTS_HEADER_LENGTH,
} from '../../functions/core/notify/group-email.js';
import { escapeHtml, type Language } from '../../functions/kernel/text.js';
import { passwordConfig } from '../support/config-fixtures.js';
import { visible } from '../support/email-samples.js';

const PASSWORD = 'relay-Pa55word-never-shown';

function config(
  language: Language,
  overrides: Record<string, unknown> = {},
  grouping?: GroupingPolicy,
): EmailConfig & { grouping?: GroupingPolicy } {
  const base = passwordConfig({ password: PASSWORD, language, ...overrides });
  return grouping ? { ...base, grouping } : base;
}

interface MemberOptions {
  eventId?: string;
  hostname?: string;
  /** Seconds after the sample's own time that the event arrived. */
  arrivesAfter?: number;
  folded?: FoldedSummary;
  detail?: Record<string, unknown>;
}

function validSample(id: ConditionId, options: MemberOptions): ValidConditionEvent {
  const sample = loadSample(id);
  const appliance = {
    ...sample.detail.appliance,
    ...(options.hostname ? { hostname: options.hostname } : {}),
  };
  const result = validateConditionEvent({
    ...sample,
    ...(options.eventId ? { id: options.eventId } : {}),
    detail: { ...sample.detail, appliance, ...options.detail },
  });
  if (!result.ok || result.id !== id) throw new Error(`sample ${id} was rejected`);
  return result;
}

function member(id: ConditionId, options: MemberOptions = {}): GroupMember {
  const { condition, detail, envelope } = validSample(id, options);
  return {
    eventId: envelope.id,
    condition,
    detail,
    eventTime: envelope.time,
    receivedAt: new Date(Date.parse(envelope.time) + (options.arrivesAfter ?? 1) * 1000).toISOString(),
    ...(options.folded ? { folded: options.folded } : {}),
  };
}

function inhibited(id: ConditionId, by: GroupMember, options: MemberOptions = {}): InhibitedMember {
  const { condition, detail, envelope } = validSample(id, options);
  return {
    eventId: envelope.id,
    condition,
    detail,
    receivedAt: new Date(Date.parse(envelope.time) + 1000).toISOString(),
    supersededBy: { eventId: by.eventId, conditionId: by.condition.id },
    why: supersessionReason(by.condition.id, id) ?? 'no reason in the catalog',
  };
}

function groupInput(
  language: Language,
  members: GroupMember[],
  alsoReported: InhibitedMember[] = [],
  extra: Partial<GroupEmailInput> = {},
): GroupEmailInput {
  return {
    clusterId: 'eu-prod-1',
    groupId: 'grp-eu-prod-1-0001',
    config: config(language),
    members,
    alsoReported,
    openedAt: '2026-11-28T03:00:00Z',
    closedAt: '2026-11-28T03:10:00Z',
    ...extra,
  };
}

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

/** The failover incident: the backup took over, two other backups lost their test IPs. */
function incident() {
  const promoted = member('backup-promoted');
  const testIps02 = member('test-ips-unreachable', {
    eventId: 'e-test-ips-02',
    hostname: 'pra-backup-02.example.com',
    arrivesAfter: 2,
  });
  const testIps03 = member('test-ips-unreachable', {
    eventId: 'e-test-ips-03',
    hostname: 'pra-backup-03.example.com',
    arrivesAfter: 5,
  });
  const pending = inhibited('promotion-pending', promoted);
  return { promoted, testIps02, testIps03, pending, members: [testIps02, promoted, testIps03] };
}

const LANGUAGES = ['en', 'de'] as const;

describe('composeGroupEmail: subject and order', () => {
  it.each([
    [
      'en',
      '[CRITICAL] 3 conditions in cluster eu-prod-1: Backup became primary: the primary was silent too long on pra-backup-01.example.com (+2 more)',
    ],
    [
      'de',
      '[KRITISCH] 3 Meldungen im Cluster eu-prod-1: Sicherungsknoten ist zum primären Knoten geworden: Der primäre Knoten antwortete zu lange nicht – pra-backup-01.example.com (+2 weitere)',
    ],
  ] as const)(
    '(%s) names the cluster, the count, the worst severity and the headline',
    (language, subject) => {
      const { members, pending } = incident();

      const message = composeGroupEmail(groupInput(language, members, [pending]));

      expect(message.subject).toBe(subject);
    },
  );

  it.each(LANGUAGES)('(%s) puts critical conditions first, then by arrival, in text and HTML', (language) => {
    const stale = member('data-sync-stale', { arrivesAfter: -7200 }); // warning, arrived first
    const testIps = member('test-ips-unreachable'); // warning, 03:01:47
    const mismatch = member('version-mismatch'); // critical, 02:14:09
    const promoted = member('backup-promoted'); // critical, 03:08:47
    const titles = [mismatch, promoted, stale, testIps].map((m) => m.condition.title[language]);

    const {
      subject,
      text,
      html = '',
    } = composeGroupEmail(groupInput(language, [testIps, stale, promoted, mismatch]));

    const inText = titles.map((title) => text.indexOf(title));
    const inHtml = titles.map((title) => visible(html).indexOf(`>${escapeHtml(title)}</h2>`));
    expect(inText.every((i) => i >= 0)).toBe(true);
    expect(inHtml.every((i) => i >= 0)).toBe(true);
    expect([...inText].sort((a, b) => a - b)).toEqual(inText);
    expect([...inHtml].sort((a, b) => a - b)).toEqual(inHtml);
    expect(subject).toContain(`: ${mismatch.condition.title[language]} `);
  });

  it('uses the warning tag and no priority when no member is critical', () => {
    const message = composeGroupEmail(
      groupInput('en', [member('data-sync-stale'), member('test-ips-unreachable')]),
    );

    expect(message.subject).toMatch(/^\[WARNING\] 2 conditions in cluster eu-prod-1: /);
    expect(message.headers).not.toHaveProperty('X-Priority');
    expect(message.headers).not.toHaveProperty('Importance');
    expect(visible(message.html)).not.toContain('#b00020');
  });

  it.each([
    ['en', '(+1 also reported)', '(cluster eu-prod-1)'],
    ['de', '(+1 ebenfalls gemeldet)', '(Cluster eu-prod-1)'],
  ] as const)(
    '(%s) one condition with a superseded event reads like the single subject, plus the count',
    (language, suffix, cluster) => {
      const { promoted, pending } = incident();

      const message = composeGroupEmail(groupInput(language, [promoted], [pending]));

      expect(message.subject).toBe(
        `${language === 'de' ? '[KRITISCH]' : '[CRITICAL]'} ${promoted.condition.title[language]} ${language === 'de' ? '–' : 'on'} pra-backup-01.example.com ${cluster} ${suffix}`,
      );
    },
  );
});

describe('composeGroupEmail: the body', () => {
  it.each([
    [
      'en',
      '4 events from 3 appliances arrived between 28 Nov 2026, 03:01:48 UTC and 28 Nov 2026, 03:08:47 UTC (6 min 59 s). Worst severity: CRITICAL. 3 are reported below, critical first, then by arrival. 1 superseded event is listed under "Also reported".',
    ],
    [
      'de',
      '4 Ereignisse von 3 Appliances gingen zwischen 28.11.2026, 03:01:48 UTC und 28.11.2026, 03:08:47 UTC ein (6 Min. 59 Sek.). Höchster Schweregrad: KRITISCH. 3 davon sind unten beschrieben, kritische zuerst, dann in der Reihenfolge des Eingangs. 1 überholtes Ereignis steht unter „Ebenfalls gemeldet“.',
    ],
  ] as const)(
    '(%s) opens with a summary: events, appliances, time span, worst severity',
    (language, summary) => {
      const { members, pending } = incident();

      const { text, html } = composeGroupEmail(groupInput(language, members, [pending]));

      expect(text.split('\n')[2]).toBe(summary);
      expect(visible(html)).toContain(escapeHtml(summary));
    },
  );

  it.each(LANGUAGES)(
    '(%s) shows one section per condition: each appliance with its facts, the checks once',
    (language) => {
      const { members, testIps02, testIps03 } = incident();
      const condition = CATALOG['test-ips-unreachable'];

      const { text, html = '' } = composeGroupEmail(groupInput(language, members));

      const heading =
        language === 'de'
          ? `${condition.title.de} (2 Ereignisse, 2 Appliances)`
          : `${condition.title.en} (2 events, 2 appliances)`;
      expect(count(text, heading)).toBe(1);
      expect(count(visible(html), escapeHtml(heading))).toBe(1);
      for (const m of [testIps02, testIps03]) {
        expect(text).toContain(`${language === 'de' ? 'Von' : 'From'} ${m.detail.appliance.hostname}:`);
        expect(text).toContain(`${m.eventId} (`);
        expect(visible(html)).toContain(escapeHtml(m.eventId));
      }
      // Facts of each appliance, the shared facts with the role, and the condition's facts.
      expect(count(text, '10.20.0.1, 192.0.2.53')).toBe(2);
      expect(text).toContain(
        language === 'de'
          ? 'pra-backup-03.example.com (Sicherungsknoten, Version 24.3.2)'
          : 'pra-backup-03.example.com (backup, version 24.3.2)',
      );
      condition.checks[language].forEach((step, i) => {
        expect(count(text, `${i + 1}. ${step}`)).toBe(1);
        expect(count(visible(html), escapeHtml(step))).toBe(1);
      });
      expect(count(text, condition.description[language])).toBe(1);
      // The other condition keeps its own checks.
      expect(text).toContain(`1. ${CATALOG['backup-promoted'].checks[language][0]}`);
    },
  );

  it.each([
    [
      'en',
      'Also reported:',
      'Superseded by "Backup became primary: the primary was silent too long" (c4263cfd-6c06-4b4f-8c4f-3a868ea44043): The promotion the countdown announced has happened: the backup is the primary now.',
      'Backup will become primary if the primary stays silent, from pra-backup-01.example.com, observed at 28 Nov 2026, 03:04:12 UTC (event c7ceb950-1aa1-4039-8048-70ebd936615d)',
    ],
    [
      'de',
      'Ebenfalls gemeldet:',
      'Überholt durch „Sicherungsknoten ist zum primären Knoten geworden: Der primäre Knoten antwortete zu lange nicht“ (c4263cfd-6c06-4b4f-8c4f-3a868ea44043): Die angekündigte Übernahme ist erfolgt: Der Sicherungsknoten ist jetzt der primäre Knoten.',
      'Sicherungsknoten wird zum primären Knoten, wenn der primäre Knoten weiterhin nicht antwortet, von pra-backup-01.example.com, festgestellt am 28.11.2026, 03:04:12 UTC (Ereignis c7ceb950-1aa1-4039-8048-70ebd936615d)',
    ],
  ] as const)(
    '(%s) lists superseded events under "also reported", with the superseder and why',
    (language, heading, superseded, item) => {
      const { members, pending } = incident();

      const { text, html = '' } = composeGroupEmail(groupInput(language, members, [pending]));

      const section = text.slice(text.indexOf(heading));
      expect(text.indexOf(heading)).toBeGreaterThan(
        text.indexOf(CATALOG['test-ips-unreachable'].checks[language][0] ?? '?'),
      );
      expect(section).toContain(`- ${item}`);
      expect(section).toContain(superseded);
      expect(visible(html)).toContain(escapeHtml(item));
      expect(visible(html)).toContain(escapeHtml(superseded));
      // Superseded: not a section of its own, its checks not repeated.
      expect(text).not.toContain(CATALOG['promotion-pending'].checks[language][0]);
    },
  );

  it.each(LANGUAGES)('(%s) ends with the group, every event id, and the policies', (language) => {
    const { members, pending, promoted, testIps02, testIps03 } = incident();
    const input = groupInput(language, members, [pending], {
      config: config(language, { repeatIntervalMinutes: 240 }, { waitSeconds: 30, intervalMinutes: 5 }),
    });

    const { text, html } = composeGroupEmail(input);

    const footer = text.slice(text.indexOf('\n-- \n'));
    const ids = [promoted, testIps02, testIps03].map((m) => m.eventId).join(', ');
    expect(footer).toContain(`${language === 'de' ? 'Ereignisse' : 'Events'} (3): ${ids}`);
    expect(footer).toContain(
      `${language === 'de' ? 'Ebenfalls gemeldet' : 'Also reported'} (1): ${pending.eventId}`,
    );
    expect(footer).toContain(
      language === 'de'
        ? 'Gruppe: grp-eu-prod-1-0001 (Ereignisse mit Eingang zwischen 28.11.2026, 03:00:00 UTC und 28.11.2026, 03:10:00 UTC)'
        : 'Group: grp-eu-prod-1-0001 (events arriving between 28 Nov 2026, 03:00:00 UTC and 28 Nov 2026, 03:10:00 UTC)',
    );
    const grouping =
      language === 'de'
        ? 'Ereignisse dieses Clusters, die innerhalb von 30 Sek. nach dem ersten eingehen, werden in einer E-Mail gesendet; spätere folgen in der nächsten E-Mail, höchstens eine je 5 Minuten.'
        : 'Events of this cluster that arrive within 30 s of the first are sent in one email; later ones follow in the next email, at most one per 5 minutes.';
    const folding =
      language === 'de'
        ? 'Wiederholungen einer Meldung von derselben Appliance innerhalb von 4 Stunden nach einer E-Mail werden zusammengefasst'
        : 'Repeats of a condition from the same appliance within 4 hours of an email are folded';
    expect(text).toContain(grouping);
    expect(text).toContain(folding);
    expect(visible(html)).toContain(escapeHtml(grouping));
    expect(visible(html)).toContain(escapeHtml(ids));
  });

  it('states the grouping policy of the configuration (defaults: 30 s, 5 minutes)', () => {
    const { members } = incident();

    const { text } = composeGroupEmail(groupInput('en', members));

    expect(text).toContain('within 30 s of the first are sent in one email');
    expect(text).toContain('Repeats of a condition from the same appliance');
  });

  it.each([
    ['en', 'Each event of this cluster is emailed on its own.'],
    ['de', 'Jedes Ereignis dieses Clusters wird einzeln per E-Mail gesendet.'],
  ] as const)('(%s) says so when grouping is off', (language, expected) => {
    const { members } = incident();
    const input = groupInput(language, members, [], {
      config: config(language, {}, { waitSeconds: 0, intervalMinutes: 5 }),
    });

    expect(composeGroupEmail(input).text).toContain(expected);
  });

  it.each([
    [
      'en',
      '3 repeats of this condition from this appliance were not emailed since 28 Nov 2026, 03:00:00 UTC',
    ],
    [
      'de',
      'Seit 28.11.2026, 03:00:00 UTC wurden 3 Wiederholungen dieser Meldung von dieser Appliance nicht per E-Mail gesendet',
    ],
  ] as const)('(%s) notes folded repeats under the member they belong to', (language, note) => {
    const folded = { count: 3, since: '2026-11-28T03:00:00Z', lastSentAt: '2026-11-28T02:30:00Z' };
    const { promoted, testIps02 } = incident();
    const testIps03 = member('test-ips-unreachable', {
      eventId: 'e-test-ips-03',
      hostname: 'pra-backup-03.example.com',
      folded,
    });

    const { text, html } = composeGroupEmail(groupInput(language, [promoted, testIps02, testIps03]));

    expect(count(text, note)).toBe(1);
    const from = language === 'de' ? 'Von' : 'From';
    expect(text.indexOf(note)).toBeGreaterThan(text.indexOf(`${from} pra-backup-03.example.com:`));
    expect(visible(html)).toContain(escapeHtml(note));
  });

  it('escapes appliance text in HTML and keeps it raw in the text', () => {
    const hostile = 'probe <script>alert(1)</script> & "quoted" failed';
    const members = [member('self-check-failed', { detail: { error: hostile } }), member('backup-promoted')];

    const { text, html = '' } = composeGroupEmail(groupInput('en', members));

    expect(text).toContain(`Error: ${hostile}`);
    expect(visible(html)).toContain(
      'probe &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; failed',
    );
    expect(visible(html)).not.toContain('<script');
    expect(visible(html)).not.toMatch(/\b(src|href)=|url\(|<link|<img|<style/i);
  });

  it('never shows a secret of the configuration', () => {
    const { members, pending } = incident();

    expect(JSON.stringify(composeGroupEmail(groupInput('en', members, [pending])))).not.toContain(PASSWORD);
  });

  it('refuses an empty group', () => {
    expect(() => composeGroupEmail(groupInput('en', []))).toThrow(/at least one member/);
  });
});

describe('composeGroupEmail: a cluster storm', () => {
  const storm = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const id: ConditionId = i % 5 === 0 ? 'primary-check-failed' : 'test-ips-unreachable';
      return member(id, {
        eventId: `storm-${String(i).padStart(3, '0')}-0b66b4ab-ea8e-482d-a75c`,
        hostname: `pra-backup-${String(i).padStart(3, '0')}.example.com`,
        arrivesAfter: i,
      });
    });

  it.each(LANGUAGES)(
    '(%s) 500 members: the first 50 in detail, the rest in a table, every id in the body',
    async (language) => {
      const members = storm(500);

      const message = composeGroupEmail(groupInput(language, members));

      const { text, html = '' } = message;
      const from = language === 'de' ? 'Von ' : 'From ';
      expect(count(text, `\n${from}pra-backup-`)).toBe(MAX_DETAILED_MEMBERS);
      expect(text).toContain(language === 'de' ? 'Weitere Ereignisse (450):' : 'Further events (450):');
      for (const m of members) {
        expect(text).toContain(m.eventId);
        expect(text).toContain(m.detail.appliance.hostname);
        expect(visible(html)).toContain(m.detail.appliance.hostname);
      }
      // Checks stay once per condition, however many members it has.
      expect(count(text, CATALOG['test-ips-unreachable'].checks[language][0] ?? '?')).toBe(1);
      expect(count(text, CATALOG['primary-check-failed'].checks[language][0] ?? '?')).toBe(1);
      // The 100 critical ones come first: the detailed 50 are all critical.
      expect(text).toContain(
        language === 'de'
          ? '50 weitere Ereignisse dieser Meldung stehen unten unter „Weitere Ereignisse“.'
          : '50 more events of this condition are listed under "Further events" below.',
      );
      expect(text).toContain(
        language === 'de'
          ? 'Alle 400 Ereignisse dieser Meldung stehen unten unter „Weitere Ereignisse“.'
          : 'All 400 events of this condition are listed under "Further events" below.',
      );
      // What the relay receives, MIME-encoded: well under any relay's size limit, and a size a phone opens.
      const { raw } = await composeRawMessage(message);
      expect(raw.length).toBeLessThan(400 * 1024);
    },
  );

  it('caps the events header and counts the rest in a second header', () => {
    const members = storm(200);

    const { headers = {} } = composeGroupEmail(groupInput('en', members));

    const listed = (headers['X-Appliance-Notifier-Events'] ?? '').split(', ');
    expect((headers['X-Appliance-Notifier-Events'] ?? '').length).toBeLessThanOrEqual(
      MAX_EVENTS_HEADER_LENGTH,
    );
    expect(listed.length).toBeGreaterThan(10);
    expect(headers['X-Appliance-Notifier-Events-More']).toBe(
      `and ${200 - listed.length} more (the email body lists every event id)`,
    );
    // The critical ones (every fifth) come first.
    expect(listed[0]).toBe('storm-000-0b66b4ab-ea8e-482d-a75c');
    expect(listed[1]).toBe('storm-005-0b66b4ab-ea8e-482d-a75c');
  });

  it('composes to MIME with every header line within the RFC 5322 limit', async () => {
    const message = composeGroupEmail(groupInput('de', storm(200)));

    const { raw } = await composeRawMessage(message);

    const head = raw.toString('utf8').split('\r\n\r\n')[0] ?? '';
    for (const line of head.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
    const unfolded = head.replace(/\r\n[ \t]+/g, ' ');
    expect(unfolded).toContain(
      `X-Appliance-Notifier-Events: ${message.headers?.['X-Appliance-Notifier-Events']}`,
    );
    expect(unfolded).toContain('X-Appliance-Notifier-Group: grp-eu-prod-1-0001');
  });
});

describe('composeGroupEmail: headers', () => {
  it('carries the group, the cluster, the events and the headline event, raised priority when critical', () => {
    const { members, pending, promoted, testIps02, testIps03 } = incident();

    const message = composeGroupEmail(groupInput('en', members, [pending]));

    expect(message.from).toBe('appliance@example.com');
    expect(message.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(message.headers).toEqual({
      'X-Appliance-Notifier-Kind': 'group',
      'X-Appliance-Notifier-Event': promoted.eventId,
      'X-Appliance-Notifier-Condition': 'backup-promoted',
      'X-Appliance-Notifier-Cluster': 'eu-prod-1',
      'X-Appliance-Notifier-Group': 'grp-eu-prod-1-0001',
      'X-Appliance-Notifier-Events': `${promoted.eventId}, ${testIps02.eventId}, ${testIps03.eventId}`,
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
      'X-Priority': '1',
      Importance: 'high',
    });
  });

  // The detail schemas forbid line breaks in a hostname; this is the guard behind them.
  const breakHostname = (m: GroupMember): GroupMember => ({
    ...m,
    detail: {
      ...m.detail,
      appliance: { ...m.detail.appliance, hostname: 'evil.example.com\r\nBcc: victim@example.org' },
    },
  });

  it.each([
    [
      'a hostname in the subject (group)',
      (g: GroupEmailInput) => ({ ...g, members: g.members.map(breakHostname) }),
    ],
    [
      'a hostname in the subject (one member)',
      (g: GroupEmailInput) => ({ ...g, members: g.members.slice(1, 2).map(breakHostname) }),
    ],
    ['the group id', (g: GroupEmailInput) => ({ ...g, groupId: 'grp\r\nBcc: victim@example.org' })],
    [
      'the group id (one member)',
      (g: GroupEmailInput) => ({ ...g, members: g.members.slice(0, 1), groupId: 'grp\nX: y' }),
    ],
    [
      'an event id',
      (g: GroupEmailInput) => ({
        ...g,
        members: [
          { ...(g.members[0] as GroupMember), eventId: 'e\r\nBcc: v@example.org' },
          ...g.members.slice(1),
        ],
      }),
    ],
    ['the cluster id', (g: GroupEmailInput) => ({ ...g, clusterId: 'eu\u2028prod' })],
  ])('refuses to build a message when %s would break a header line', (_, change) => {
    const { members } = incident();
    const input = change(groupInput('en', members));

    expect(() => composeGroupEmail(input)).toThrow(/control characters/);
  });
});

describe('composeGroupEmail: one member and nothing superseded', () => {
  it.each(LANGUAGES)('(%s) is the condition email, plus the group headers', (language) => {
    const folded = { count: 2, since: '2026-11-28T03:00:00Z', lastSentAt: '2026-11-28T02:30:00Z' };
    const only = member('promotion-pending', { folded });
    const single = composeConditionEmail({
      condition: only.condition,
      detail: only.detail,
      eventId: only.eventId,
      eventTime: only.eventTime,
      clusterId: 'eu-prod-1',
      config: config(language),
      folded,
    });

    const grouped = composeGroupEmail(groupInput(language, [only]));

    const {
      'X-Appliance-Notifier-Group': group,
      'X-Appliance-Notifier-Events': events,
      ...rest
    } = grouped.headers ?? {};
    expect(group).toBe('grp-eu-prod-1-0001');
    expect(events).toBe(only.eventId);
    expect({ ...grouped, headers: rest }).toEqual(single);
  });
});
