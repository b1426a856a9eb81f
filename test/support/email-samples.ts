// Every kind of email the service sends, composed from the samples in both languages: each
// condition's email (some with folded repeats), a group email with superseded events, the test
// email and a daily notice with problems. The unit tests check their headers, links and words;
// the browser test renders their HTML on a phone's width.
import { CONDITION_IDS, type ConditionId, supersessionReason } from '../../events/catalog.js';
import { validateConditionEvent } from '../../events/envelope.js';
import { loadSample } from '../../events/samples.js';
import type { EmailConfig } from '../../functions/core/config/email-config.js';
import {
  composeDailyNotice,
  summarizeDeliveries,
} from '../../functions/core/daily-notice/daily-notice-email.js';
import type { OutgoingMessage } from '../../functions/core/mail/mailer.js';
import { composeTestEmail } from '../../functions/core/mail/test-email.js';
import { composeConditionEmail } from '../../functions/core/notify/condition-email.js';
import type { DeliveryRecord, Outcome } from '../../functions/core/notify/delivery-ledger.js';
import {
  composeGroupEmail,
  type GroupMember,
  type InhibitedMember,
} from '../../functions/core/notify/group-email.js';
import type { Language } from '../../functions/kernel/text.js';
import { passwordConfig, storedConfig } from './config-fixtures.js';

export const SAMPLE_CLUSTER = 'eu-prod-1';
export const SAMPLE_BASE_URL = 'https://abc123defg.execute-api.eu-central-1.amazonaws.com';

export type EmailKind = 'condition' | 'group' | 'test-email' | 'daily-notice';

export interface SampleEmail {
  kind: EmailKind;
  /** e.g. `condition backup-promoted (de)`. */
  name: string;
  message: OutgoingMessage;
}

function configFor(
  language: Language,
): EmailConfig & { grouping: { waitSeconds: number; intervalMinutes: number } } {
  return {
    ...passwordConfig({ password: 'relay-Pa55word-never-shown', language, repeatIntervalMinutes: 240 }),
    grouping: { waitSeconds: 60, intervalMinutes: 15 },
  };
}

function valid(id: ConditionId, hostname?: string) {
  const sample = loadSample(id);
  const result = validateConditionEvent({
    ...sample,
    detail: {
      ...sample.detail,
      clusterId: SAMPLE_CLUSTER,
      appliance: { ...sample.detail.appliance, ...(hostname ? { hostname } : {}) },
    },
  });
  if (!result.ok || result.id !== id) throw new Error(`sample ${id} was rejected`);
  return result;
}

function member(id: ConditionId, seconds: number, hostname?: string): GroupMember {
  const { condition, detail, envelope } = valid(id, hostname);
  return {
    eventId: `${envelope.id}-${seconds}`,
    condition,
    detail,
    eventTime: envelope.time,
    receivedAt: new Date(Date.parse(envelope.time) + seconds * 1000).toISOString(),
  };
}

function records(): DeliveryRecord[] {
  const outcomes: [string, Outcome][] = [
    ['backup-promoted', 'sent'],
    ['promotion-pending', 'inhibited'],
    ['data-sync-stale', 'folded'],
    ['data-sync-stale', 'failed'],
    ['shared-ip-interface-disabled', 'rejected'],
    ['no-such-condition', 'rejected'],
  ];
  return outcomes.map(([condition, outcome], i) => ({
    clusterId: SAMPLE_CLUSTER,
    eventId: `event-${i}`,
    condition,
    outcome,
    recipients: outcome === 'sent' ? ['ops@example.com'] : [],
    at: '2026-11-28T03:00:00.000Z',
    receivedAt: '2026-11-28T02:59:59.500Z',
    eventTime: '2026-11-28T02:59:59Z',
    ...(outcome === 'failed' || outcome === 'rejected' ? { reason: 'a reason' } : {}),
  }));
}

/** One of each kind and condition, in `language`; with the admin page link when `publicBaseUrl` is given. */
export function sampleEmails(language: Language, publicBaseUrl?: string): SampleEmail[] {
  const config = configFor(language);
  const link = publicBaseUrl ? { publicBaseUrl } : {};
  const conditions = CONDITION_IDS.map((id, index): SampleEmail => {
    const { condition, detail, envelope } = valid(id);
    return {
      kind: 'condition',
      name: `condition ${id} (${language})`,
      message: composeConditionEmail({
        condition,
        detail,
        eventId: envelope.id,
        eventTime: envelope.time,
        clusterId: SAMPLE_CLUSTER,
        config,
        // Every other one with folded repeats, one of them unconfirmed.
        ...(index % 2 === 0
          ? {
              folded: {
                count: index + 1,
                since: '2026-11-28T02:20:00.000Z',
                lastSentAt: '2026-11-28T02:14:09.000Z',
                ...(index === 2 ? { lastSentUnconfirmed: true } : {}),
              },
            }
          : {}),
        ...link,
      }),
    };
  });

  const promoted = member('backup-promoted', 5, 'pra-backup-01.dc2.example.internal');
  const members = [
    promoted,
    member('data-sync-stale', 30),
    member('version-mismatch', 12),
    member('version-mismatch', 14, 'pra-backup-02'),
  ];
  const alsoReported: InhibitedMember[] = (['promotion-pending', 'primary-check-failed'] as const).map(
    (id) => {
      const { condition, detail, envelope } = valid(id, 'pra-backup-03');
      return {
        eventId: `${envelope.id}-also`,
        condition,
        detail,
        receivedAt: new Date(Date.parse(envelope.time) + 2000).toISOString(),
        supersededBy: { eventId: promoted.eventId, conditionId: 'backup-promoted' },
        why: supersessionReason('backup-promoted', id) ?? '',
      };
    },
  );
  const group: SampleEmail = {
    kind: 'group',
    name: `group (${language})`,
    message: composeGroupEmail({
      clusterId: SAMPLE_CLUSTER,
      groupId: 'group-2026-11-28T03:01:48Z',
      config,
      members,
      alsoReported,
      openedAt: '2026-11-28T03:01:48.000Z',
      closedAt: '2026-11-28T03:02:48.000Z',
      ...link,
    }),
  };

  const test: SampleEmail = {
    kind: 'test-email',
    name: `test email (${language})`,
    message: composeTestEmail(
      storedConfig(SAMPLE_CLUSTER, config),
      new Date('2026-11-28T03:04:05.000Z'),
      publicBaseUrl,
    ),
  };

  const now = new Date('2026-11-28T06:00:00.000Z');
  const daily: SampleEmail = {
    kind: 'daily-notice',
    name: `daily notice (${language})`,
    message: composeDailyNotice({
      clusterId: SAMPLE_CLUSTER,
      config,
      now,
      periodStart: new Date(now.getTime() - 86_400_000),
      counts: summarizeDeliveries(records()),
      noticeId: `daily-notice:${SAMPLE_CLUSTER}:2026-11-28`,
      ...link,
    }),
  };

  return [...conditions, group, test, daily];
}

/** The HTML without its soft hyphens (`&shy;`), to look for a text as the reader sees it. */
export function visible(html: string | undefined): string {
  return (html ?? '').replaceAll('&shy;', '');
}
