import { describe, expect, it } from '@jest/globals';
import { type EmailConfig, EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { toPublicConfig } from '../../functions/core/config/public-config.js';
import { keepStoredSecrets, missingSecrets } from '../../functions/core/config/secrets.js';
import { issuesFromZod } from '../../functions/kernel/field-issues.js';

const valid = {
  sender: 'appliance@example.com',
  transport: 'smtp',
  smtp: {
    host: 'smtp.office365.com',
    port: 587,
    encryption: 'starttls',
    auth: { type: 'password', username: 'relay@example.com', password: 'S3cret!pass' },
  },
  adminContacts: 'ops@example.com oncall@example.com',
  dailyNotice: true,
  language: 'en',
};

function issuesOf(input: unknown): Record<string, string> {
  const result = EmailConfigInputSchema.safeParse(input);
  if (result.success) return {};
  return Object.fromEntries(issuesFromZod(result.error).map((issue) => [issue.path, issue.message]));
}

function parse(input: unknown): EmailConfig {
  return EmailConfigInputSchema.parse(input);
}

describe('email configuration model', () => {
  it('accepts the SPEC document and fills the defaults', () => {
    const config = parse(valid);

    expect(config.adminContacts).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(config.smtp?.verifyCertificate).toBe(true);
    expect(config.repeatIntervalMinutes).toBe(240);
  });

  it('names the field and the reason for an out-of-range port', () => {
    expect(issuesOf({ ...valid, smtp: { ...valid.smtp, port: 70000 } })).toEqual({
      'smtp.port': 'must be between 1 and 65535',
    });
  });

  it.each([
    ['sender', { sender: 'appliance@example.com\r\nBcc: victim@example.org' }],
    ['sender', { sender: '"Ops\nTeam" <ops@example.com>' }],
    ['adminContacts', { adminContacts: 'ops@example.com\nBcc: victim@example.org' }],
    ['adminContacts.0', { adminContacts: ['ops@example.com\r'] }],
    ['smtp.auth.username', { smtp: { ...valid.smtp, auth: { type: 'password', username: 'a\u0000b' } } }],
  ])('rejects control characters in %s', (path, patch) => {
    const issues = issuesOf({ ...valid, ...patch });

    expect(issues[path]).toMatch(/control characters/);
  });

  it('takes admin contacts as a space-separated string or an array, deduplicated', () => {
    expect(
      parse({ ...valid, adminContacts: '  a@example.com  B@example.com b@example.com ' }).adminContacts,
    ).toEqual(['a@example.com', 'B@example.com']);
    expect(parse({ ...valid, adminContacts: ['a@example.com'] }).adminContacts).toEqual(['a@example.com']);
  });

  it('points at the one bad contact address', () => {
    expect(issuesOf({ ...valid, adminContacts: 'ops@example.com not-an-address' })).toEqual({
      'adminContacts.1': '"not-an-address" is not an email address like name@example.com',
    });
  });

  it('reports unknown fields at their own path', () => {
    expect(issuesOf({ ...valid, smtp: { ...valid.smtp, prot: 25 } })).toEqual({
      'smtp.prot': 'is not a known field',
    });
  });

  it('requires the relay for transport smtp and refuses it for ses', () => {
    const { smtp: _smtp, ...withoutSmtp } = valid;

    expect(issuesOf(withoutSmtp)).toEqual({ smtp: 'is required when transport is "smtp"' });
    expect(issuesOf({ ...valid, transport: 'ses' })).toEqual({
      smtp: 'must be absent when transport is "ses"',
    });
    expect(parse({ ...withoutSmtp, transport: 'ses' }).transport).toBe('ses');
  });

  it('fills OAuth2 endpoints and scopes from the provider preset', () => {
    const config = parse({
      ...valid,
      smtp: {
        ...valid.smtp,
        auth: { type: 'oauth2', provider: 'microsoft', tenant: 'contoso.onmicrosoft.com', clientId: 'app' },
      },
    });

    expect(config.smtp?.auth).toMatchObject({
      tenant: 'contoso.onmicrosoft.com',
      authorizationEndpoint:
        'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
      tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      scopes: ['https://outlook.office.com/SMTP.Send', 'offline_access'],
    });
  });

  it('requires every endpoint for the custom provider and refuses plain http off loopback', () => {
    const auth = {
      type: 'oauth2',
      provider: 'custom',
      clientId: 'app',
      scopes: 'mail',
      tokenEndpoint: 'http://idp.example.com/token',
    };

    expect(issuesOf({ ...valid, smtp: { ...valid.smtp, auth } })).toEqual({
      'smtp.auth.tokenEndpoint': 'must be an https:// URL',
    });
    expect(
      issuesOf({
        ...valid,
        smtp: { ...valid.smtp, auth: { ...auth, tokenEndpoint: 'http://127.0.0.1:8080/token' } },
      }),
    ).toEqual({ 'smtp.auth.authorizationEndpoint': 'is required for the custom provider' });
  });

  it('accepts a document fetched with GET and sent back unchanged', () => {
    const stored = {
      schemaVersion: 1 as const,
      clusterId: 'c1',
      updatedAt: '2026-11-28T10:00:00.000Z',
      config: parse(valid),
    };
    const fetched = JSON.parse(JSON.stringify(toPublicConfig(stored)));

    const again = parse(fetched);

    expect(again.smtp?.auth).toEqual({ type: 'password', username: 'relay@example.com' });
  });
});

describe('secrets', () => {
  const stored = parse(valid);

  it('keeps the stored password when a save leaves it out or empty', () => {
    const input = parse({
      ...valid,
      smtp: { ...valid.smtp, auth: { type: 'password', username: 'relay@example.com', password: '' } },
    });

    const merged = keepStoredSecrets(input, stored);

    expect(merged.smtp?.auth).toMatchObject({ password: 'S3cret!pass' });
  });

  it('asks for a password when none is stored', () => {
    const input = parse({ ...valid, smtp: { ...valid.smtp, auth: { type: 'password', username: 'u' } } });

    expect(missingSecrets(keepStoredSecrets(input, undefined))).toEqual([
      { path: 'smtp.auth.password', message: 'is required (no password is stored yet)' },
    ]);
  });

  it('never shows a secret in the public view, only whether it is set', () => {
    const view = toPublicConfig({
      schemaVersion: 1,
      clusterId: 'c1',
      updatedAt: '2026-11-28T10:00:00.000Z',
      config: stored,
    });

    expect(JSON.stringify(view)).not.toContain('S3cret!pass');
    expect(view).toMatchObject({ smtp: { auth: { type: 'password', passwordSet: true } } });
  });
});
