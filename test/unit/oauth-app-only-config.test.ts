// The app-only (client-credentials) OAuth2 configuration: what a save must name, what GET shows
// of the certificate, which secrets are kept, redacted and sealed at rest.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { generate } from 'selfsigned';
import {
  CONFIG_SECRET_FIELDS,
  openSecretsInJson,
  SecretBox,
  sealSecretsInJson,
} from '../../functions/adapters/local/secret-box.js';
import { type EmailConfig, EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { toPublicConfig } from '../../functions/core/config/public-config.js';
import { keepStoredSecrets, missingSecrets, secretsOf } from '../../functions/core/config/secrets.js';
import { credentialHealth } from '../../functions/core/credentials/credential-health.js';
import { clusterHealth } from '../../functions/core/fleet/cluster-health.js';
import { storedConfig } from '../support/config-fixtures.js';

let key: { privateKeyPem: string; certificatePem: string };
let other: { privateKeyPem: string; certificatePem: string };

const pems = async (commonName: string) => {
  const made = await generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date('2026-01-01T00:00:00.000Z'),
    notAfterDate: new Date('2027-06-30T00:00:00.000Z'),
  });
  return { privateKeyPem: made.private, certificatePem: made.cert };
};

beforeAll(async () => {
  [key, other] = await Promise.all([pems('notifier'), pems('other')]);
});

const body = (auth: Record<string, unknown>) => ({
  sender: 'alerts@example.com',
  smtp: {
    host: 'smtp.office365.com',
    port: 587,
    encryption: 'starttls',
    auth: {
      type: 'oauth2',
      provider: 'microsoft',
      tenant: 'contoso.onmicrosoft.com',
      clientId: 'app',
      ...auth,
    },
  },
  adminContacts: 'ops@example.com',
});

function issuesOf(input: unknown): { path: string; message: string }[] {
  const result = EmailConfigInputSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

function parse(input: unknown): EmailConfig {
  return EmailConfigInputSchema.parse(input);
}

describe('flow client-credentials', () => {
  it('defaults the scope to Exchange Online’s .default and keeps the delegated flow the default', () => {
    const appOnly = parse(
      body({ flow: 'client-credentials', user: 'alerts@example.com', clientSecret: 's3cret' }),
    );
    const delegated = parse(body({ clientSecret: 's3cret' }));

    expect(appOnly.smtp?.auth).toMatchObject({
      flow: 'client-credentials',
      scopes: ['https://outlook.office365.com/.default'],
      tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
    });
    expect(delegated.smtp?.auth).toMatchObject({
      scopes: ['https://outlook.office.com/SMTP.Send', 'offline_access'],
    });
    expect(delegated.smtp?.auth).not.toHaveProperty('flow');
  });

  it('requires the mailbox (user)', () => {
    expect(issuesOf(body({ flow: 'client-credentials', clientSecret: 's3cret' }))).toEqual([
      { path: 'smtp.auth.user', message: expect.stringMatching(/required for flow "client-credentials"/) },
    ]);
  });

  it('requires a client secret or a certificate, after the stored ones are merged in', () => {
    const neither = parse(body({ flow: 'client-credentials', user: 'alerts@example.com' }));
    const certificateWithoutKey = parse(
      body({
        flow: 'client-credentials',
        user: 'alerts@example.com',
        clientCertificate: { certificatePem: key.certificatePem },
      }),
    );
    const withCertificate = parse(
      body({ flow: 'client-credentials', user: 'alerts@example.com', clientCertificate: key }),
    );

    expect(missingSecrets(neither)).toEqual([
      {
        path: 'smtp.auth.clientSecret',
        message: expect.stringMatching(/client secret or a clientCertificate/),
      },
    ]);
    expect(missingSecrets(certificateWithoutKey)).toEqual([
      { path: 'smtp.auth.clientCertificate.privateKeyPem', message: expect.stringMatching(/is required/) },
    ]);
    expect(missingSecrets(withCertificate)).toEqual([]);
  });

  it('names the field of a PEM that is not one, and a key that does not belong to the certificate', () => {
    const badKey = { flow: 'client-credentials', user: 'alerts@example.com' };
    expect(
      issuesOf(
        body({
          ...badKey,
          clientCertificate: { privateKeyPem: 'not a key', certificatePem: key.certificatePem },
        }),
      ),
    ).toEqual([
      {
        path: 'smtp.auth.clientCertificate.privateKeyPem',
        message: expect.stringMatching(/PEM private key/),
      },
    ]);
    expect(
      issuesOf(
        body({
          ...badKey,
          clientCertificate: {
            privateKeyPem: key.privateKeyPem,
            certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
          },
        }),
      ),
    ).toEqual([
      { path: 'smtp.auth.clientCertificate.certificatePem', message: 'is not a readable PEM certificate' },
    ]);
    expect(
      issuesOf(
        body({
          ...badKey,
          clientCertificate: { privateKeyPem: other.privateKeyPem, certificatePem: key.certificatePem },
        }),
      ),
    ).toEqual([
      {
        path: 'smtp.auth.clientCertificate.privateKeyPem',
        message: expect.stringMatching(/does not belong to the certificate/),
      },
    ]);
  });

  it('refuses Google, and a certificate for the delegated flow', () => {
    expect(
      issuesOf({
        ...body({}),
        smtp: {
          ...body({}).smtp,
          host: 'smtp.gmail.com',
          auth: {
            type: 'oauth2',
            provider: 'google',
            clientId: 'g',
            clientSecret: 's',
            flow: 'client-credentials',
            user: 'a@example.com',
          },
        },
      }),
    ).toEqual([
      { path: 'smtp.auth.flow', message: expect.stringMatching(/Google has no client-credentials grant/) },
    ]);
    expect(issuesOf(body({ clientSecret: 's', clientCertificate: key }))).toEqual([
      { path: 'smtp.auth.clientCertificate', message: expect.stringMatching(/client-credentials" only/) },
    ]);
  });
});

describe('the certificate’s private key is a secret', () => {
  it('GET shows privateKeySet, the thumbprints and the expiry, never the key; the status is app-only', () => {
    const config = parse(
      body({ flow: 'client-credentials', user: 'alerts@example.com', clientCertificate: key }),
    );

    const view = toPublicConfig(storedConfig('c1', config));

    expect(JSON.stringify(view)).not.toContain('PRIVATE KEY');
    expect(view.oauth).toEqual({ status: 'app-only' });
    expect(view.smtp?.auth).toMatchObject({
      clientSecretSet: false,
      clientCertificate: {
        privateKeySet: true,
        thumbprint: expect.stringMatching(/^[A-Za-z0-9_-]{27}$/),
        thumbprintSha256: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        notAfter: '2027-06-30T00:00:00.000Z',
      },
    });
    // The view parses back as a save (read-only fields ignored) and keeps the stored key.
    const resaved = keepStoredSecrets(parse(view), config);
    expect(resaved.smtp?.auth).toEqual(config.smtp?.auth);
  });

  it('keeps a stored key only for the same certificate', () => {
    const stored = parse(
      body({ flow: 'client-credentials', user: 'alerts@example.com', clientCertificate: key }),
    );
    const newCertificate = parse(
      body({
        flow: 'client-credentials',
        user: 'alerts@example.com',
        clientCertificate: { certificatePem: other.certificatePem },
      }),
    );

    const merged = keepStoredSecrets(newCertificate, stored);

    expect(missingSecrets(merged).map((i) => i.path)).toEqual(['smtp.auth.clientCertificate.privateKeyPem']);
  });

  it('is redacted and sealed at rest like the other secrets', () => {
    const config = parse(
      body({ flow: 'client-credentials', user: 'alerts@example.com', clientCertificate: key }),
    );
    const document = storedConfig('c1', config);
    const box = new SecretBox(Buffer.alloc(32, 0xa1));
    const scope = { kind: 'config' as const, clusterId: 'c1', where: 'test' };

    const sealed = sealSecretsInJson(box, document, CONFIG_SECRET_FIELDS, scope);
    const opened = openSecretsInJson(box, sealed, CONFIG_SECRET_FIELDS, scope);

    expect(secretsOf(config)).toEqual([key.privateKeyPem.trim()]);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(sealed).toContain('BEGIN CERTIFICATE');
    expect(JSON.parse(opened.text)).toEqual(JSON.parse(JSON.stringify(document)));
  });
});

describe('fleet health', () => {
  it('does not ask an app-only cluster to authorize', () => {
    const config = parse(
      body({ flow: 'client-credentials', user: 'alerts@example.com', clientSecret: 's3cret' }),
    );

    const health = clusterHealth({
      config: toPublicConfig(storedConfig('c1', config)),
      records: [],
      limit: 100,
      now: new Date('2026-11-28T18:00:00.000Z'),
    });

    expect(health.findings.map((f) => f.code)).not.toContain('oauth-needs-authorization');
    expect(health.oauth).toEqual({ status: 'app-only' });
  });
});

describe('the certificate in the credential health watch', () => {
  it('warns ahead of the certificate’s notAfter, read from the certificate itself', () => {
    const config = parse(
      body({ flow: 'client-credentials', user: 'alerts@example.com', clientCertificate: key }),
    );
    const notAfter = Date.parse('2027-06-30T00:00:00.000Z');

    const early = credentialHealth({ config, now: new Date(notAfter - 30 * 24 * 3600_000) });
    const late = credentialHealth({ config, now: new Date(notAfter - 3 * 24 * 3600_000) });
    const after = credentialHealth({ config, now: new Date(notAfter + 60_000) });

    expect(early).toMatchObject({ status: 'ok', credential: 'client-certificate' });
    expect(late).toMatchObject({ status: 'expiring', credential: 'client-certificate', daysLeft: 3 });
    expect(late?.expiresAt).toBe('2027-06-30T00:00:00.000Z');
    expect(after).toMatchObject({ status: 'expired', credential: 'client-certificate' });
    expect(JSON.stringify([early, late, after])).not.toContain('PRIVATE KEY');
  });
});
