// The two storm settings of the configuration document: `grouping` (how events of a cluster are
// gathered into one email) and `smtp.limits` (what the relay allows), with the relay presets.
import { describe, expect, it } from '@jest/globals';
import { type EmailConfig, EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { effectiveRelayLimits, relayLimitsPreset } from '../../functions/core/config/presets.js';
import { toPublicConfig } from '../../functions/core/config/public-config.js';
import { StoredEmailConfigSchema } from '../../functions/core/config/stored-config.js';
import { issuesFromZod } from '../../functions/kernel/field-issues.js';

const valid = {
  sender: 'appliance@example.com',
  smtp: {
    host: 'relay.example.net',
    port: 587,
    encryption: 'starttls',
    auth: { type: 'password', username: 'relay@example.com', password: 'S3cret!pass' },
  },
  adminContacts: 'ops@example.com',
};

const withSmtp = (patch: Record<string, unknown>) => ({ ...valid, smtp: { ...valid.smtp, ...patch } });

function issuesOf(input: unknown): Record<string, string> {
  const result = EmailConfigInputSchema.safeParse(input);
  if (result.success) return {};
  return Object.fromEntries(issuesFromZod(result.error).map((issue) => [issue.path, issue.message]));
}

const parse = (input: unknown): EmailConfig => EmailConfigInputSchema.parse(input);

describe('grouping', () => {
  it('defaults to 30 seconds and 5 minutes when absent, or per field when left out', () => {
    expect(parse(valid).grouping).toEqual({ waitSeconds: 30, intervalMinutes: 5 });
    expect(parse({ ...valid, grouping: {} }).grouping).toEqual({ waitSeconds: 30, intervalMinutes: 5 });
    expect(parse({ ...valid, grouping: { waitSeconds: 0 } }).grouping).toEqual({
      waitSeconds: 0,
      intervalMinutes: 5,
    });
    expect(parse({ ...valid, grouping: { intervalMinutes: 60 } }).grouping).toEqual({
      waitSeconds: 30,
      intervalMinutes: 60,
    });
  });

  it('takes numbers, and the bounds themselves', () => {
    expect(parse({ ...valid, grouping: { waitSeconds: 45, intervalMinutes: 10 } }).grouping).toEqual({
      waitSeconds: 45,
      intervalMinutes: 10,
    });
    expect(parse({ ...valid, grouping: { waitSeconds: 600, intervalMinutes: 1440 } }).grouping).toEqual({
      waitSeconds: 600,
      intervalMinutes: 1440,
    });
    expect(parse({ ...valid, grouping: { waitSeconds: 0, intervalMinutes: 1 } }).grouping).toEqual({
      waitSeconds: 0,
      intervalMinutes: 1,
    });
  });

  it.each([
    [{ waitSeconds: 601 }, 'grouping.waitSeconds', 'must be between 0 and 600 seconds (10 minutes)'],
    [{ waitSeconds: -1 }, 'grouping.waitSeconds', 'must be between 0 and 600 seconds (10 minutes)'],
    [
      { waitSeconds: '-1' },
      'grouping.waitSeconds',
      'must be a number, not a string: write -1 without quotes',
    ],
    [
      { waitSeconds: '45' },
      'grouping.waitSeconds',
      'must be a number, not a string: write 45 without quotes',
    ],
    [
      { intervalMinutes: ' 10 ' },
      'grouping.intervalMinutes',
      'must be a number, not a string: write 10 without quotes',
    ],
    [{ waitSeconds: 2.5 }, 'grouping.waitSeconds', 'must be a whole number'],
    [
      { waitSeconds: '2.5' },
      'grouping.waitSeconds',
      'must be a number, not a string: write 2.5 without quotes',
    ],
    [{ waitSeconds: 'soon' }, 'grouping.waitSeconds', 'must be a number of seconds'],
    [{ waitSeconds: '' }, 'grouping.waitSeconds', 'must be a number of seconds'],
    [{ waitSeconds: null }, 'grouping.waitSeconds', 'must be a number of seconds'],
    [{ intervalMinutes: 0 }, 'grouping.intervalMinutes', 'must be between 1 and 1440 minutes (one day)'],
    [{ intervalMinutes: 1441 }, 'grouping.intervalMinutes', 'must be between 1 and 1440 minutes (one day)'],
    [{ intervalMinutes: true }, 'grouping.intervalMinutes', 'must be a number of minutes'],
    [{ waitSecond: 10 }, 'grouping.waitSecond', 'is not a known field'],
  ])('rejects %j, naming %s', (grouping, path, message) => {
    expect(issuesOf({ ...valid, grouping })).toEqual({ [path]: message });
  });

  it('rejects a grouping that is not an object', () => {
    expect(issuesOf({ ...valid, grouping: 30 })).toEqual({
      grouping: 'must be an object like { "waitSeconds": 30, "intervalMinutes": 5 }',
    });
  });

  it('takes repeatIntervalMinutes as a number only, with its old messages', () => {
    expect(parse({ ...valid, repeatIntervalMinutes: 60 }).repeatIntervalMinutes).toBe(60);
    expect(issuesOf({ ...valid, repeatIntervalMinutes: '60' })).toEqual({
      repeatIntervalMinutes: 'must be a number, not a string: write 60 without quotes',
    });
    expect(issuesOf({ ...valid, repeatIntervalMinutes: 10081 })).toEqual({
      repeatIntervalMinutes: 'must be between 0 and 10080 (one week)',
    });
  });
});

describe('smtp.limits', () => {
  it('is optional, and an empty object is the same as leaving it out', () => {
    expect(parse(valid).smtp?.limits).toBeUndefined();
    expect(parse(withSmtp({ limits: {} })).smtp).not.toHaveProperty('limits');
  });

  it('takes either field alone, as a number', () => {
    expect(parse(withSmtp({ limits: { maxConnections: 2 } })).smtp?.limits).toEqual({ maxConnections: 2 });
    expect(parse(withSmtp({ limits: { messagesPerMinute: 10_000 } })).smtp?.limits).toEqual({
      messagesPerMinute: 10_000,
    });
    expect(parse(withSmtp({ limits: { maxConnections: 20, messagesPerMinute: 1 } })).smtp?.limits).toEqual({
      maxConnections: 20,
      messagesPerMinute: 1,
    });
  });

  it.each([
    [{ maxConnections: 0 }, 'smtp.limits.maxConnections', 'must be between 1 and 20 connections'],
    [{ maxConnections: 21 }, 'smtp.limits.maxConnections', 'must be between 1 and 20 connections'],
    [{ maxConnections: 1.5 }, 'smtp.limits.maxConnections', 'must be a whole number'],
    [{ maxConnections: 'three' }, 'smtp.limits.maxConnections', 'must be a number of connections'],
    [
      { messagesPerMinute: 0 },
      'smtp.limits.messagesPerMinute',
      'must be between 1 and 10000 messages per minute',
    ],
    [
      { messagesPerMinute: 10001 },
      'smtp.limits.messagesPerMinute',
      'must be between 1 and 10000 messages per minute',
    ],
    [
      { maxConnections: '2' },
      'smtp.limits.maxConnections',
      'must be a number, not a string: write 2 without quotes',
    ],
    [{ perDay: 100 }, 'smtp.limits.perDay', 'is not a known field'],
  ])('rejects %j, naming %s', (limits, path, message) => {
    expect(issuesOf(withSmtp({ limits }))).toEqual({ [path]: message });
  });

  it('is part of the relay: with transport ses there is no smtp block to carry it', () => {
    expect(issuesOf({ ...valid, transport: 'ses', smtp: undefined, limits: { maxConnections: 3 } })).toEqual({
      limits: 'is not a known field',
    });
  });
});

describe('relay presets', () => {
  it.each([
    ['smtp.office365.com', 'exchange-online', 3, 30],
    ['SMTP.Office365.COM', 'exchange-online', 3, 30],
    ['smtp.office365.com.', 'exchange-online', 3, 30],
    ['contoso-com.mail.protection.outlook.com', 'exchange-online', 3, 30],
    ['Contoso-COM.Mail.Protection.Outlook.com', 'exchange-online', 3, 30],
    ['smtp.gmail.com', 'gmail', 2, 20],
    ['smtp-relay.gmail.com', 'google-workspace-relay', 3, 30],
  ])('%s has the %s preset', (host, id, maxConnections, messagesPerMinute) => {
    expect(relayLimitsPreset(host)).toMatchObject({ id, maxConnections, messagesPerMinute });
    expect(effectiveRelayLimits({ host })).toEqual({
      maxConnections,
      messagesPerMinute,
      source: `preset:${id}`,
    });
  });

  it.each([
    'relay.example.net',
    'mail.protection.outlook.com',
    'outlook.com',
    'evil-mail.protection.outlook.com.example.net',
    'notmail.protection.outlook.com',
    'smtp.office365.com.example.net',
    'gmail.com',
    '10.0.0.25',
  ])('%s has no preset: unlimited', (host) => {
    expect(relayLimitsPreset(host)).toBeUndefined();
    expect(effectiveRelayLimits({ host })).toEqual({ source: 'none' });
  });

  it("takes the admin's limits over the preset, one field at a time", () => {
    const host = 'smtp.office365.com';

    expect(effectiveRelayLimits({ host, limits: { maxConnections: 1 } })).toEqual({
      maxConnections: 1,
      messagesPerMinute: 30,
      source: 'configured',
    });
    expect(effectiveRelayLimits({ host, limits: { messagesPerMinute: 10 } })).toEqual({
      maxConnections: 3,
      messagesPerMinute: 10,
      source: 'configured',
    });
    expect(effectiveRelayLimits({ host, limits: { maxConnections: 5, messagesPerMinute: 60 } })).toEqual({
      maxConnections: 5,
      messagesPerMinute: 60,
      source: 'configured',
    });
    expect(effectiveRelayLimits({ host, limits: {} })).toEqual({
      maxConnections: 3,
      messagesPerMinute: 30,
      source: 'preset:exchange-online',
    });
  });

  it('limits only what the admin set on a relay without a preset', () => {
    expect(effectiveRelayLimits({ host: 'relay.example.net', limits: { messagesPerMinute: 100 } })).toEqual({
      messagesPerMinute: 100,
      source: 'configured',
    });
  });
});

describe('stored documents and the public view', () => {
  const stored = (config: Record<string, unknown>) => ({
    schemaVersion: 1,
    clusterId: 'c1',
    updatedAt: '2026-11-28T10:00:00.000Z',
    config,
  });

  it('reads a document stored before grouping and limits existed, with the defaults', () => {
    // Prepare: exactly what an earlier version stored (already normalized, no new fields).
    const old = stored({
      sender: 'appliance@example.com',
      transport: 'smtp',
      smtp: {
        host: 'smtp.office365.com',
        port: 587,
        encryption: 'starttls',
        verifyCertificate: true,
        auth: { type: 'password', username: 'relay@example.com', password: 'S3cret!pass' },
      },
      adminContacts: ['ops@example.com'],
      dailyNotice: true,
      language: 'en',
      repeatIntervalMinutes: 240,
    });

    // Act
    const document = StoredEmailConfigSchema.parse(JSON.parse(JSON.stringify(old)));
    const view = toPublicConfig(document);

    // Assess
    expect(document.config.grouping).toEqual({ waitSeconds: 30, intervalMinutes: 5 });
    expect(document.config.smtp?.limits).toBeUndefined();
    expect(view.grouping).toEqual({ waitSeconds: 30, intervalMinutes: 5 });
    expect(view.smtp?.effectiveLimits).toEqual({
      maxConnections: 3,
      messagesPerMinute: 30,
      source: 'preset:exchange-online',
    });
  });

  it('shows the configured limits and the effective ones; GET sent back unchanged saves the same', () => {
    const config = parse({
      ...withSmtp({ host: 'smtp.gmail.com', limits: { maxConnections: 1 } }),
      grouping: { waitSeconds: 10, intervalMinutes: 15 },
    });
    const view = toPublicConfig(StoredEmailConfigSchema.parse(stored(config)));
    const fetched = JSON.parse(JSON.stringify(view));

    const again = parse(fetched);

    expect(view.smtp?.limits).toEqual({ maxConnections: 1 });
    expect(view.smtp?.effectiveLimits).toEqual({
      maxConnections: 1,
      messagesPerMinute: 20,
      source: 'configured',
    });
    expect(again.grouping).toEqual({ waitSeconds: 10, intervalMinutes: 15 });
    expect(again.smtp).toEqual({ ...config.smtp, auth: { type: 'password', username: 'relay@example.com' } });
    expect(again.smtp).not.toHaveProperty('effectiveLimits');
  });

  it('has no relay limits for transport ses', () => {
    const config = parse({ sender: 'a@example.com', transport: 'ses', adminContacts: 'b@example.com' });

    expect(toPublicConfig(StoredEmailConfigSchema.parse(stored(config))).smtp).toBeUndefined();
  });
});
