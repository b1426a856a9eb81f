import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OutboxMailer } from '../../functions/adapters/local/outbox-mailer.js';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import type { ConfigStore } from '../../functions/core/config/config-store.js';
import { bearerTokenAuthenticator, jwtAuthorizerAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type ApiRequest, type ApiResponse, type Handler, invoke } from '../support/api-gateway.js';
import { type TestServices, testServices } from '../support/services.js';

const TOKEN = 'test-admin-token-0123456789-abcdefgh';
const PASSWORD = 'Relay-Pa55word!';
const auth = { authorization: `Bearer ${TOKEN}` };

let dataDir: string;
let handler: Handler;
let services: TestServices;
let database: SqliteDatabase;
let store: SqliteConfigStore;
let closedPort: number;
const responses: string[] = [];

async function call(request: ApiRequest): Promise<ApiResponse> {
  const response = await invoke(handler, request);
  responses.push(response.raw);
  return response;
}

/** A port that was free a moment ago: connecting to it is refused. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const sesConfig = {
  sender: 'Appliance <appliance@example.com>',
  transport: 'ses',
  adminContacts: 'ops@example.com oncall@example.com',
  dailyNotice: true,
  language: 'en',
};

const relayConfig = () => ({
  sender: 'appliance@example.com',
  transport: 'smtp',
  smtp: {
    host: '127.0.0.1',
    port: closedPort,
    encryption: 'none',
    // A plain-text test relay on loopback: credentials in clear allowed explicitly.
    allowInsecureAuth: true,
    auth: { type: 'password', username: 'relay@example.com', password: PASSWORD },
  },
  adminContacts: ['ops@example.com'],
});

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'admin-api-'));
  closedPort = await refusedPort();
  database = await SqliteDatabase.open({ directory: join(dataDir, 'config') });
  store = new SqliteConfigStore(database);
  const log = createLogger({ logLevel: 'ERROR' });
  const mailers = new TransportMailerFactory({
    ses: () => new OutboxMailer({ directory: join(dataDir, 'outbox') }),
    smtpTimeouts: { connectionMs: 2000, greetingMs: 2000, socketMs: 2000 },
  });
  services = await testServices({ dataDir, log, adapters: { store, mailers: () => mailers } });
  handler = createAdminApiHandler({ services, authenticator: bearerTokenAuthenticator(TOKEN) });
});

afterAll(async () => {
  await services.close();
  database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token-at-all' }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
  ])('answers 401 to %s', async (_name, headers) => {
    const response = await call({ method: 'GET', path: '/clusters/c1/email-config', headers });

    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'Authentication required' });
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  it('in AWS, trusts only claims verified by the JWT authorizer', async () => {
    const aws = createAdminApiHandler({ services, authenticator: jwtAuthorizerAuthenticator });

    const anonymous = await invoke(aws, {
      method: 'GET',
      path: '/clusters/none/email-config',
      headers: auth,
    });
    const signedIn = await invoke(aws, {
      method: 'GET',
      path: '/clusters/none/email-config',
      claims: { sub: 'u-1', email: 'admin@example.com', 'cognito:groups': '[fleet-admins]' },
    });

    expect(anonymous.status).toBe(401);
    expect(signedIn.status).toBe(404);
  });
});

describe('PUT and GET /clusters/{clusterId}/email-config', () => {
  it('answers 404 for a cluster without a configuration', async () => {
    const response = await call({ method: 'GET', path: '/clusters/unknown/email-config', headers: auth });

    expect(response.status).toBe(404);
    expect(response.body.error).toBe('Cluster "unknown" has no email configuration');
  });

  it('creates (201), then replaces (200), and GET shows what was saved without secrets', async () => {
    const created = await call({
      method: 'PUT',
      path: '/clusters/c-relay/email-config',
      headers: auth,
      body: relayConfig(),
    });
    const { password: _omitted, ...authWithoutPassword } = relayConfig().smtp.auth;
    const replaced = await call({
      method: 'PUT',
      path: '/clusters/c-relay/email-config',
      headers: auth,
      body: { ...relayConfig(), smtp: { ...relayConfig().smtp, auth: authWithoutPassword }, language: 'de' },
    });
    const fetched = await call({ method: 'GET', path: '/clusters/c-relay/email-config', headers: auth });

    expect(created.status).toBe(201);
    expect(replaced.status).toBe(200);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({
      clusterId: 'c-relay',
      language: 'de',
      adminContacts: ['ops@example.com'],
      smtp: {
        encryption: 'none',
        verifyCertificate: true,
        auth: { type: 'password', username: 'relay@example.com', passwordSet: true },
      },
    });
    // The save without a password kept the stored one.
    const stored = await store.get('c-relay');
    expect(stored?.config.smtp?.auth).toMatchObject({ password: PASSWORD });
  });

  it('answers 400 with every field issue named', async () => {
    const response = await call({
      method: 'PUT',
      path: '/clusters/c1/email-config',
      headers: auth,
      body: {
        ...relayConfig(),
        sender: 'x@example.com\r\nBcc: a@example.org',
        smtp: { ...relayConfig().smtp, port: 0 },
      },
    });

    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: 'Invalid email configuration',
      issues: [
        { path: 'sender', message: 'must not contain control characters (CR, LF, TAB or similar)' },
        { path: 'smtp.port', message: 'must be between 1 and 65535' },
      ],
    });
  });

  it('answers 413 naming the size and the limit for a configuration over 8,192 bytes, and stores nothing', async () => {
    // 50 contacts of the longest form an address may have (253 of the 254 characters allowed).
    const longest = (n: number) =>
      `${'a'.repeat(62)}${String(n).padStart(2, '0')}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(52)}.example`;
    const contacts = Array.from({ length: 50 }, (_, n) => longest(n));
    expect(contacts.every((c) => c.length <= 254)).toBe(true);

    const response = await call({
      method: 'PUT',
      path: '/clusters/c-huge/email-config',
      headers: auth,
      body: { ...relayConfig(), adminContacts: contacts },
    });

    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ limitBytes: 8192 });
    expect(response.body.bytes).toBeGreaterThan(8192);
    expect(response.body.error).toContain(`is ${response.body.bytes} bytes`);
    expect(response.body.error).toContain('at most 8192 bytes');
    expect(await store.get('c-huge')).toBeUndefined();
  });

  it('answers 400 when the first save of password authentication has no password', async () => {
    const { password: _p, ...noPassword } = relayConfig().smtp.auth;

    const response = await call({
      method: 'PUT',
      path: '/clusters/c-new/email-config',
      headers: auth,
      body: { ...relayConfig(), smtp: { ...relayConfig().smtp, auth: noPassword } },
    });

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([
      { path: 'smtp.auth.password', message: 'is required (no password is stored yet)' },
    ]);
  });

  it('answers 400 on smtp.host for a relay at the instance metadata address, on save and on test', async () => {
    const body = { ...relayConfig(), smtp: { ...relayConfig().smtp, host: '169.254.169.254' } };

    const saved = await call({
      method: 'PUT',
      path: '/clusters/c-metadata/email-config',
      headers: auth,
      body,
    });
    const tested = await call({
      method: 'POST',
      path: '/clusters/c-metadata/email-config/test',
      headers: auth,
      body,
    });

    for (const response of [saved, tested]) {
      expect(response.status).toBe(400);
      expect(response.body.issues).toContainEqual({
        path: 'smtp.host',
        message:
          "169.254.169.254 is the instance metadata service, never an SMTP relay: use the relay's own host name or address",
      });
    }
    expect(await store.get('c-metadata')).toBeUndefined();
  });

  it('answers 400 for malformed JSON and 415 for a body that is not JSON', async () => {
    const malformed = await call({
      method: 'PUT',
      path: '/clusters/c1/email-config',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"sender": ',
    });
    const notJson = await call({
      method: 'PUT',
      path: '/clusters/c1/email-config',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'sender=appliance@example.com',
    });

    expect(malformed.status).toBe(400);
    expect(String(malformed.body.error)).toMatch(/^Request body is not valid JSON/);
    expect(notJson.status).toBe(415);
    expect(notJson.body.error).toBe('Content-Type must be application/json (got "text/plain")');
  });

  it('answers 400 for an invalid cluster id and an invalid flag', async () => {
    const badId = await call({ method: 'GET', path: '/clusters/..%2Fetc/email-config', headers: auth });
    const badFlag = await call({
      method: 'PUT',
      path: '/clusters/c1/email-config',
      query: { sendTestEmail: 'yes' },
      headers: auth,
      body: sesConfig,
    });

    expect(badId.status).toBe(400);
    expect(badId.body.issues).toEqual([expect.objectContaining({ path: 'clusterId' })]);
    expect(badFlag.status).toBe(400);
    expect(badFlag.body.issues).toEqual([{ path: 'sendTestEmail', message: 'must be true or false' }]);
  });

  it('with ?sendTestEmail=true saves, then sends the test email and reports it', async () => {
    const response = await call({
      method: 'PUT',
      path: '/clusters/c-ses/email-config',
      query: { sendTestEmail: 'true' },
      headers: auth,
      body: sesConfig,
    });

    expect(response.status).toBe(201);
    expect(response.body.testEmail).toMatchObject({
      ok: true,
      recipients: ['ops@example.com', 'oncall@example.com'],
    });
    const files = await readdir(join(dataDir, 'outbox'));
    const eml = await readFile(join(dataDir, 'outbox', files[0] ?? ''), 'utf8');
    expect(eml).toContain('Subject: Test email from appliance-notifier (cluster c-ses)');
    expect(eml).toContain('To: ops@example.com, oncall@example.com');
  });
});

describe('POST /clusters/{clusterId}/email-config/test', () => {
  it('reports where delivery failed: a refused connection is stage connect', async () => {
    await call({ method: 'PUT', path: '/clusters/c-down/email-config', headers: auth, body: relayConfig() });

    const response = await call({
      method: 'POST',
      path: '/clusters/c-down/email-config/test',
      headers: auth,
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: false, stage: 'connect', transient: true });
    expect(typeof response.body.hint).toBe('string');
  });

  it('answers 404 for a cluster without a configuration', async () => {
    const response = await call({
      method: 'POST',
      path: '/clusters/nothing-here/email-config/test',
      headers: auth,
    });

    expect(response.status).toBe(404);
  });
});

describe('routing and failures', () => {
  it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    const unknown = await call({ method: 'GET', path: '/nope', headers: auth });
    const wrongMethod = await call({ method: 'PATCH', path: '/clusters/c1/email-config', headers: auth });

    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: 'No route for GET /nope' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD, PUT, DELETE');
  });

  it('answers an unexpected failure with 500 and no internals', async () => {
    const broken: ConfigStore = {
      get: async () => {
        throw new Error('disk on fire at /var/secret/path');
      },
      put: async () => undefined,
      listClusterIds: async () => [],
      delete: async () => false,
    };
    const log = createLogger({ logLevel: 'CRITICAL' as 'ERROR' });
    const brokenServices = await testServices({
      dataDir: join(dataDir, 'broken'),
      log,
      adapters: { store: broken },
    });
    const failing = createAdminApiHandler({
      services: brokenServices,
      authenticator: bearerTokenAuthenticator(TOKEN),
    });

    const response = await invoke(failing, {
      method: 'GET',
      path: '/clusters/c1/email-config',
      headers: auth,
    });

    await brokenServices.close();
    expect(response.status).toBe(500);
    expect(Object.keys(response.body).sort()).toEqual(['error', 'requestId']);
    expect(response.raw).not.toMatch(/disk on fire|at .*\.ts/);
  });

  it('never returned a secret in any response of this file', () => {
    expect(responses.length).toBeGreaterThan(10);
    for (const raw of responses) {
      expect(raw).not.toContain(PASSWORD);
      expect(raw).not.toContain(Buffer.from(PASSWORD).toString('base64'));
    }
  });
});
