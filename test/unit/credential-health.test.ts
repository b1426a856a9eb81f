// The credential health watch with an injected clock: the status of an entered expiry at the
// warning boundaries, the refresh token's age against Microsoft's 90 days, a refused grant, the
// input's validation, and what the fleet health, the daily notice and the warning email say.
import { describe, expect, it } from '@jest/globals';
import { EmailConfigInputSchema, EmailConfigSchema } from '../../functions/core/config/email-config.js';
import { toPublicConfig } from '../../functions/core/config/public-config.js';
import {
  credentialHealth,
  credentialHealthOf,
  daysLeft,
  sendEvidenceOf,
  thresholdReached,
} from '../../functions/core/credentials/credential-health.js';
import {
  composeCredentialWarning,
  dueCredentialWarnings,
} from '../../functions/core/credentials/credential-warning.js';
import { composeDailyNotice } from '../../functions/core/daily-notice/daily-notice-email.js';
import { clusterHealth } from '../../functions/core/fleet/cluster-health.js';
import {
  authorizedGrant,
  microsoftOAuthConfig,
  passwordConfig,
  storedConfig,
} from '../support/config-fixtures.js';

const DAY = 24 * 60 * 60 * 1000;
const EXPIRES = '2027-03-31T00:00:00.000Z';
const SECRET = 'client-Secret-value-0123456789';
const REFRESH = 'refresh-token-value-abcdef';
const aheadOf = (ms: number) => new Date(Date.parse(EXPIRES) - ms);

const oauth = (auth: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) =>
  microsoftOAuthConfig({
    auth: { clientSecret: SECRET, clientSecretExpiresAt: '2027-03-31', ...auth },
    ...overrides,
  });

describe('credentialHealth of an entered client secret expiry', () => {
  it.each([
    ['15 days before', 15 * DAY, 'ok', 15],
    ['14 days and a minute before', 14 * DAY + 60_000, 'ok', 15],
    ['exactly 14 days before', 14 * DAY, 'expiring', 14],
    ['3 days before', 3 * DAY, 'expiring', 3],
    ['1 day before', DAY, 'expiring', 1],
    ['a minute before', 60_000, 'expiring', 1],
    ['at the instant', 0, 'expired', 0],
    ['2 days after', -2 * DAY, 'expired', -2],
  ])('%s: %s', (_when, ms, status, left) => {
    const health = credentialHealth({ config: oauth(), now: aheadOf(ms) });

    expect(health).toMatchObject({ status, credential: 'client-secret', expiresAt: EXPIRES, daysLeft: left });
    expect(health?.detail).toContain('client secret');
  });

  it('warns as many days ahead as configured', () => {
    expect(credentialHealth({ config: oauth(), now: aheadOf(20 * DAY), warningDays: 30 })?.status).toBe(
      'expiring',
    );
    expect(credentialHealth({ config: oauth(), now: aheadOf(20 * DAY), warningDays: 14 })?.status).toBe('ok');
  });

  it('says ok without an expiry, and nothing for SES or a relay without authentication', () => {
    const unknown = credentialHealth({
      config: oauth({ clientSecretExpiresAt: undefined }),
      now: aheadOf(DAY),
    });
    expect(unknown).toEqual({ status: 'ok', detail: expect.stringContaining('clientSecretExpiresAt') });
    const ses = EmailConfigSchema.parse({
      sender: 'a@example.com',
      transport: 'ses',
      adminContacts: 'ops@example.com',
    });
    expect(credentialHealth({ config: ses, now: aheadOf(DAY) })).toBeUndefined();
  });

  it('watches a relay password with passwordExpiresAt', () => {
    const config = passwordConfig({ password: 'pw' });
    const smtp = config.smtp ?? { host: 'x' };
    const withExpiry = EmailConfigSchema.parse({
      ...config,
      smtp: {
        ...smtp,
        auth: { type: 'password', username: 'u', password: 'pw', passwordExpiresAt: '2027-03-31' },
      },
    });
    expect(credentialHealth({ config: withExpiry, now: aheadOf(3 * DAY) })).toMatchObject({
      status: 'expiring',
      credential: 'password',
      daysLeft: 3,
    });
  });
});

describe('credentialHealth of the OAuth2 grant', () => {
  const config = oauth({ clientSecretExpiresAt: undefined });

  it('counts Microsoft’s 90 days from the last refresh, else from the authorization', () => {
    const lastRefreshAt = '2026-12-01T00:00:00.000Z';
    const grant = authorizedGrant(REFRESH, { lastRefreshAt });
    const at = (days: number) => new Date(Date.parse(lastRefreshAt) + days * DAY);

    expect(credentialHealth({ config, grant, now: at(70) })).toMatchObject({
      status: 'ok',
      credential: 'refresh-token',
      daysLeft: 20,
    });
    expect(credentialHealth({ config, grant, now: at(80) })).toMatchObject({
      status: 'expiring',
      daysLeft: 10,
    });
    expect(credentialHealth({ config, grant, now: at(90) })).toMatchObject({ status: 'expired' });
    const unrefreshed = authorizedGrant(REFRESH);
    expect(
      credentialHealth({ config, grant: unrefreshed, now: new Date('2027-02-20T18:00:00.000Z') }),
    ).toMatchObject({
      expiresAt: '2027-02-26T18:00:00.000Z',
      status: 'expiring',
    });
  });

  it('takes an end the provider gave (refresh_token_expires_in) when it is earlier', () => {
    const grant = { ...authorizedGrant(REFRESH), refreshTokenExpiresAt: '2026-12-05T18:00:00.000Z' };
    expect(credentialHealth({ config, grant, now: new Date('2026-12-03T18:00:00.000Z') })).toMatchObject({
      status: 'expiring',
      credential: 'refresh-token',
      daysLeft: 2,
    });
  });

  it.each([
    [
      'invalid_grant',
      'The provider refused the stored refresh token (... answered 400 invalid_grant: AADSTS700082: expired)',
    ],
    [
      'AADSTS7000222',
      'The token endpoint answered 401 invalid_client: AADSTS7000222: The provided client secret keys are expired',
    ],
  ])('is failing after a refusal (%s), before any expiry', (code, lastError) => {
    const grant = authorizedGrant(REFRESH, { lastError, lastErrorAt: '2026-12-01T03:00:00.000Z' });
    const health = credentialHealth({ config: oauth(), grant, now: aheadOf(100 * DAY) });
    expect(health?.status).toBe('failing');
    expect(health?.detail).toContain(code === 'invalid_grant' ? 'AADSTS700082' : code);
  });

  it('ignores a grant of another app registration (credentialHealthOf)', () => {
    const stored = {
      ...storedConfig('c1', config),
      oauth: authorizedGrant(REFRESH, {
        lastError: 'invalid_grant',
        binding: { ...authorizedGrant(REFRESH).binding, clientId: 'other' },
      }),
    };
    expect(credentialHealthOf(stored, new Date('2026-12-01T00:00:00Z'))?.status).toBe('ok');
  });
});

describe('credentialHealth of a configuration without a grant: the latest delivery decides', () => {
  const appOnly = oauth({
    flow: 'client-credentials',
    tenant: 'contoso.onmicrosoft.com',
    user: 'alerts@example.com',
    clientSecretExpiresAt: undefined,
  });
  const graph = EmailConfigSchema.parse({
    sender: 'alerts@contoso.example',
    transport: 'graph',
    graph: {
      mailbox: 'alerts@contoso.example',
      tenant: 'contoso.onmicrosoft.com',
      clientId: 'graph-app',
      clientSecret: SECRET,
    },
    adminContacts: 'ops@example.com',
  });
  const savedAt = '2026-11-20T00:00:00.000Z';
  const now = new Date('2026-12-01T12:00:00.000Z');
  const refused = {
    outcome: 'failed',
    at: '2026-11-30T08:00:00.000Z',
    reason:
      'auth failed: The token endpoint refused the request: invalid_client: AADSTS7000222: The provided client secret keys for app are expired.',
  };
  const sent = { outcome: 'sent', at: '2026-11-30T09:00:00.000Z' };

  it.each([
    ['app-only SMTP', appOnly],
    ['transport graph', graph],
  ])(
    '%s: a refusal in the latest delivery is failing, naming the code, the day and what to check',
    (_what, config) => {
      const stored = { ...storedConfig('c1', config), updatedAt: savedAt };
      const health = credentialHealthOf(stored, now, undefined, sendEvidenceOf([refused]));
      expect(health).toMatchObject({ status: 'failing', credential: 'client-secret' });
      expect(health?.detail).toBe(
        'The provider refused the OAuth2 client secret (AADSTS7000222) on 2026-11-30, and nothing has been delivered since: check the client secret and the permission’s admin consent in the Entra ID app registration, then send a test email',
      );
    },
  );

  it('a delivery that went out afterwards clears it; one from before the last save does not count', () => {
    const stored = { ...storedConfig('c1', appOnly), updatedAt: savedAt };
    expect(credentialHealthOf(stored, now, undefined, sendEvidenceOf([refused, sent]))?.status).toBe('ok');
    const resaved = { ...stored, updatedAt: '2026-11-30T08:30:00.000Z' };
    expect(credentialHealthOf(resaved, now, undefined, sendEvidenceOf([refused]))?.status).toBe('ok');
  });

  it('a failure that is not the provider’s refusal (a relay down) says nothing of the credentials', () => {
    const stored = { ...storedConfig('c1', appOnly), updatedAt: savedAt };
    const down = {
      outcome: 'failed',
      at: '2026-11-30T10:00:00.000Z',
      reason: 'connect failed: ECONNREFUSED',
    };
    expect(credentialHealthOf(stored, now, undefined, sendEvidenceOf([refused, sent, down]))?.status).toBe(
      'ok',
    );
  });

  it('counts the last test email of a saved configuration, never one of an unsaved form', () => {
    const stored = { ...storedConfig('c1', appOnly), updatedAt: savedAt };
    const test = (of: object) => ({
      ok: false,
      at: '2026-11-30T11:00:00.000Z',
      message: 'unauthorized_client: Client is unauthorized to retrieve access tokens using this method',
      of,
    });
    expect(
      credentialHealthOf(stored, now, undefined, sendEvidenceOf([sent], test({ version: 3 }))),
    ).toMatchObject({ status: 'failing' });
    expect(
      credentialHealthOf(stored, now, undefined, sendEvidenceOf([sent], test({ unsaved: true })))?.status,
    ).toBe('ok');
  });

  it('a delegated grant keeps its own record: deliveries do not make it failing', () => {
    const stored = {
      ...storedConfig('c1', oauth()),
      updatedAt: savedAt,
      oauth: authorizedGrant(REFRESH),
    };
    expect(credentialHealthOf(stored, aheadOf(100 * DAY), undefined, sendEvidenceOf([refused]))?.status).toBe(
      'ok',
    );
  });
});

describe('clientSecretExpiresAt as input', () => {
  const body = (value: unknown) => ({
    sender: 'appliance@example.com',
    smtp: {
      host: 'smtp.office365.com',
      port: 587,
      encryption: 'starttls',
      auth: {
        type: 'oauth2',
        provider: 'microsoft',
        clientId: 'app',
        clientSecret: SECRET,
        clientSecretExpiresAt: value,
      },
    },
    adminContacts: 'ops@example.com',
  });

  it('takes a date, a date and time, and a past date', () => {
    for (const value of ['2027-03-31', '2027-03-31T12:00:00Z', '2027-03-31T12:00:00+02:00', '2020-01-01']) {
      expect(EmailConfigInputSchema.safeParse(body(value)).success).toBe(true);
    }
  });

  it.each(['31.03.2027', 'tomorrow', '2027-02-30', 42])('refuses %p with the field named', (value) => {
    const result = EmailConfigInputSchema.safeParse(body(value));
    expect(result.success).toBe(false);
    const issue = result.error?.issues.find((i) => i.path.join('.') === 'smtp.auth.clientSecretExpiresAt');
    expect(issue?.message).toContain('ISO date');
  });
});

describe('the overview, the daily notice and the warning email', () => {
  const now = aheadOf(3 * DAY);
  // Authorized, with a refresh today: only the client secret's expiry matters.
  const stored = {
    ...storedConfig('c1', oauth()),
    oauth: authorizedGrant(REFRESH, { lastRefreshAt: now.toISOString() }),
  };
  const health = credentialHealthOf(stored, now);

  it('GET shows it beside the auth, without the secret', () => {
    const view = toPublicConfig(stored, health);
    expect(view.credentialHealth).toMatchObject({ status: 'expiring', daysLeft: 3 });
    expect(view.smtp?.auth).toMatchObject({ clientSecretExpiresAt: '2027-03-31', clientSecretSet: true });
    expect(JSON.stringify(view)).not.toContain(SECRET);
    expect(JSON.stringify(view)).not.toContain(REFRESH);
  });

  it('the fleet health warns with credential-expiring (count = days left), and fails with credential-expired', () => {
    const input = {
      lastTestEmail: { ok: true, at: now.toISOString(), of: { version: 1 } },
      records: [],
      limit: 10,
      now,
    };
    const expiring = clusterHealth({ ...input, config: toPublicConfig(stored, health) });
    expect(expiring.health).toBe('warning');
    expect(expiring.findings).toContainEqual({ code: 'credential-expiring', count: 3 });
    expect(expiring.credentialHealth?.status).toBe('expiring');
    const expired = clusterHealth({
      ...input,
      config: toPublicConfig(stored, credentialHealthOf(stored, aheadOf(0))),
    });
    expect(expired.health).toBe('failing');
    expect(expired.findings).toContainEqual({ code: 'credential-expired' });
    const fine = clusterHealth({
      ...input,
      config: toPublicConfig(stored, credentialHealthOf(stored, aheadOf(30 * DAY))),
    });
    expect(fine.findings.map((f) => f.code)).not.toContain('credential-expiring');
  });

  it.each([
    ['en', 'The OAuth2 client secret expires in 3 days (on 31 Mar 2027)'],
    ['de', 'Der geheime Clientschlüssel (OAuth2) läuft in 3 Tagen ab (am 31.03.2027)'],
  ] as const)('the daily notice (%s) has a line for it; an ok credential has none', (language, line) => {
    const config = { ...stored.config, language };
    const compose = (h: typeof health) =>
      composeDailyNotice({
        clusterId: 'c1',
        config,
        now,
        periodStart: new Date(now.getTime() - DAY),
        counts: new Map(),
        noticeId: 'daily-notice:c1:2027-03-28',
        ...(h ? { credentialHealth: h } : {}),
      });
    const message = compose(health);
    expect(message.text).toContain(line);
    expect(message.html).toContain(line.split(' (')[0]?.split(' ').slice(-2).join(' '));
    expect(message.text + message.html).not.toContain(SECRET);
    const ok = compose(credentialHealthOf(stored, aheadOf(30 * DAY)));
    expect(ok.text).not.toContain(line.slice(0, 20));
  });

  it('a warning is due per credential at the smallest threshold reached, with a deterministic id', () => {
    const due = (ms: number) =>
      dueCredentialWarnings({ clusterId: 'c1', config: stored.config, now: aheadOf(ms) });
    expect(due(15 * DAY)).toEqual([]);
    expect(due(14 * DAY).map((w) => w.id)).toEqual([`credential-warning:c1:client-secret:14:${EXPIRES}`]);
    expect(due(4 * DAY).map((w) => w.threshold)).toEqual([14]);
    expect(due(3 * DAY).map((w) => w.threshold)).toEqual([3]);
    expect(due(DAY).map((w) => w.threshold)).toEqual([1]);
    expect(due(0).map((w) => w.threshold)).toEqual([0]);
    expect([15, 14, 10, 3, 2, 1, 0, -1].map((d) => thresholdReached(d))).toEqual([
      undefined,
      14,
      14,
      3,
      3,
      1,
      0,
      0,
    ]);
    expect(daysLeft(new Date(EXPIRES), aheadOf(DAY + 1))).toBe(2);
  });

  it.each([
    ['en', 'credential expires soon', 'A credential expires soon'],
    ['de', 'Anmeldeinformation läuft bald ab', 'Eine Anmeldeinformation läuft bald ab'],
  ] as const)(
    'the warning email (%s) is in the common layout, to the admin contacts, without the secret',
    (language, subject, heading) => {
      const config = { ...stored.config, language };
      const [warning] = dueCredentialWarnings({ clusterId: 'c1', config, now });
      if (!warning) throw new Error('no warning due');
      const message = composeCredentialWarning({
        clusterId: 'c1',
        config,
        warning,
        now,
        publicBaseUrl: 'https://notifier.example.com',
      });
      expect(message.to).toEqual(config.adminContacts);
      expect(message.subject).toContain(subject);
      expect(message.text.split('\n')[0]).toBe(heading);
      expect(message.html).toContain('<!DOCTYPE html');
      expect(message.html).toContain('https://notifier.example.com');
      expect(message.headers?.['X-Appliance-Notifier-Kind']).toBe('credential-warning');
      expect(JSON.stringify(message)).not.toContain(SECRET);
    },
  );
});
