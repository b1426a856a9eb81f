// The health of one cluster, as the fleet overview shows it: computed from its configuration, its
// last test email and the newest records of its delivery log. Pure: no store is read here.

import type { TestEmailSummary } from '../config/config-history.js';
import type { SmtpEncryption } from '../config/presets.js';
import type { PublicEmailConfig, PublicOAuthStatus } from '../config/public-config.js';
import type { CredentialHealth } from '../credentials/credential-health.js';
import type { DeliveryRecord, Outcome } from '../notify/delivery-ledger.js';

/** How many of a cluster's newest delivery records the overview reads: bounded per cluster. */
export const FLEET_LEDGER_READ_LIMIT = 200;

const DAY_MS = 24 * 60 * 60 * 1000;
/** A daily notice older than this (a day and a margin for the schedule) is overdue. */
export const DAILY_NOTICE_OVERDUE_MS = 26 * 60 * 60 * 1000;

export const HEALTH_LEVELS = ['failing', 'warning', 'ok'] as const;
export type HealthLevel = (typeof HEALTH_LEVELS)[number];

import type { HealthFindingCode } from './health-findings.js';

export { HEALTH_FINDING_CODES, type HealthFindingCode } from './health-findings.js';

/** One finding: its code and the figure its sentence names (`count`, or the test email's `stage`). */
export interface HealthFinding {
  code: HealthFindingCode;
  count?: number;
  stage?: string;
}

export interface ClusterHealth {
  clusterId: string;
  health: HealthLevel;
  /** Why the cluster is not `ok`, one sentence each, the worst first. */
  problems: string[];
  /** The same findings as `problems`, in the same order, as codes. */
  findings: HealthFinding[];
  transport: PublicEmailConfig['transport'];
  /** `host:port (encryption)` of the relay, or `Amazon SES`. */
  relay: string;
  /** The SMTP relay's parts, for a page that says the encryption in its own language. */
  smtp?: { host: string; port: number; encryption: SmtpEncryption };
  lastTestEmail?: TestEmailSummary;
  /** The newest event's record (daily notices aside). */
  lastDelivery?: { eventId: string; condition: string; outcome: Outcome; at: string; reason?: string };
  /** Among the records read, those whose outcome was recorded in the last 24 hours. */
  last24h: {
    sent: number;
    /** Given up (permanent failure, or every attempt failed). */
    failed: number;
    /** Refused for now by the relay (a 4xx reply, or recipients deferred): retried. */
    throttled: number;
  };
  /** Records that are not final yet: failed for now and retried, recipients pending, waiting in a group email. */
  pendingRetries: number;
  /** For OAuth2 relays. */
  oauth?: PublicOAuthStatus;
  /** How long the credentials still work; absent without credentials (SES, no authentication). */
  credentialHealth?: CredentialHealth;
  dailyNotice: { enabled: boolean; lastSentAt?: string; lastOutcome?: Outcome };
  /** What the figures above are based on: at most `limit` newest records; `complete` when that was all of them. */
  deliveryLog: { recordsRead: number; limit: number; complete: boolean };
  updatedAt: string;
}

export interface ClusterHealthInput {
  config: PublicEmailConfig;
  lastTestEmail?: TestEmailSummary;
  /** The cluster's newest records, newest first (at most `limit`). */
  records: DeliveryRecord[];
  limit: number;
  now: Date;
}

const DAILY_NOTICE = 'daily-notice';

/** A temporary refusal by the relay: a 4xx reply code in the reason, or recipients deferred. */
function throttled(record: DeliveryRecord): boolean {
  if ((record.pendingRecipients?.length ?? 0) > 0) return true;
  return record.outcome === 'failed' && record.transient === true && /\(4\d\d\b/.test(record.reason ?? '');
}

function pending(record: DeliveryRecord): boolean {
  return (
    record.outcome === 'grouped' ||
    (record.outcome === 'failed' && record.transient === true) ||
    (record.pendingRecipients?.length ?? 0) > 0
  );
}

function relayOf(config: PublicEmailConfig): string {
  if (config.transport === 'graph' && config.graph) return `Microsoft Graph (${config.graph.mailbox})`;
  if (config.transport === 'ses' || !config.smtp) return 'Amazon SES';
  const { host, port, encryption } = config.smtp;
  return `${host}:${port} (${{ tls: 'TLS', starttls: 'STARTTLS', none: 'no encryption' }[encryption]})`;
}

export function clusterHealth(input: ClusterHealthInput): ClusterHealth {
  const { config, lastTestEmail, records, limit, now } = input;
  const since = now.getTime() - DAY_MS;
  const recent = records.filter((record) => Date.parse(record.at) >= since);
  const events = records.filter((record) => record.condition !== DAILY_NOTICE);
  const notices = records.filter((record) => record.condition === DAILY_NOTICE);
  const newest = events[0];
  const lastNotice = notices[0];
  const lastNoticeSent = notices.find((record) => record.outcome === 'sent');
  const last24h = {
    sent: recent.filter((record) => record.outcome === 'sent').length,
    failed: recent.filter((record) => record.outcome === 'failed' && record.transient !== true).length,
    throttled: recent.filter(throttled).length,
  };
  const pendingRetries = records.filter(pending).length;

  // Each finding with its sentence: `problems` and `findings` come from one list, in one order.
  type Problem = { finding: HealthFinding; text: string };
  const failing: Problem[] = [];
  const warnings: Problem[] = [];
  if (lastTestEmail && !lastTestEmail.ok) {
    const stage = lastTestEmail.stage ?? 'unknown';
    failing.push({
      finding: { code: 'test-email-failed', stage },
      text: `The last test email failed at stage ${stage}`,
    });
  }
  if (
    config.oauth &&
    config.oauth.status !== 'authorized' &&
    config.oauth.status !== 'app-only' &&
    config.oauth.status !== 'service-account'
  ) {
    failing.push({ finding: { code: 'oauth-needs-authorization' }, text: 'OAuth2 needs to be authorized' });
  }
  const credentials = config.credentialHealth;
  if (credentials?.status === 'expired' || credentials?.status === 'failing') {
    failing.push({ finding: { code: 'credential-expired' }, text: credentials.detail });
  }
  if (newest?.outcome === 'failed') {
    failing.push(
      newest.transient
        ? {
            finding: { code: 'last-event-retrying' },
            text: 'The last event failed for now and is being retried',
          }
        : { finding: { code: 'last-event-failed' }, text: 'The last event was not delivered' },
    );
  }
  if (last24h.failed > 0) {
    failing.push({
      finding: { code: 'failed-24h', count: last24h.failed },
      text: `${last24h.failed} deliveries failed in the last 24 hours`,
    });
  }
  if (config.dailyNotice && lastNotice?.outcome === 'failed') {
    failing.push({ finding: { code: 'daily-notice-failed' }, text: 'The last daily notice failed' });
  }
  if (credentials?.status === 'expiring') {
    warnings.push({
      finding: { code: 'credential-expiring', count: credentials.daysLeft ?? 0 },
      text: credentials.detail,
    });
  }
  if (!lastTestEmail)
    warnings.push({ finding: { code: 'no-test-email' }, text: 'No test email was sent yet' });
  if (last24h.throttled > 0) {
    warnings.push({
      finding: { code: 'throttled-24h', count: last24h.throttled },
      text: `The relay refused ${last24h.throttled} deliveries for now in the last 24 hours`,
    });
  }
  if (pendingRetries > 0) {
    warnings.push({
      finding: { code: 'pending-retries', count: pendingRetries },
      text: `${pendingRetries} deliveries are waiting for a retry or a group email`,
    });
  }
  if (
    config.dailyNotice &&
    lastNoticeSent &&
    now.getTime() - Date.parse(lastNoticeSent.at) > DAILY_NOTICE_OVERDUE_MS
  ) {
    warnings.push({ finding: { code: 'daily-notice-overdue' }, text: 'The daily notice is overdue' });
  }
  const problems = [...failing, ...warnings];

  return {
    clusterId: config.clusterId,
    health: failing.length > 0 ? 'failing' : warnings.length > 0 ? 'warning' : 'ok',
    problems: problems.map((problem) => problem.text),
    findings: problems.map((problem) => problem.finding),
    transport: config.transport,
    relay: relayOf(config),
    ...(config.transport === 'smtp' && config.smtp
      ? { smtp: { host: config.smtp.host, port: config.smtp.port, encryption: config.smtp.encryption } }
      : {}),
    ...(lastTestEmail ? { lastTestEmail } : {}),
    ...(newest
      ? {
          lastDelivery: {
            eventId: newest.eventId,
            condition: newest.condition,
            outcome: newest.outcome,
            at: newest.at,
            ...(newest.reason ? { reason: newest.reason } : {}),
          },
        }
      : {}),
    last24h,
    pendingRetries,
    ...(config.oauth ? { oauth: config.oauth } : {}),
    ...(credentials ? { credentialHealth: credentials } : {}),
    dailyNotice: {
      enabled: config.dailyNotice,
      ...(lastNoticeSent ? { lastSentAt: lastNoticeSent.at } : {}),
      ...(lastNotice ? { lastOutcome: lastNotice.outcome } : {}),
    },
    deliveryLog: { recordsRead: records.length, limit, complete: records.length < limit },
    updatedAt: config.updatedAt,
  };
}

/** Unhealthy first (failing, then warning), then by cluster id. */
export function compareHealth(
  a: Pick<ClusterHealth, 'clusterId' | 'health'>,
  b: Pick<ClusterHealth, 'clusterId' | 'health'>,
): number {
  const rank = HEALTH_LEVELS.indexOf(a.health) - HEALTH_LEVELS.indexOf(b.health);
  return rank !== 0 ? rank : a.clusterId < b.clusterId ? -1 : a.clusterId > b.clusterId ? 1 : 0;
}
