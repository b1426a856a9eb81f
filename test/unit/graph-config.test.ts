// transport "graph": what a save must name (with the path of what is wrong), the endpoints and
// scope it resolves to for each cloud, the write-only secrets (GET, save back, redaction,
// sealing at rest), the credential health watch, and the fleet's relay text.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { generate } from 'selfsigned';
import { retryAfterMs } from '../../functions/adapters/graph/graph-mailer.js';
import {
  CONFIG_SECRET_FIELDS,
  openSecretsInJson,
  SecretBox,
  sealSecretsInJson,
} from '../../functions/adapters/local/secret-box.js';
import {
  type EmailConfig,
  EmailConfigInputSchema,
  EmailConfigSchema,
} from '../../functions/core/config/email-config.js';
import { graphScopeOf } from '../../functions/core/config/graph-endpoints.js';
import { toPublicConfig } from '../../functions/core/config/public-config.js';
import { keepStoredSecrets, missingSecrets, secretsOf } from '../../functions/core/config/secrets.js';
import { credentialHealth } from '../../functions/core/credentials/credential-health.js';
import { clusterHealth } from '../../functions/core/fleet/cluster-health.js';
import { hintFor } from '../../functions/core/mail/diagnostics.js';
import { describeDelivery } from '../../functions/core/mail/test-email.js';
import { storedConfig } from '../support/config-fixtures.js';

let key: { privateKeyPem: string; certificatePem: string };

beforeAll(async () => {
  const made = await generate([{ name: 'commonName', value: 'graph-app' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date('2026-01-01T00:00:00.000Z'),
    notAfterDate: new Date('2027-06-30T00:00:00.000Z'),
  });
  key = { privateKeyPem: made.private, certificatePem: made.cert };
});

const body = (graph: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) => ({
  sender: 'alerts@contoso.com',
  transport: 'graph',
  ...(graph
    ? {
        graph: {
          mailbox: 'alerts@contoso.com',
          tenant: 'contoso.onmicrosoft.com',
          clientId: 'app-id',
          ...graph,
        },
      }
    : {}),
  adminContacts: 'ops@contoso.com',
  ...extra,
});

const issuesOf = (input: unknown) => {
  const result = EmailConfigInputSchema.safeParse(input);
  return result.success
    ? []
    : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};
const parse = (input: unknown): EmailConfig => EmailConfigInputSchema.parse(input);

describe('the graph block', () => {
  it('resolves the global cloud by default: endpoint, the tenant’s token endpoint, Graph’s scope', () => {
    const config = parse(body({ clientSecret: 's3cret' }));

    expect(config.transport).toBe('graph');
    expect(config.graph).toMatchObject({
      endpoint: 'https://graph.microsoft.com',
      tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
    });
    expect(graphScopeOf(config.graph?.endpoint ?? '')).toBe('https://graph.microsoft.com/.default');
  });

  it.each([
    ['https://graph.microsoft.us', 'https://login.microsoftonline.us'],
    ['https://dod-graph.microsoft.us/', 'https://login.microsoftonline.us'],
    ['https://microsoftgraph.chinacloudapi.cn', 'https://login.chinacloudapi.cn'],
  ])('signs in at the national cloud’s login host for %s', (endpoint, login) => {
    const config = parse(body({ clientSecret: 's3cret', endpoint }));

    expect(config.graph?.endpoint).toBe(endpoint.replace(/\/$/, ''));
    expect(config.graph?.tokenEndpoint).toBe(`${login}/contoso.onmicrosoft.com/oauth2/v2.0/token`);
    expect(graphScopeOf(config.graph?.endpoint ?? '')).toBe(`${new URL(endpoint).origin}/.default`);
  });

  it.each(['common', 'organizations', 'Consumers'])(
    'refuses the tenant "%s": app-only needs the tenant',
    (tenant) => {
      expect(issuesOf(body({ clientSecret: 's', tenant }))).toEqual([
        { path: 'graph.tenant', message: expect.stringContaining('must name the tenant') },
      ]);
    },
  );

  it('names each missing or wrong field with its path', () => {
    expect(issuesOf(body(undefined))).toEqual([
      { path: 'graph', message: expect.stringContaining('is required when transport is "graph"') },
    ]);
    expect(
      issuesOf(body({ mailbox: 'not-an-address', endpoint: 'http://graph.example.com', tenant: undefined }))
        .map((i) => i.path)
        .sort(),
    ).toEqual(['graph.endpoint', 'graph.mailbox', 'graph.tenant']);
    expect(
      issuesOf(body({ clientSecret: 's', limits: { messagesPerMinute: 0 } })).map((i) => i.path),
    ).toEqual(['graph.limits.messagesPerMinute']);
    expect(issuesOf(body({ clientSecret: 's', saveToSentItems: false })).map((i) => i.path)).toEqual([
      'graph',
    ]);
  });

  it('refuses a link-local or metadata address as Graph or its token endpoint', () => {
    expect(
      issuesOf(
        body({
          clientSecret: 's',
          endpoint: 'https://169.254.169.254',
          tokenEndpoint: 'https://[fe80::1]/token',
        }),
      ),
    ).toEqual([
      { path: 'graph.endpoint', message: expect.stringContaining('169.254.169.254 is a link-local') },
      { path: 'graph.tokenEndpoint', message: expect.stringContaining('fe80::1') },
    ]);
  });

  it('accepts http only on loopback (tests)', () => {
    expect(parse(body({ clientSecret: 's', endpoint: 'http://127.0.0.1:8080' })).graph?.endpoint).toBe(
      'http://127.0.0.1:8080',
    );
  });

  it('keeps smtp and graph apart: smtp must be absent for graph, graph for smtp and ses', () => {
    const smtp = { host: 'smtp.office365.com', port: 587, encryption: 'starttls' };

    expect(issuesOf(body({ clientSecret: 's' }, { smtp }))).toEqual([
      { path: 'smtp', message: 'must be absent when transport is "graph"' },
    ]);
    expect(issuesOf({ ...body({ clientSecret: 's' }), transport: 'ses' })).toEqual([
      { path: 'graph', message: 'must be absent when transport is "ses"' },
    ]);
    expect(issuesOf({ ...body({ clientSecret: 's' }, { smtp }), transport: 'smtp' })).toEqual([
      { path: 'graph', message: 'must be absent when transport is "smtp"' },
    ]);
    expect(issuesOf({ ...body({ clientSecret: 's' }), transport: 'imap' })).toEqual([
      { path: 'transport', message: 'must be "smtp", "ses" or "graph"' },
    ]);
  });
});

describe('the secrets of the graph block', () => {
  it('GET shows clientSecretSet and the certificate’s facts with privateKeySet, never the secret or key', () => {
    const withSecret = toPublicConfig(
      storedConfig('c1', parse(body({ clientSecret: 'graph-s3cret-value' }))),
    );
    const withKey = toPublicConfig(storedConfig('c1', parse(body({ clientCertificate: key }))));

    expect(withSecret.graph).toMatchObject({
      clientSecretSet: true,
      effectiveLimits: { maxConnections: 4, messagesPerMinute: 30, source: 'default' },
    });
    expect(JSON.stringify(withSecret)).not.toContain('graph-s3cret-value');
    expect(withKey.graph).toMatchObject({
      clientSecretSet: false,
      clientCertificate: {
        privateKeySet: true,
        subject: 'CN=graph-app',
        notAfter: '2027-06-30T00:00:00.000Z',
      },
    });
    expect(JSON.stringify(withKey)).not.toContain('PRIVATE KEY');
  });

  it('a save without them keeps the stored ones; GET’s document saves back as it is', () => {
    const stored = parse(body({ clientSecret: 'graph-s3cret-value', clientCertificate: key }));
    const got = toPublicConfig(storedConfig('c1', stored));

    const again = keepStoredSecrets(parse(got), stored);

    expect(again.graph?.clientSecret).toBe('graph-s3cret-value');
    expect(again.graph?.clientCertificate?.privateKeyPem).toBe(key.privateKeyPem.trim());
    expect(missingSecrets(again)).toEqual([]);
    // Nothing stored before: nothing is made up.
    expect(keepStoredSecrets(parse(got), undefined).graph?.clientSecret).toBeUndefined();
  });

  it('a graph block with neither secret nor key names what is missing', () => {
    expect(missingSecrets(parse(body({})))).toEqual([
      {
        path: 'graph.clientSecret',
        message: expect.stringContaining('needs a client secret or a clientCertificate'),
      },
    ]);
    const keyless = parse(body({ clientCertificate: { certificatePem: key.certificatePem } }));
    expect(missingSecrets(keyless)).toEqual([
      { path: 'graph.clientCertificate.privateKeyPem', message: expect.stringContaining('is required') },
    ]);
  });

  it('are redacted and sealed at rest', () => {
    const config = parse(body({ clientSecret: 'graph-s3cret-value', clientCertificate: key }));
    const document = storedConfig('c1', config);
    const box = new SecretBox(Buffer.alloc(32, 0xb2));
    const scope = { kind: 'config' as const, clusterId: 'c1', where: 'test' };

    const sealed = sealSecretsInJson(box, document, CONFIG_SECRET_FIELDS, scope);
    const opened = openSecretsInJson(box, sealed, CONFIG_SECRET_FIELDS, scope);

    expect(secretsOf(config)).toEqual(['graph-s3cret-value', key.privateKeyPem.trim()]);
    expect(sealed).not.toContain('graph-s3cret-value');
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(JSON.parse(opened.text)).toEqual(JSON.parse(JSON.stringify(document)));
  });
});

describe('around the graph block', () => {
  it('watches the entered secret expiry and the certificate’s notAfter', () => {
    const secret = parse(body({ clientSecret: 's', clientSecretExpiresAt: '2027-01-10' }));
    const certificate = parse(body({ clientCertificate: key }));

    expect(credentialHealth({ config: secret, now: new Date('2027-01-01T00:00:00Z') })).toMatchObject({
      status: 'expiring',
      credential: 'client-secret',
      daysLeft: 9,
    });
    expect(credentialHealth({ config: certificate, now: new Date('2027-06-29T12:00:00Z') })).toMatchObject({
      status: 'expiring',
      credential: 'client-certificate',
    });
    expect(
      credentialHealth({ config: parse(body({ clientSecret: 's' })), now: new Date('2027-01-01T00:00:00Z') }),
    ).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('graph.clientSecretExpiresAt'),
    });
  });

  it('names the mailbox in the fleet overview, the test email and the daily notice', () => {
    const config = parse(body({ clientSecret: 's' }));

    const health = clusterHealth({
      config: toPublicConfig(storedConfig('c1', config)),
      records: [],
      limit: 10,
      now: new Date(0),
    });

    expect(health.relay).toBe('Microsoft Graph (alerts@contoso.com)');
    expect(describeDelivery(config, 'en')[0]).toBe(
      'Transport: Microsoft Graph (graph.microsoft.com, mailbox alerts@contoso.com)',
    );
    expect(describeDelivery(config, 'de')[1]).toBe(
      'Authentifizierung: App-only-Token (geheimer Clientschlüssel)',
    );
  });

  it('the 535 5.7.139 hint offers transport graph', () => {
    const config = EmailConfigSchema.parse({
      sender: 'alerts@contoso.com',
      smtp: {
        host: 'smtp.office365.com',
        port: 587,
        encryption: 'starttls',
        auth: { type: 'password', username: 'a@contoso.com', password: 'p' },
      },
      adminContacts: 'ops@contoso.com',
    });

    const hint = hintFor(
      {
        stage: 'auth',
        code: 535,
        enhancedCode: '5.7.139',
        message:
          '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',
        transient: false,
      },
      config,
    );

    expect(hint).toContain('"transport": "graph"');
    expect(hint).toContain('Mail.Send');
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-12-01T20:00:00Z');

    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Tue, 01 Dec 2026 20:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 19:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});
