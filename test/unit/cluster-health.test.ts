// The fleet overview's health of one cluster, from its configuration, its last test email and
// its newest delivery records; and the order: unhealthy first, then by cluster id.
import { describe, expect, it } from '@jest/globals';
import { EmailConfigSchema } from '../../functions/core/config/email-config.js';
import { toPublicConfig } from '../../functions/core/config/public-config.js';
import { STORED_SCHEMA_VERSION } from '../../functions/core/config/stored-config.js';
import {
  type ClusterHealth,
  clusterHealth,
  compareHealth,
  FLEET_LEDGER_READ_LIMIT,
  HEALTH_FINDING_CODES,
} from '../../functions/core/fleet/cluster-health.js';
import type { DeliveryRecord } from '../../functions/core/notify/delivery-ledger.js';
import { microsoftOAuthSmtp, passwordConfig } from '../support/config-fixtures.js';
import { HOUR, recordOf } from '../support/ledger-fixtures.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const tested = { ok: true, at: ago(HOUR), of: { version: 1 } };

function config(overrides: Record<string, unknown> = {}) {
  return toPublicConfig({
    schemaVersion: STORED_SCHEMA_VERSION,
    clusterId: 'c1',
    updatedAt: ago(48 * HOUR),
    config: passwordConfig({ password: 'x', dailyNotice: true, ...overrides }),
  });
}

function record(eventId: string, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  const at = overrides.at ?? ago(HOUR);
  return recordOf({ clusterId: 'c1', eventId, at, receivedAt: at, ...overrides });
}

const health = (records: DeliveryRecord[], extra: Partial<Parameters<typeof clusterHealth>[0]> = {}) =>
  clusterHealth({
    config: config(),
    lastTestEmail: tested,
    records,
    limit: FLEET_LEDGER_READ_LIMIT,
    now: NOW,
    ...extra,
  });

describe('clusterHealth', () => {
  it('is ok for a tested cluster whose deliveries and daily notice went out, with its relay and figures', () => {
    const result = health([
      record('e2'),
      record('daily-notice:c1:2026-12-01', { condition: 'daily-notice', at: ago(3 * HOUR) }),
      record('e1', { at: ago(30 * HOUR) }),
    ]);

    expect(result).toMatchObject({
      clusterId: 'c1',
      health: 'ok',
      problems: [],
      findings: [],
      transport: 'smtp',
      relay: 'smtp.example.com:587 (STARTTLS)',
      lastTestEmail: tested,
      lastDelivery: { eventId: 'e2', outcome: 'sent' },
      last24h: { sent: 2, failed: 0, throttled: 0 },
      pendingRetries: 0,
      dailyNotice: { enabled: true, lastSentAt: ago(3 * HOUR), lastOutcome: 'sent' },
      deliveryLog: { recordsRead: 3, limit: FLEET_LEDGER_READ_LIMIT, complete: true },
    });
  });

  it('names SES as the relay of an SES configuration', () => {
    const ses = toPublicConfig({
      schemaVersion: STORED_SCHEMA_VERSION,
      clusterId: 'c1',
      updatedAt: ago(HOUR),
      config: EmailConfigSchema.parse({
        sender: 'a@example.com',
        transport: 'ses',
        adminContacts: 'ops@example.com',
      }),
    });

    expect(health([], { config: ses })).toMatchObject({ transport: 'ses', relay: 'Amazon SES' });
  });

  it('is failing after a failed test email, a final failure in 24 h, or a failed last event', () => {
    const failedTest = health([], {
      lastTestEmail: { ok: false, stage: 'auth', at: ago(HOUR), of: { unsaved: true } },
    });
    const failed = health([
      record('e2'),
      record('e1', { outcome: 'failed', transient: false, at: ago(2 * HOUR) }),
    ]);
    const old = health([record('e1', { outcome: 'failed', transient: false, at: ago(30 * HOUR) })]);

    expect(failedTest.health).toBe('failing');
    expect(failedTest.problems[0]).toMatch(/stage auth/);
    expect(failedTest.findings).toEqual([{ code: 'test-email-failed', stage: 'auth' }]);
    expect(failed.findings).toEqual([{ code: 'failed-24h', count: 1 }]);
    expect(failed).toMatchObject({ health: 'failing', last24h: { failed: 1 } });
    expect(old).toMatchObject({ health: 'failing', last24h: { failed: 0 } });
    expect(old.problems).toEqual(['The last event was not delivered']);
    expect(old.findings).toEqual([{ code: 'last-event-failed' }]);
  });

  it('counts 4xx refusals as throttling and retried records as pending: a warning', () => {
    const result = health([
      record('e3', { outcome: 'grouped' }),
      record('e2', { pendingRecipients: ['oncall@example.com'], transient: true }),
      record('e1', {
        outcome: 'failed',
        transient: true,
        reason: 'attempt 1 of 6 failed, next at 12:05: envelope failed (451 4.7.0): try again later',
        at: ago(2 * HOUR),
      }),
      record('e0', { outcome: 'sent', at: ago(3 * HOUR) }),
    ]);

    // The newest event waits in a group email; e1 failed for now, but it is not the newest.
    expect(result).toMatchObject({ last24h: { throttled: 2, failed: 0 }, pendingRetries: 3 });
    expect(result.health).toBe('warning');
    expect(result.findings).toEqual([
      { code: 'throttled-24h', count: 2 },
      { code: 'pending-retries', count: 3 },
    ]);
  });

  it('is failing when OAuth2 needs authorization, and warns when never tested or the daily notice is overdue', () => {
    const oauth = config({ smtp: microsoftOAuthSmtp({ clientSecret: 's', user: 'alerts@contoso.com' }) });
    const unauthorized = health([], { config: oauth });
    const untested = health([], { lastTestEmail: undefined });
    const overdue = health([
      record('daily-notice:c1:2026-11-29', { condition: 'daily-notice', at: ago(50 * HOUR) }),
    ]);

    expect(unauthorized).toMatchObject({ health: 'failing', oauth: { status: 'needs-authorization' } });
    expect(untested).toMatchObject({ health: 'warning', problems: ['No test email was sent yet'] });
    expect(overdue).toMatchObject({ health: 'warning', problems: ['The daily notice is overdue'] });
    expect(unauthorized.findings).toEqual([{ code: 'oauth-needs-authorization' }]);
    expect(untested.findings).toEqual([{ code: 'no-test-email' }]);
    expect(overdue.findings).toEqual([{ code: 'daily-notice-overdue' }]);
  });

  it('gives one finding per problem, in the same order, each code one of HEALTH_FINDING_CODES', () => {
    // Prepare: the newest event retried, an older final failure, a failed daily notice, no test email.
    const result = health(
      [
        record('e2', { outcome: 'failed', transient: true, reason: 'attempt 1 of 6 failed (451 4.7.0)' }),
        record('daily-notice:c1:2026-12-01', { condition: 'daily-notice', outcome: 'failed' }),
        record('e1', { outcome: 'failed', transient: false, at: ago(2 * HOUR) }),
      ],
      { lastTestEmail: undefined },
    );

    // Assess
    expect(result.findings.map((finding) => finding.code)).toEqual([
      'last-event-retrying',
      'failed-24h',
      'daily-notice-failed',
      'no-test-email',
      'throttled-24h',
      'pending-retries',
    ]);
    expect(result.problems).toHaveLength(result.findings.length);
    expect(result.problems[0]).toBe('The last event failed for now and is being retried');
    expect(result.problems[4]).toBe('The relay refused 1 deliveries for now in the last 24 hours');
    expect(result.findings.every((finding) => HEALTH_FINDING_CODES.includes(finding.code))).toBe(true);
  });

  it('says when the records read were not all of them', () => {
    const records = Array.from({ length: 3 }, (_, i) => record(`e${i}`));

    expect(health(records, { limit: 3 }).deliveryLog).toEqual({ recordsRead: 3, limit: 3, complete: false });
  });
});

describe('compareHealth', () => {
  it('sorts failing, then warning, then ok, and by cluster id within each', () => {
    const of = (clusterId: string, level: ClusterHealth['health']) => ({ clusterId, health: level });
    const sorted = [
      of('b', 'ok'),
      of('c', 'warning'),
      of('a', 'ok'),
      of('z', 'failing'),
      of('d', 'failing'),
    ].sort(compareHealth);

    expect(sorted.map((c) => c.clusterId)).toEqual(['d', 'z', 'c', 'a', 'b']);
  });
});
