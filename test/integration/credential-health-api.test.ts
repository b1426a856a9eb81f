// The credential health watch through the admin API and the daily-notice run, on the embedded
// runtime's adapters (SQLite store, grant store and delivery log) with an injected clock: GET
// email-config and the fleet overview show it, the notice has its line, and each warning email
// goes out once per credential and threshold however often the run is repeated.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FetchTokenClient } from '../../functions/adapters/oauth-token-client.js';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import type { MailerFactory, OutgoingMessage } from '../../functions/core/mail/mailer.js';
import { bearerTokenAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type ApiRequest, type Handler, invoke } from '../support/api-gateway.js';
import { type TestServices, testServices } from '../support/services.js';

const TOKEN = 'test-admin-token-0123456789-abcdefgh';
const PASSWORD = 'Relay-Pa55word-credential-health!';
const SECRET = 'client-Secret-credential-health-0123';
const auth = { authorization: `Bearer ${TOKEN}` };
const DAY = 24 * 60 * 60 * 1000;
/** The password expires at 00:00 UTC on 2027-03-31. */
const EXPIRES = Date.parse('2027-03-31T00:00:00.000Z');

let now = new Date(EXPIRES - 30 * DAY);
let dataDir: string;
let services: TestServices;
let handler: Handler;
const sent: OutgoingMessage[] = [];
const responses: string[] = [];

const capture: MailerFactory = {
  forConfig: async () => ({
    send: async (message) => {
      sent.push(message);
      return { messageId: `<${sent.length}@test>`, accepted: message.to, rejected: [], destination: 'test' };
    },
  }),
};

async function call(request: ApiRequest) {
  const response = await invoke(handler, { headers: auth, ...request });
  responses.push(response.raw);
  return response;
}

const passwordBody = (language: 'en' | 'de') => ({
  sender: 'appliance@example.com',
  smtp: {
    host: 'smtp.example.com',
    port: 587,
    encryption: 'starttls',
    auth: {
      type: 'password',
      username: 'relay@example.com',
      password: PASSWORD,
      passwordExpiresAt: '2027-03-31',
    },
  },
  adminContacts: 'ops@example.com',
  language,
});

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'credential-health-'));
  services = await testServices({
    dataDir,
    clock: () => now,
    log: createLogger({ logLevel: 'ERROR' }),
    adapters: { mailers: () => capture },
  });
  handler = createAdminApiHandler({ services, authenticator: bearerTokenAuthenticator(TOKEN) });
  for (const [clusterId, language] of [
    ['c1', 'en'],
    ['c2', 'de'],
  ] as const) {
    const put = await call({
      method: 'PUT',
      path: `/clusters/${clusterId}/email-config`,
      body: passwordBody(language),
    });
    expect(put.status).toBe(201);
  }
  const oauth = await call({
    method: 'PUT',
    path: '/clusters/c3/email-config',
    body: {
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
          clientSecretExpiresAt: '2026-01-01',
        },
      },
      adminContacts: 'ops@example.com',
    },
  });
  expect(oauth.status).toBe(201);
});

afterAll(async () => {
  await services.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('credential health', () => {
  it('GET email-config shows it, the entered expiry beside the auth, and no secret', async () => {
    now = new Date(EXPIRES - 10 * DAY);

    const c1 = await call({ method: 'GET', path: '/clusters/c1/email-config' });
    const c3 = await call({ method: 'GET', path: '/clusters/c3/email-config' });

    expect(c1.body).toMatchObject({
      smtp: { auth: { passwordExpiresAt: '2027-03-31', passwordSet: true } },
      credentialHealth: {
        status: 'expiring',
        credential: 'password',
        daysLeft: 10,
        expiresAt: '2027-03-31T00:00:00.000Z',
      },
    });
    // A past date is accepted, and reported as expired.
    expect(c3.body).toMatchObject({ credentialHealth: { status: 'expired', credential: 'client-secret' } });
  });

  it('the fleet overview shows it with a finding', async () => {
    now = new Date(EXPIRES - 10 * DAY);

    const overview = await call({ method: 'GET', path: '/clusters' });

    const items = (overview.body as { items: Array<Record<string, unknown>> }).items;
    const c1 = items.find((item) => item.clusterId === 'c1');
    const c3 = items.find((item) => item.clusterId === 'c3');
    expect(c1).toMatchObject({ credentialHealth: { status: 'expiring', daysLeft: 10 } });
    expect(c1?.findings).toContainEqual({ code: 'credential-expiring', count: 10 });
    expect(c3?.findings).toContainEqual({ code: 'credential-expired' });
  });

  it('the daily-notice run mails each warning once per threshold, and the notice has its line', async () => {
    const warningsTo = (clusterId: string) =>
      sent.filter(
        (m) =>
          m.headers?.['X-Appliance-Notifier-Kind'] === 'credential-warning' &&
          m.headers['X-Appliance-Notifier-Cluster'] === clusterId,
      );
    sent.length = 0;

    // 20 days ahead: nothing due.
    now = new Date(EXPIRES - 20 * DAY);
    await services.dailyNotice.run({ clusterIds: ['c1', 'c2'] });
    expect(warningsTo('c1')).toHaveLength(0);

    // 10 days ahead, twice the same day, and once more with "send now": one warning.
    now = new Date(EXPIRES - 10 * DAY);
    const first = await services.dailyNotice.run({ clusterIds: ['c1', 'c2'] });
    now = new Date(EXPIRES - 10 * DAY + 60_000);
    await services.dailyNotice.run({ clusterIds: ['c1', 'c2'] });
    await services.dailyNotice.run({ clusterIds: ['c1'], force: true, runId: 'r1' });
    expect(warningsTo('c1')).toHaveLength(1);
    expect(warningsTo('c2')).toHaveLength(1);
    expect(first.results.find((r) => r.clusterId === 'c1')?.credentialWarnings).toEqual([
      'credential-warning:c1:password:14:2027-03-31T00:00:00.000Z',
    ]);
    expect(warningsTo('c1')[0]?.subject).toContain('credential expires soon');
    expect(warningsTo('c2')[0]?.subject).toContain('Anmeldeinformation läuft bald ab');
    // The second notice of c1: the one of 10 days ahead (the first, 20 days ahead, has no line).
    const notices = sent.filter(
      (m) =>
        m.headers?.['X-Appliance-Notifier-Kind'] === 'daily-notice' &&
        m.headers['X-Appliance-Notifier-Cluster'] === 'c1',
    );
    expect(notices[0]?.text).not.toContain('The relay password');
    const notice = notices[1];
    expect(notice?.text).toContain('The relay password expires in 10 days');

    // 3 days, 1 day ahead and after expiry: one more each, days later too.
    for (const [days, count] of [
      [3, 2],
      [2, 2],
      [1, 3],
      [0, 4],
      [-5, 4],
    ] as const) {
      now = new Date(EXPIRES - days * DAY);
      await services.dailyNotice.run({ clusterIds: ['c1'] });
      await services.dailyNotice.run({ clusterIds: ['c1'] });
      expect(warningsTo('c1')).toHaveLength(count);
    }
    expect(warningsTo('c1')[3]?.subject).toContain('credential expired');
    // The warnings' claims are no events: the overview shows no delivery and nothing pending for them.
    const overview = await call({ method: 'GET', path: '/clusters' });
    const c1 = (overview.body as { items: Array<Record<string, unknown>> }).items.find(
      (i) => i.clusterId === 'c1',
    );
    expect(c1?.lastDelivery).toBeUndefined();
    expect(c1?.pendingRetries).toBe(0);
  });

  it('no secret in any response or email', () => {
    const everything = JSON.stringify([responses, sent]);
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(SECRET);
  });
});

describe('credentialWarningDays', () => {
  it('a service setting moves the warning earlier', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'credential-days-'));
    const early = await testServices({
      dataDir: dir,
      clock: () => new Date(EXPIRES - 20 * DAY),
      log: createLogger({ logLevel: 'ERROR' }),
      adapters: { mailers: () => capture },
      settings: { publicBaseUrl: 'http://localhost:3000', credentialWarningDays: 30 },
    });
    try {
      const api = createAdminApiHandler({ services: early, authenticator: bearerTokenAuthenticator(TOKEN) });
      await invoke(api, {
        method: 'PUT',
        path: '/clusters/c1/email-config',
        headers: auth,
        body: passwordBody('en'),
      });
      const response = await invoke(api, { method: 'GET', path: '/clusters/c1/email-config', headers: auth });
      expect(response.body).toMatchObject({ credentialHealth: { status: 'expiring', daysLeft: 20 } });
    } finally {
      await early.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('refresh_token_expires_in', () => {
  it('the token client reads it from a token response (Google, consent screen in Testing)', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          access_token: 'at',
          expires_in: 3599,
          refresh_token: 'rt',
          refresh_token_expires_in: 604799,
          token_type: 'Bearer',
        }),
      );
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as AddressInfo;
      const tokens = await new FetchTokenClient().exchangeCode({
        tokenEndpoint: `http://127.0.0.1:${port}/token`,
        clientId: 'app',
        clientSecret: 'secret',
        code: 'code',
        codeVerifier: 'verifier',
        redirectUri: 'http://127.0.0.1/callback',
      });
      expect(tokens).toMatchObject({ refreshToken: 'rt', refreshTokenExpiresIn: 604799 });
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });
});
