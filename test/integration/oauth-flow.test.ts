// The OAuth2 redirect flow end to end: the admin API with the OAuth routes, a SqliteConfigStore,
// oauth2-mock-server as the provider, and an SMTP server that accepts XOAUTH2 only with an
// access token the provider signed.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteGrantStore } from '../../functions/adapters/local/sqlite-grant-store.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import { FetchTokenClient } from '../../functions/adapters/oauth-token-client.js';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import { DailyNoticeService } from '../../functions/core/daily-notice/daily-notice-service.js';
import { OAuthTokenProvider } from '../../functions/core/oauth/oauth-token-provider.js';
import { bearerTokenAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type ApiRequest, type ApiResponse, type Handler, invoke } from '../support/api-gateway.js';
import { type OAuthTestProvider, startOAuthProvider } from '../support/oauth-provider.js';
import { type TestServices, testServices } from '../support/services.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';
import { openSqliteLedger } from '../support/sqlite-ledger.js';

const TOKEN = 'test-admin-token-0123456789-abcdefgh';
const CLIENT_ID = 'appliance-notifier-test-client';
const CLIENT_SECRET = 'Cl1ent-Secret-of-the-oauth-app-never-shown';
const MAILBOX = 'alerts@example.com';
const PUBLIC_BASE_URL = 'http://localhost:3000';
const REDIRECT_URI = 'http://localhost:3000/login/smtp-verification/';
const admin = { authorization: `Bearer ${TOKEN}` };

let dataDir: string;
let provider: OAuthTestProvider;
let smtp: SmtpTestServer;
let database: SqliteDatabase;
let store: SqliteConfigStore;
let grants: SqliteGrantStore;
let handler: Handler;
let services: TestServices;
let tokenProvider: OAuthTokenProvider;
let mailers: TransportMailerFactory;
let log: ReturnType<typeof createLogger>;
let now: Date;
const responses: string[] = [];
const output: string[] = [];
const secretsSeen = new Set<string>([CLIENT_SECRET]);

async function call(request: ApiRequest): Promise<ApiResponse> {
  const response = await invoke(handler, request);
  responses.push(JSON.stringify(response.headers), response.raw);
  return response;
}

/** The callback's answer is HTML, not JSON: invoke parses JSON, so call the handler directly. */
async function callback(
  query: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string>; html: string }> {
  const { apiEvent } = await import('../support/api-gateway.js');
  const { localContext } = await import('../../local-runtime/api-gateway-event.js');
  const result = (await handler(
    apiEvent({ method: 'GET', path: '/login/smtp-verification/', query }),
    localContext('admin-api'),
  )) as { statusCode: number; headers: Record<string, string>; body: string };
  responses.push(JSON.stringify(result.headers), result.body);
  return { status: result.statusCode, headers: result.headers, html: result.body };
}

const oauthConfig = (overrides: Record<string, unknown> = {}) => ({
  sender: `Appliance alerts <${MAILBOX}>`,
  transport: 'smtp',
  smtp: {
    host: '127.0.0.1',
    port: smtp.port,
    encryption: 'starttls',
    verifyCertificate: false,
    auth: {
      type: 'oauth2',
      provider: 'custom',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: 'https://mail.example.test/smtp.send offline_access',
      authorizationEndpoint: provider.authorizationEndpoint,
      tokenEndpoint: provider.tokenEndpoint,
      ...overrides,
    },
  },
  adminContacts: 'ops@example.com',
  // One email per event: what this test is about (group emails have tests of their own).
  grouping: { waitSeconds: 0 },
});

async function saveConfig(clusterId: string, body: unknown = oauthConfig()): Promise<void> {
  const response = await call({
    method: 'PUT',
    path: `/clusters/${clusterId}/email-config`,
    headers: admin,
    body,
  });
  expect([200, 201]).toContain(response.status);
}

/** Authorize → the provider's redirect URL back to us (the browser's Location), without following it. */
async function authorizeAndSignIn(clusterId: string): Promise<{ authorizeUrl: URL; back: URL }> {
  const start = await call({ method: 'GET', path: `/clusters/${clusterId}/oauth/authorize`, headers: admin });
  expect(start.status).toBe(302);
  const authorizeUrl = new URL(start.headers.location ?? '');
  const signIn = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(signIn.status).toBe(302);
  const back = new URL(signIn.headers.get('location') ?? '');
  const code = back.searchParams.get('code');
  if (code) secretsSeen.add(code);
  return { authorizeUrl, back };
}

async function authorize(clusterId: string) {
  const { authorizeUrl, back } = await authorizeAndSignIn(clusterId);
  const page = await callback(Object.fromEntries(back.searchParams));
  return { authorizeUrl, back, page };
}

async function storedGrant(clusterId: string) {
  return (await grants.get(clusterId))?.grant;
}

beforeAll(async () => {
  // Everything the service logs, for the "no secret in the logs" test; kept off the test output.
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      output.push(String(chunk));
      return true;
    });
  }
  dataDir = await mkdtemp(join(tmpdir(), 'oauth-flow-'));
  provider = await startOAuthProvider({ email: MAILBOX });
  smtp = await startSmtpTestServer({
    mode: 'starttls',
    authMethods: ['XOAUTH2'],
    auth: (attempt) => {
      const claims = attempt.accessToken ? provider.verifyAccessToken(attempt.accessToken) : undefined;
      return attempt.method === 'XOAUTH2' && claims && attempt.username === MAILBOX
        ? { user: attempt.username }
        : { reply: '535 5.7.3 Authentication unsuccessful' };
    },
  });
  now = new Date('2026-11-28T18:00:00.000Z');
  const clock = () => now;
  log = createLogger({ logLevel: 'DEBUG' });
  database = await SqliteDatabase.open({ directory: join(dataDir, 'config') });
  store = new SqliteConfigStore(database);
  grants = new SqliteGrantStore(database);
  const tokens = new FetchTokenClient({ timeoutMs: 3000 });
  tokenProvider = new OAuthTokenProvider({ store, grants, tokens, clock, log });
  mailers = new TransportMailerFactory({
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
    settings: { publicBaseUrl: PUBLIC_BASE_URL },
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

describe('authorize', () => {
  it('redirects to the provider with state, PKCE S256 and the exact redirect URI', async () => {
    await saveConfig('flow-url');

    const response = await call({
      method: 'GET',
      path: '/clusters/flow-url/oauth/authorize',
      headers: admin,
    });

    expect(response.status).toBe(302);
    expect(response.headers['cache-control']).toBe('no-store');
    const url = new URL(response.headers.location ?? '');
    expect(`${url.origin}${url.pathname}`).toBe(provider.authorizationEndpoint);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'https://mail.example.test/smtp.send offline_access',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
    });
  });

  it('answers { url } with ?format=json, a new state each time', async () => {
    const first = await call({
      method: 'GET',
      path: '/clusters/flow-url/oauth/authorize',
      query: { format: 'json' },
      headers: admin,
    });
    const second = await call({
      method: 'GET',
      path: '/clusters/flow-url/oauth/authorize',
      query: { format: 'json' },
      headers: admin,
    });

    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      url: expect.stringContaining(provider.authorizationEndpoint),
      redirectUri: REDIRECT_URI,
    });
    const state = (r: ApiResponse) => new URL(String(r.body.url)).searchParams.get('state');
    expect(state(first)).not.toBe(state(second));
  });

  it('requires an admin, a configuration, and OAuth2 in it', async () => {
    await saveConfig('flow-password', {
      ...oauthConfig(),
      smtp: {
        ...oauthConfig().smtp,
        auth: { type: 'password', username: 'relay', password: 'Relay-Pa55word' },
      },
    });

    const anonymous = await call({ method: 'GET', path: '/clusters/flow-url/oauth/authorize' });
    const missing = await call({
      method: 'GET',
      path: '/clusters/nothing-here/oauth/authorize',
      headers: admin,
    });
    const password = await call({
      method: 'GET',
      path: '/clusters/flow-password/oauth/authorize',
      headers: admin,
    });

    expect(anonymous.status).toBe(401);
    expect(missing.status).toBe(404);
    expect(password.status).toBe(409);
    expect(password.body.error).toMatch(/does not use OAuth2: set smtp.auth.type to "oauth2"/);
  });
});

describe('the embedded runtime', () => {
  it('serves the same routes, with file states and the redirect URI from PUBLIC_BASE_URL', async () => {
    const opened: TestServices[] = [];
    const make = async (publicBaseUrl: string) => {
      const local = await testServices({
        dataDir: join(dataDir, 'local'),
        log,
        clock: () => now,
        adapters: { store, mailers: () => mailers },
        settings: { publicBaseUrl },
      });
      opened.push(local);
      return createAdminApiHandler({ services: local, authenticator: bearerTokenAuthenticator(TOKEN) });
    };
    const request = {
      method: 'GET',
      path: '/clusters/flow-url/oauth/authorize',
      query: { format: 'json' },
      headers: admin,
    };

    const byDefault = await invoke(await make('http://localhost:3000'), request);
    const configured = await invoke(await make('https://notifier.example.com/'), request);
    for (const local of opened) await local.close();

    expect(byDefault.body.redirectUri).toBe(REDIRECT_URI);
    expect(configured.body.redirectUri).toBe('https://notifier.example.com/login/smtp-verification/');
  });
});

describe('the full flow', () => {
  it('authorizes, stores the grant, and sends the test email with XOAUTH2', async () => {
    await saveConfig('flow');
    const before = await call({ method: 'GET', path: '/clusters/flow/email-config', headers: admin });

    const { authorizeUrl, page } = await authorize('flow');
    const after = await call({ method: 'GET', path: '/clusters/flow/email-config', headers: admin });
    const test = await call({ method: 'POST', path: '/clusters/flow/email-config/test', headers: admin });

    expect(before.body.oauth).toEqual({ status: 'needs-authorization' });
    expect(page.status).toBe(200);
    expect(page.html).toContain('OAuth2 authorized');
    expect(page.html).toContain(`<code>${MAILBOX}</code>`);
    expect(page.html).toContain('href="/admin"');
    expect(after.body.oauth).toEqual({
      status: 'authorized',
      authorizedAt: now.toISOString(),
      authorizedAs: MAILBOX,
    });
    expect(test.body).toMatchObject({ ok: true, recipients: ['ops@example.com'] });
    const [message] = await smtp.waitForMessages(1);
    expect(message?.user).toBe(MAILBOX);
    expect(message?.secure).toBe(true);
    expect(smtp.authAttempts.map((a) => a.method)).toEqual(['XOAUTH2']);
    // The token request carried the verifier whose S256 challenge went to the authorization endpoint.
    const exchange = provider.tokenRequests.find((r) => r.body.grant_type === 'authorization_code');
    const verifier = exchange?.body.code_verifier ?? '';
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(
      authorizeUrl.searchParams.get('code_challenge'),
    );
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    // The audit trail: who clicked Authorize, and the completion on the provider's redirect as theirs.
    const audit = await call({ method: 'GET', path: '/clusters/flow/audit', headers: admin });
    const oauthEntries = (audit.body.items as Record<string, unknown>[])
      .filter((entry) => String(entry.action).startsWith('oauth.'))
      .map(({ action, actor, detail }) => ({ action, actor, detail }));
    // (The test clock stands still: both have the same time, whose order the trail leaves open.)
    expect(oauthEntries).toHaveLength(2);
    expect(oauthEntries).toEqual(
      expect.arrayContaining([
        { action: 'oauth.authorize.complete', actor: 'admin-token', detail: { outcome: 'authorized' } },
        { action: 'oauth.authorize.start', actor: 'admin-token', detail: undefined },
      ]),
    );
    expect(exchange?.body).toMatchObject({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT_URI,
    });
    if (verifier) secretsSeen.add(verifier);
  });

  it('serves the result page with no-store, a strict CSP and no referrer', async () => {
    const page = await callback({});

    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[^']+';/);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('keeps the grant when the configuration is saved again with the same client, drops it for another', async () => {
    await saveConfig('flow', oauthConfig({ clientSecret: '' }));
    const kept = await storedGrant('flow');
    await saveConfig('flow-switch');
    await authorize('flow-switch');

    await saveConfig('flow-switch', oauthConfig({ clientId: 'another-app-registration' }));
    const switched = await call({
      method: 'GET',
      path: '/clusters/flow-switch/email-config',
      headers: admin,
    });

    expect(kept?.status).toBe('authorized');
    expect(kept?.refreshToken).toBeTruthy();
    expect(await storedGrant('flow-switch')).toBeUndefined();
    expect(switched.body.oauth).toEqual({ status: 'needs-authorization' });
  });
});

describe('the callback refuses, without a token request', () => {
  it('a forged state', async () => {
    const count = provider.tokenRequestCount();

    const page = await callback({ state: 'A'.repeat(43), code: 'forged-code' });
    const malformed = await callback({ state: '<script>x</script>', code: 'forged-code' });

    expect(page.status).toBe(400);
    expect(page.html).toContain('This sign-in link is not valid');
    expect(malformed.status).toBe(400);
    expect(malformed.html).not.toContain('<script>');
    expect(provider.tokenRequestCount()).toBe(count);
  });

  it('a replayed state', async () => {
    await saveConfig('replay');
    const { back, page: first } = await authorize('replay');
    const count = provider.tokenRequestCount();

    const replay = await callback(Object.fromEntries(back.searchParams));

    expect(first.status).toBe(200);
    expect(replay.status).toBe(400);
    expect(replay.html).toContain('already used');
    expect(provider.tokenRequestCount()).toBe(count);
  });

  it('an expired state (10 minutes)', async () => {
    await saveConfig('expired');
    const { back } = await authorizeAndSignIn('expired');
    const count = provider.tokenRequestCount();
    const started = now;
    now = new Date(started.getTime() + 10 * 60 * 1000 + 1000);
    try {
      const page = await callback(Object.fromEntries(back.searchParams));

      expect(page.status).toBe(400);
      expect(page.html).toContain('This sign-in has expired');
      expect(provider.tokenRequestCount()).toBe(count);
      expect(await storedGrant('expired')).toBeUndefined();
    } finally {
      now = started;
    }
  });

  it('a provider error, shown escaped', async () => {
    await saveConfig('denied');
    const { back } = await authorizeAndSignIn('denied');
    const count = provider.tokenRequestCount();

    const page = await callback({
      state: back.searchParams.get('state') ?? '',
      error: 'access_denied',
      error_description: '<script>alert("pwned")</script> & <img src=x onerror=alert(1)>',
    });

    expect(page.status).toBe(400);
    expect(page.html).toContain(
      '&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;',
    );
    expect(page.html).not.toMatch(/<script|<img/i);
    expect(provider.tokenRequestCount()).toBe(count);
    expect(await storedGrant('denied')).toBeUndefined();
  });
});

describe('access tokens', () => {
  it('refreshes with the newest rotated refresh token and stores each new one at once', async () => {
    await saveConfig('rotate');
    await authorize('rotate');
    const first = (await storedGrant('rotate'))?.refreshToken;
    const start = provider.tokenRequests.length;
    const started = now;
    try {
      const sent1 = await call({
        method: 'POST',
        path: '/clusters/rotate/email-config/test',
        headers: admin,
      });
      const second = (await storedGrant('rotate'))?.refreshToken;
      const cached = await call({
        method: 'POST',
        path: '/clusters/rotate/email-config/test',
        headers: admin,
      });
      now = new Date(started.getTime() + 60 * 60 * 1000);
      const sent2 = await call({
        method: 'POST',
        path: '/clusters/rotate/email-config/test',
        headers: admin,
      });
      const third = (await storedGrant('rotate'))?.refreshToken;

      const refreshes = provider.tokenRequests.slice(start);
      expect([sent1.body.ok, cached.body.ok, sent2.body.ok]).toEqual([true, true, true]);
      // One refresh per expiry, not per message: the second email used the cached access token.
      expect(refreshes.map((r) => r.body.grant_type)).toEqual(['refresh_token', 'refresh_token']);
      expect(refreshes.map((r) => r.body.refresh_token)).toEqual([first, second]);
      expect(refreshes.map((r) => r.response.refresh_token)).toEqual([second, third]);
      expect(new Set([first, second, third]).size).toBe(3);
      expect((await storedGrant('rotate'))?.lastRefreshAt).toBe(now.toISOString());
    } finally {
      now = started;
    }
  });

  it('coalesces concurrent refreshes for one cluster into one token request', async () => {
    tokenProvider.invalidate('rotate');
    const count = provider.tokenRequestCount();

    const results = await Promise.all(
      Array.from({ length: 5 }, () => tokenProvider.accessTokenFor('rotate')),
    );

    expect(provider.tokenRequestCount()).toBe(count + 1);
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(results[0]?.user).toBe(MAILBOX);
  });

  it('invalid_grant marks the configuration as needing authorization, with a hint to authorize again', async () => {
    await saveConfig('revoked');
    await authorize('revoked');
    provider.service.once('beforeResponse', (response: { statusCode: number; body: unknown }) => {
      response.statusCode = 400;
      response.body = {
        error: 'invalid_grant',
        error_description: 'AADSTS700082: The refresh token has expired.',
      };
    });

    const test = await call({ method: 'POST', path: '/clusters/revoked/email-config/test', headers: admin });
    const config = await call({ method: 'GET', path: '/clusters/revoked/email-config', headers: admin });
    const count = provider.tokenRequestCount();
    const again = await call({ method: 'POST', path: '/clusters/revoked/email-config/test', headers: admin });

    expect(test.body).toMatchObject({ ok: false, stage: 'auth', transient: false });
    expect(test.body.message).toContain('invalid_grant: AADSTS700082');
    expect(test.body.hint).toMatch(
      /refused the stored refresh token \(invalid_grant\).*click Authorize again/,
    );
    expect(config.body.oauth).toMatchObject({
      status: 'needs-authorization',
      authorizedAs: MAILBOX,
      lastError: expect.stringContaining('invalid_grant'),
    });
    expect((await storedGrant('revoked'))?.refreshToken).toBeUndefined();
    expect(again.body).toMatchObject({
      ok: false,
      stage: 'auth',
      hint: expect.stringMatching(/Authorize again/),
    });
    expect(provider.tokenRequestCount()).toBe(count);
    expect(smtp.messages).toHaveLength(0);
  });

  it('a token endpoint that is down gives a clear, transient error', async () => {
    const other = await startOAuthProvider({ email: MAILBOX, keepAlive: false });
    const config = {
      ...oauthConfig(),
      smtp: {
        ...oauthConfig().smtp,
        auth: {
          ...oauthConfig().smtp.auth,
          authorizationEndpoint: other.authorizationEndpoint,
          tokenEndpoint: other.tokenEndpoint,
        },
      },
    };
    await saveConfig('down', config);
    await authorize('down');
    secretsSeen.add((await storedGrant('down'))?.refreshToken ?? '');
    await other.close();

    const test = await call({ method: 'POST', path: '/clusters/down/email-config/test', headers: admin });

    expect(test.body).toMatchObject({ ok: false, stage: 'auth', transient: true });
    expect(test.body.message).toBe(
      `The token endpoint ${other.tokenEndpoint} is not available (ECONNREFUSED): connection refused`,
    );
    expect(test.body.hint).toMatch(/token endpoint could not be reached/);
    expect((await storedGrant('down'))?.status).toBe('authorized');
  });

  it('a token endpoint with a server error gives a transient error too', async () => {
    provider.service.once('beforeResponse', (response: { statusCode: number; body: unknown }) => {
      response.statusCode = 503;
      response.body = { error: 'temporarily_unavailable' };
    });
    tokenProvider.invalidate('rotate');

    const test = await call({ method: 'POST', path: '/clusters/rotate/email-config/test', headers: admin });

    expect(test.body).toMatchObject({ ok: false, stage: 'auth', transient: true });
    expect(test.body.message).toContain('is not available (HTTP 503)');
  });
});

describe('the daily notice', () => {
  it('goes out with XOAUTH2 after a refresh, and names the need to authorize again where the grant is gone', async () => {
    const started = now;
    // A day later: every cached access token has expired, so the notice proves the refresh token works.
    now = new Date(started.getTime() + 24 * 60 * 60 * 1000);
    let closeLedger: (() => Promise<void>) | undefined;
    try {
      const opened = await openSqliteLedger(dataDir, () => now);
      closeLedger = opened.close;
      const { ledger } = opened;
      const dailyNotice = new DailyNoticeService({ store, mailers, ledger, clock: () => now, log });
      const count = provider.tokenRequestCount();

      const run = await dailyNotice.run({ clusterIds: ['flow', 'revoked'] });

      expect(run.results).toEqual([
        { clusterId: 'flow', outcome: 'sent', messageId: expect.any(String) },
        {
          clusterId: 'revoked',
          outcome: 'failed',
          reason: expect.stringMatching(/auth failed: .*Authorize again/),
          // A revoked grant does not heal by retrying: the schedule must not retry it.
          transient: false,
        },
      ]);
      expect(provider.tokenRequestCount()).toBe(count + 1);
      const [message] = await smtp.waitForMessages(1);
      expect(message?.user).toBe(MAILBOX);
      expect((await storedGrant('flow'))?.lastRefreshAt).toBe(now.toISOString());
    } finally {
      await closeLedger?.();
      now = started;
    }
  });
});

describe('secrets', () => {
  it('never appear in a response or in the logs', async () => {
    const secrets = [...secretsSeen, ...provider.issuedSecrets()].filter((s) => s.length >= 8);
    const everything = [...responses, ...output].join('\n');

    expect(secrets.length).toBeGreaterThan(10);
    expect(output.join('')).toContain('OAuth2 authorized');
    for (const secret of secrets) expect(everything.includes(secret) ? secret : 'absent').toBe('absent');
  });
});
