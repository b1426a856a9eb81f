// Microsoft app-only SMTP end to end: the admin API, a SqliteConfigStore, oauth2-mock-server
// as Entra ID's token endpoint (client-credentials grant, the client secret or the RS256 client
// assertion checked in the test), and an SMTP server that accepts XOAUTH2 only with a token the
// provider signed, for the configured mailbox.
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { MutableResponse, TokenRequestIncomingMessage } from 'oauth2-mock-server';
import { generate } from 'selfsigned';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteGrantStore } from '../../functions/adapters/local/sqlite-grant-store.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import { FetchTokenClient } from '../../functions/adapters/oauth-token-client.js';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import { OAuthTokenProvider } from '../../functions/core/oauth/oauth-token-provider.js';
import { bearerTokenAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type ApiRequest, type ApiResponse, type Handler, invoke } from '../support/api-gateway.js';
import { type OAuthTestProvider, startOAuthProvider } from '../support/oauth-provider.js';
import { type TestServices, testServices } from '../support/services.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

const TOKEN = 'test-admin-token-0123456789-abcdefgh';
const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const CLIENT_SECRET = 'App0nly~Secret.Value-never-shown-anywhere';
const MAILBOX = 'alerts@example.com';
const APP_ONLY_SCOPE = 'https://outlook.office365.com/.default';
const admin = { authorization: `Bearer ${TOKEN}` };

let dataDir: string;
let provider: OAuthTestProvider;
let smtp: SmtpTestServer;
let database: SqliteDatabase;
let handler: Handler;
let services: TestServices;
let key: { privateKeyPem: string; certificatePem: string };
let otherKey: { privateKeyPem: string; certificatePem: string };
/** The certificate Entra ID has registered for the app: assertions must be signed by its key. */
let registered: X509Certificate;
let now = new Date('2026-11-28T18:00:00.000Z');
const responses: string[] = [];
const output: string[] = [];
/** What the test's token endpoint made of each client assertion it got. */
const assertions: { header: Record<string, unknown>; claims: Record<string, unknown>; valid: boolean }[] = [];

async function call(request: ApiRequest): Promise<ApiResponse> {
  const response = await invoke(handler, request);
  responses.push(JSON.stringify(response.headers), response.raw);
  return response;
}

const appOnlyConfig = (auth: Record<string, unknown>, user = MAILBOX) => ({
  sender: `Appliance alerts <${MAILBOX}>`,
  transport: 'smtp',
  smtp: {
    host: '127.0.0.1',
    port: smtp.port,
    encryption: 'starttls',
    verifyCertificate: false,
    auth: {
      type: 'oauth2',
      flow: 'client-credentials',
      provider: 'microsoft',
      tenant: 'contoso.onmicrosoft.com',
      clientId: CLIENT_ID,
      tokenEndpoint: provider.tokenEndpoint,
      user,
      ...auth,
    },
  },
  adminContacts: 'ops@example.com',
  grouping: { waitSeconds: 0 },
});

async function save(clusterId: string, body: unknown): Promise<ApiResponse> {
  return call({ method: 'PUT', path: `/clusters/${clusterId}/email-config`, headers: admin, body });
}

async function testEmail(clusterId: string): Promise<ApiResponse> {
  return call({ method: 'POST', path: `/clusters/${clusterId}/email-config/test`, headers: admin });
}

async function keyPair(commonName: string) {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date('2026-01-01T00:00:00.000Z'),
    notAfterDate: new Date('2028-01-01T00:00:00.000Z'),
  });
  return { privateKeyPem: pems.private, certificatePem: pems.cert };
}

/** Entra ID's checks of a client-credentials request, as far as a test can make them. */
function entraChecks(response: MutableResponse, req: TokenRequestIncomingMessage): void {
  const body = req.body as unknown as Record<string, string>;
  if (body.grant_type !== 'client_credentials') return;
  const refuse = (error: string, description: string) => {
    response.statusCode = 401;
    response.body = { error, error_description: description };
  };
  if (body.scope !== APP_ONLY_SCOPE) {
    response.statusCode = 400;
    response.body = {
      error: 'invalid_scope',
      error_description: 'AADSTS1002012: The provided value for scope is not valid.',
    };
    return;
  }
  if (body.client_assertion !== undefined) {
    const [h = '', c = '', s = ''] = body.client_assertion.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${h}.${c}`),
      registered.publicKey,
      Buffer.from(s, 'base64url'),
    );
    const valid =
      signed &&
      body.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' &&
      header.alg === 'RS256' &&
      header.x5t === createHash('sha1').update(registered.raw).digest('base64url') &&
      header['x5t#S256'] === createHash('sha256').update(registered.raw).digest('base64url') &&
      claims.aud === provider.tokenEndpoint &&
      claims.iss === CLIENT_ID &&
      claims.sub === CLIENT_ID &&
      typeof claims.jti === 'string' &&
      typeof claims.exp === 'number' &&
      typeof claims.nbf === 'number' &&
      claims.exp - claims.nbf <= 600 &&
      body.client_secret === undefined;
    assertions.push({ header, claims, valid });
    if (!valid) {
      refuse(
        'invalid_client',
        `AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${String(header.x5t)}']`,
      );
    }
    return;
  }
  if (body.client_secret !== CLIENT_SECRET) {
    refuse(
      'invalid_client',
      `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${CLIENT_ID}'.`,
    );
  }
}

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      output.push(String(chunk));
      return true;
    });
  }
  dataDir = await mkdtemp(join(tmpdir(), 'oauth-app-only-'));
  [key, otherKey] = await Promise.all([keyPair('appliance-notifier'), keyPair('someone-else')]);
  registered = new X509Certificate(key.certificatePem);
  provider = await startOAuthProvider();
  provider.service.on('beforeResponse', entraChecks);
  smtp = await startSmtpTestServer({
    mode: 'starttls',
    authMethods: ['XOAUTH2'],
    auth: (attempt) => {
      const claims = attempt.accessToken ? provider.verifyAccessToken(attempt.accessToken) : undefined;
      // Exchange Online: an app-only token for the Exchange resource, for a mailbox the app may use.
      return attempt.method === 'XOAUTH2' && claims?.scope === APP_ONLY_SCOPE && attempt.username === MAILBOX
        ? { user: attempt.username }
        : { reply: '535 5.7.3 Authentication unsuccessful [SN4PR0601CA0001.namprd06.prod.outlook.com]' };
    },
  });
  const clock = () => now;
  const log = createLogger({ logLevel: 'DEBUG' });
  database = await SqliteDatabase.open({ directory: join(dataDir, 'config') });
  const store = new SqliteConfigStore(database);
  const grants = new SqliteGrantStore(database);
  const tokens = new FetchTokenClient({ timeoutMs: 3000 });
  const tokenProvider = new OAuthTokenProvider({ store, grants, tokens, clock, log });
  const mailers = new TransportMailerFactory({
    ses: () => {
      throw new Error('SES is not used here');
    },
    oauthTokens: tokenProvider,
    smtpTimeouts: { connectionMs: 3000, greetingMs: 3000, socketMs: 3000 },
  });
  services = await testServices({
    dataDir: join(dataDir, 'services'),
    log,
    clock,
    adapters: { store, grants, tokenClient: tokens, mailers: () => mailers },
    settings: { publicBaseUrl: 'http://localhost:3000' },
  });
  handler = createAdminApiHandler({ services, authenticator: bearerTokenAuthenticator(TOKEN) });
});

afterAll(async () => {
  jest.restoreAllMocks();
  await services?.close();
  database?.close();
  await smtp?.close();
  await provider?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  smtp.reset();
});

const authOf = (response: ApiResponse) => (response.body.smtp as { auth: Record<string, unknown> }).auth;

const tokenRequestsOf = (grantType: string) =>
  provider.tokenRequests.filter((r) => r.body.grant_type === grantType);

describe('app-only with a client secret', () => {
  it('needs no Authorize step: the test email gets a token with the grant and signs in with XOAUTH2', async () => {
    const saved = await save('secret', appOnlyConfig({ clientSecret: CLIENT_SECRET }));
    const before = tokenRequestsOf('client_credentials').length;

    const first = await testEmail('secret');
    const second = await testEmail('secret');
    const got = await call({ method: 'GET', path: '/clusters/secret/email-config', headers: admin });
    const authorize = await call({ method: 'GET', path: '/clusters/secret/oauth/authorize', headers: admin });

    expect(saved.status).toBe(201);
    expect(first.body).toMatchObject({ ok: true, recipients: ['ops@example.com'] });
    expect(second.body).toMatchObject({ ok: true });
    const messages = await smtp.waitForMessages(2);
    expect(messages.map((m) => m.user)).toEqual([MAILBOX, MAILBOX]);
    expect(smtp.authAttempts.map((a) => a.method)).toEqual(['XOAUTH2', 'XOAUTH2']);
    // One token for both: cached until shortly before it expires.
    const requests = tokenRequestsOf('client_credentials').slice(before);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.body).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      scope: APP_ONLY_SCOPE,
    });
    expect(got.body.oauth).toEqual({ status: 'app-only' });
    expect(authOf(got)).toMatchObject({
      flow: 'client-credentials',
      clientSecretSet: true,
      scopes: [APP_ONLY_SCOPE],
      user: MAILBOX,
    });
    expect(authOf(got).clientSecret).toBeUndefined();
    expect(authorize.status).toBe(409);
    // No grant: the store holds nothing for this cluster.
    expect(await new SqliteGrantStore(database).get('secret')).toBeUndefined();
  });

  it('gets a new token once the cached one is within 5 minutes of its expiry, never before', async () => {
    const started = now;
    const count = () => tokenRequestsOf('client_credentials').length;
    try {
      await testEmail('secret');
      const before = count();
      now = new Date(started.getTime() + 54 * 60_000);
      await testEmail('secret');
      const cached = count();
      now = new Date(started.getTime() + 56 * 60_000);
      const renewed = await testEmail('secret');

      expect(cached).toBe(before);
      expect(count()).toBe(before + 1);
      expect(renewed.body).toMatchObject({ ok: true });
    } finally {
      now = started;
    }
  });

  it('a wrong secret fails at stage auth with the AADSTS code and the Value-not-ID hint', async () => {
    await save('bad-secret', appOnlyConfig({ clientSecret: '8c3f4a2e-secret-id-not-value-0000' }));

    const test = await testEmail('bad-secret');

    expect(test.body).toMatchObject({ ok: false, stage: 'auth', transient: false });
    expect(test.body.message).toContain('AADSTS7000215');
    expect(test.body.hint).toMatch(/Value .*not its Secret ID/);
    expect(smtp.authAttempts).toHaveLength(0);
  });

  it('a mailbox the app may not use: 535 5.7.3 with the SMTP.SendAsApp / service principal hint', async () => {
    await save('no-permission', appOnlyConfig({ clientSecret: CLIENT_SECRET }, 'other@example.com'));

    const test = await testEmail('no-permission');

    expect(test.body).toMatchObject({ ok: false, stage: 'auth' });
    expect(test.body.hint).toContain('SMTP.SendAsApp');
    expect(test.body.hint).toContain('New-ServicePrincipal');
    expect(test.body.hint).toContain('Add-MailboxPermission -Identity <mailbox>');
    expect(test.body.hint).toContain('other@example.com');
  });
});

describe('app-only with a certificate', () => {
  it('signs an RS256 client assertion with x5t that the token endpoint verifies with the certificate', async () => {
    const saved = await save('cert', appOnlyConfig({ clientCertificate: key }));
    const seen = assertions.length;

    const test = await testEmail('cert');
    const got = await call({ method: 'GET', path: '/clusters/cert/email-config', headers: admin });

    expect(saved.status).toBe(201);
    expect(test.body).toMatchObject({ ok: true });
    expect((await smtp.waitForMessages(1))[0]?.user).toBe(MAILBOX);
    const [assertion] = assertions.slice(seen);
    expect(assertion?.valid).toBe(true);
    expect(assertion?.header.x5t).toBe(createHash('sha1').update(registered.raw).digest('base64url'));
    expect(assertion?.claims).toMatchObject({ aud: provider.tokenEndpoint, iss: CLIENT_ID, sub: CLIENT_ID });
    const request = tokenRequestsOf('client_credentials').at(-1);
    expect(request?.body.client_secret).toBeUndefined();
    expect(got.body.oauth).toEqual({ status: 'app-only' });
    expect(authOf(got).clientCertificate).toEqual({
      certificatePem: key.certificatePem.trim(),
      privateKeySet: true,
      thumbprint: createHash('sha1').update(registered.raw).digest('base64url'),
      thumbprintSha256: createHash('sha256').update(registered.raw).digest('base64url'),
      subject: 'CN=appliance-notifier',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2028-01-01T00:00:00.000Z',
    });
  });

  it('keeps the stored key when the document from GET is saved back unchanged', async () => {
    const got = await call({ method: 'GET', path: '/clusters/cert/email-config', headers: admin });
    const { clusterId: _c, updatedAt: _u, oauth: _o, version: _v, ...document } = got.body;

    const saved = await save('cert', document);
    const test = await testEmail('cert');

    expect(saved.status).toBe(200);
    expect(test.body).toMatchObject({ ok: true });
  });

  it('a certificate Entra ID does not know fails at stage auth with AADSTS700027 and the upload hint', async () => {
    await save('other-cert', appOnlyConfig({ clientCertificate: otherKey }));

    const test = await testEmail('other-cert');

    expect(assertions.at(-1)?.valid).toBe(false);
    expect(test.body).toMatchObject({ ok: false, stage: 'auth' });
    expect(test.body.message).toContain('AADSTS700027');
    expect(test.body.hint).toMatch(/upload this certificate/);
  });

  it('refuses a private key that is not PEM, naming the field', async () => {
    const response = await save(
      'bad-pem',
      appOnlyConfig({
        clientCertificate: {
          privateKeyPem: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
          certificatePem: key.certificatePem,
        },
      }),
    );

    expect(response.status).toBe(400);
    expect(response.body.issues).toContainEqual({
      path: 'smtp.auth.clientCertificate.privateKeyPem',
      message: expect.stringMatching(/PEM private key/),
    });
  });
});

describe('secrets', () => {
  it('no secret, private key, assertion or token appears in a response or in the logs', async () => {
    // Every route that shows a configuration or what happened to it.
    for (const path of [
      '/clusters',
      '/clusters/cert/email-config/versions',
      '/clusters/cert/audit',
      '/clusters/secret/audit',
    ]) {
      expect((await call({ method: 'GET', path, headers: admin })).status).toBe(200);
    }
    const keyBody = (pem: string) =>
      pem.split('\n').filter((line) => line.length >= 32 && !line.startsWith('-----'));
    const secrets = [
      CLIENT_SECRET,
      ...keyBody(key.privateKeyPem),
      ...keyBody(otherKey.privateKeyPem),
      ...provider.tokenRequests.map((r) => r.body.client_assertion).filter((s): s is string => Boolean(s)),
      ...provider.issuedSecrets(),
    ];
    const everything = [...responses, ...output].join('\n');

    expect(secrets.length).toBeGreaterThan(20);
    expect(output.join('')).toContain('OAuth2 app-only access token fetched');
    for (const secret of secrets) expect(everything.includes(secret) ? secret : 'absent').toBe('absent');
  });
});
