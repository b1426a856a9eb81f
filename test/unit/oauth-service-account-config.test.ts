// The Google service account (flow "service-account") configuration: what a save must name,
// each field of the JSON key checked by its path, what GET shows of the key, which private key
// is kept, redacted and sealed at rest.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
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
import { hintFor } from '../../functions/core/mail/diagnostics.js';
import { DeliveryError } from '../../functions/core/mail/mailer.js';
import { storedConfig } from '../support/config-fixtures.js';

const CLIENT_ID = '109876543210987654321';
const CLIENT_EMAIL = 'notifier@appliance-alerts.iam.gserviceaccount.com';
let privateKeyPem: string;
let keyId: string;

beforeAll(() => {
  privateKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  keyId = randomBytes(20).toString('hex');
});

const googleKey = (overrides: Record<string, unknown> = {}) => ({
  type: 'service_account',
  project_id: 'appliance-alerts',
  private_key_id: keyId,
  private_key: privateKeyPem,
  client_email: CLIENT_EMAIL,
  client_id: CLIENT_ID,
  auth_uri: 'https://accounts.google.com/o/oauth2/auth',
  token_uri: 'https://oauth2.googleapis.com/token',
  universe_domain: 'googleapis.com',
  ...overrides,
});

const body = (auth: Record<string, unknown>) => ({
  sender: 'alerts@example.com',
  smtp: {
    host: 'smtp.gmail.com',
    port: 587,
    encryption: 'starttls',
    auth: {
      type: 'oauth2',
      provider: 'google',
      flow: 'service-account',
      user: 'alerts@example.com',
      serviceAccountKey: googleKey(),
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

const parse = (input: unknown): EmailConfig => EmailConfigInputSchema.parse(input);
const oauthOf = (config: EmailConfig) => {
  const auth = config.smtp?.auth;
  if (auth?.type !== 'oauth2') throw new Error('not oauth2');
  return auth;
};

describe('the service-account flow', () => {
  it('takes the JSON key as an object or as its text, derives the client ID, the Gmail scope and the token endpoint', () => {
    const fromObject = oauthOf(parse(body({})));
    const fromText = oauthOf(parse(body({ serviceAccountKey: JSON.stringify(googleKey()) })));

    expect(fromText).toEqual(fromObject);
    expect(fromObject).toMatchObject({
      flow: 'service-account',
      clientId: CLIENT_ID,
      scopes: ['https://mail.google.com/'],
      tokenEndpoint: 'https://oauth2.googleapis.com/token',
      user: 'alerts@example.com',
    });
    // Stored as Google writes it, without the fields the grant does not need.
    expect(fromObject.serviceAccountKey).toEqual({
      type: 'service_account',
      client_email: CLIENT_EMAIL,
      client_id: CLIENT_ID,
      private_key_id: keyId,
      private_key: privateKeyPem.trim(),
      project_id: 'appliance-alerts',
      token_uri: 'https://oauth2.googleapis.com/token',
    });
  });

  it('uses the key’s token_uri, unless tokenEndpoint overrides it; Google’s without either', () => {
    const local = 'http://127.0.0.1:4444/token';
    const withoutUri = { ...googleKey(), token_uri: undefined };

    expect(oauthOf(parse(body({ serviceAccountKey: googleKey({ token_uri: local }) }))).tokenEndpoint).toBe(
      local,
    );
    expect(
      oauthOf(
        parse(
          body({
            serviceAccountKey: googleKey({ token_uri: local }),
            tokenEndpoint: 'http://127.0.0.1:5555/t',
          }),
        ),
      ).tokenEndpoint,
    ).toBe('http://127.0.0.1:5555/t');
    expect(oauthOf(parse(body({ serviceAccountKey: withoutUri }))).tokenEndpoint).toBe(
      'https://oauth2.googleapis.com/token',
    );
  });

  it('reads a private key whose line breaks came as the characters \\n', () => {
    const escaped = privateKeyPem.replace(/\n/g, '\\n');

    const auth = oauthOf(parse(body({ serviceAccountKey: googleKey({ private_key: escaped }) })));

    expect(auth.serviceAccountKey?.private_key).toBe(privateKeyPem.trim());
  });

  it.each([
    ['another provider', { provider: 'microsoft' }, 'smtp.auth.flow', /provider "google" only/],
    ['no mailbox', { user: undefined }, 'smtp.auth.user', /is required for flow "service-account"/],
    ['no key', { serviceAccountKey: undefined }, 'smtp.auth.serviceAccountKey', /JSON key/],
    [
      'a client secret',
      { clientSecret: 's3cret' },
      'smtp.auth.clientSecret',
      /not used by flow "service-account"/,
    ],
    [
      'another client ID',
      { clientId: '42' },
      'smtp.auth.clientId',
      new RegExp(`client_id \\(${CLIENT_ID}\\)`),
    ],
    [
      'text that is not JSON',
      { serviceAccountKey: '{"type": "service_account",' },
      'smtp.auth.serviceAccountKey',
      /is not JSON/,
    ],
    ['an array', { serviceAccountKey: [] }, 'smtp.auth.serviceAccountKey', /JSON key/],
    [
      'an OAuth client file',
      { serviceAccountKey: { installed: { client_id: 'x.apps.googleusercontent.com' } } },
      'smtp.auth.serviceAccountKey',
      /OAuth client file .*not a service account key/,
    ],
  ])('refuses %s, naming the field', (_name, auth, path, message) => {
    expect(issuesOf(body(auth))).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it.each([
    ['type', { type: 'authorized_user' }, /user's credentials, not a service account key/],
    ['type', { type: 'external_account' }, /must be "service_account"/],
    ['client_email', { client_email: undefined }, /is required/],
    ['client_email', { client_email: 'not an address' }, /./],
    ['private_key_id', { private_key_id: undefined }, /is required/],
    ['private_key_id', { private_key_id: 'has spaces in it' }, /key ID/],
    ['private_key', { private_key: undefined }, /is required/],
    ['private_key', { private_key: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC' }, /PEM private key/],
    [
      'private_key',
      {
        private_key: generateKeyPairSync('ec', { namedCurve: 'P-256' })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      },
      /must be an RSA private key/,
    ],
    ['token_uri', { token_uri: 'http://oauth2.example.com/token' }, /https/],
  ])('checks the key’s %s', (field, overrides, message) => {
    const issues = issuesOf(body({ serviceAccountKey: googleKey(overrides) }));

    expect(issues).toContainEqual({
      path: `smtp.auth.serviceAccountKey.${field}`,
      message: expect.stringMatching(message),
    });
  });

  it('keeps the other flows as they were: clientId required, no service account key', () => {
    const delegated = body({
      flow: undefined,
      serviceAccountKey: googleKey(),
      clientSecret: 's',
      user: undefined,
    });

    expect(issuesOf(delegated)).toEqual([
      { path: 'smtp.auth.clientId', message: 'is required' },
      { path: 'smtp.auth.serviceAccountKey', message: expect.stringMatching(/flow "service-account" only/) },
    ]);
  });
});

describe('the key is write-only', () => {
  it('GET shows the key’s facts and privateKeySet, never the private key; the status is service-account', () => {
    const view = toPublicConfig(storedConfig('c1', parse(body({}))));

    expect(JSON.stringify(view)).not.toContain('PRIVATE KEY');
    expect(view.oauth).toEqual({ status: 'service-account' });
    expect(view.smtp?.auth).toMatchObject({
      clientId: CLIENT_ID,
      serviceAccountKey: {
        clientEmail: CLIENT_EMAIL,
        clientId: CLIENT_ID,
        privateKeyId: keyId,
        projectId: 'appliance-alerts',
        privateKeySet: true,
      },
    });
  });

  it('GET’s view sent back keeps the stored key, only for the same key of the same account', () => {
    const stored = parse(
      body({ serviceAccountKey: googleKey({ token_uri: 'http://127.0.0.1:4444/token' }) }),
    );
    const view = toPublicConfig(storedConfig('c1', stored));
    const sameKey = parse(view);
    const otherKey = parse({
      ...view,
      smtp: {
        ...view.smtp,
        auth: {
          ...view.smtp?.auth,
          serviceAccountKey: { clientEmail: CLIENT_EMAIL, privateKeyId: 'f'.repeat(40) },
        },
      },
    });

    expect(oauthOf(keepStoredSecrets(sameKey, stored)).serviceAccountKey).toEqual(
      oauthOf(stored).serviceAccountKey,
    );
    expect(missingSecrets(keepStoredSecrets(sameKey, stored))).toEqual([]);
    expect(missingSecrets(keepStoredSecrets(otherKey, stored))).toEqual([
      { path: 'smtp.auth.serviceAccountKey.private_key', message: expect.stringMatching(/is required/) },
    ]);
    expect(missingSecrets(sameKey)).toHaveLength(1);
  });

  it('does not carry a stored client secret into a service account configuration', () => {
    const before = parse({
      ...body({}),
      smtp: {
        ...body({}).smtp,
        auth: { type: 'oauth2', provider: 'google', clientId: 'web-client', clientSecret: 'old-secret' },
      },
    });

    const merged = keepStoredSecrets(parse(body({})), before);

    expect(oauthOf(merged).clientSecret).toBeUndefined();
  });

  it('is redacted and sealed at rest', () => {
    const config = parse(body({}));
    const document = storedConfig('c1', config);
    const box = new SecretBox(Buffer.alloc(32, 0xa1));
    const scope = { kind: 'config' as const, clusterId: 'c1', where: 'test' };

    const sealed = sealSecretsInJson(box, document, CONFIG_SECRET_FIELDS, scope);
    const opened = openSecretsInJson(box, sealed, CONFIG_SECRET_FIELDS, scope);

    expect(secretsOf(config)).toEqual([privateKeyPem.trim()]);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(sealed).toContain(CLIENT_EMAIL);
    expect(opened.text).toContain(JSON.stringify(privateKeyPem.trim()));
  });
});

describe('health and hints', () => {
  it('is not asked to authorize, and its credential health says what is known', () => {
    const config = parse(body({}));
    const now = new Date('2026-11-28T18:00:00.000Z');

    const health = clusterHealth({
      config: toPublicConfig(storedConfig('c1', config)),
      records: [],
      limit: 100,
      now,
    });

    expect(health.findings.map((f) => f.code)).not.toContain('oauth-needs-authorization');
    expect(credentialHealth({ config, now })).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/service account key does not expire/),
    });
  });

  it('a clock Google refuses is named as such', () => {
    const failure = new DeliveryError({
      stage: 'auth',
      transient: false,
      reason: 'OAUTH_TOKEN_ERROR',
      message:
        'The token endpoint https://oauth2.googleapis.com/token answered 400 invalid_grant: Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
    }).failure;

    expect(hintFor(failure, parse(body({})))).toMatch(/server’s clock is off/);
  });

  it('an unreachable token endpoint keeps the generic hint (retried), not a service account one', () => {
    const failure = new DeliveryError({
      stage: 'auth',
      transient: true,
      reason: 'OAUTH_TOKEN_ENDPOINT_UNAVAILABLE',
      message:
        'The token endpoint https://oauth2.googleapis.com/token is not available (ECONNREFUSED): connection refused',
    }).failure;

    expect(hintFor(failure, parse(body({})))).toMatch(/could not be reached .*will be retried/);
  });

  it('another refusal names the key, the mailbox and the delegation to check', () => {
    const failure = new DeliveryError({
      stage: 'auth',
      transient: false,
      reason: 'OAUTH_INVALID_CLIENT',
      message:
        'The token endpoint https://oauth2.googleapis.com/token answered 401 invalid_client: The OAuth client was not found.',
    }).failure;

    const hint = hintFor(failure, parse(body({})));

    expect(hint).toContain(CLIENT_EMAIL);
    expect(hint).toContain(`client ID ${CLIENT_ID}`);
  });
});
