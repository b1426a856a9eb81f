// The admin API's configuration lifecycle on the embedded runtime's adapters (SQLite): testing a
// configuration that is not saved, saving only what delivered, the history with who/when/test
// result, restore, delete (versions kept), and the fleet overview. A real SMTP server is the
// relay that works; a port nobody listens on is the one that does not.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteGrantStore } from '../../functions/adapters/local/sqlite-grant-store.js';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import { bearerTokenAuthenticator, jwtAuthorizerAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type ApiRequest, type ApiResponse, type Handler, invoke } from '../support/api-gateway.js';
import { HOUR, recordOf } from '../support/ledger-fixtures.js';
import { type TestServices, testServices } from '../support/services.js';
import { type SmtpTestServer, startSmtpTestServer, unusedPort } from '../support/smtp-test-server.js';

const TOKEN = 'test-admin-token-0123456789-abcdefgh';
const PASSWORD = 'Relay-Pa55word!';
const auth = { authorization: `Bearer ${TOKEN}` };
const T0 = new Date('2026-12-01T09:00:00.000Z');

let dataDir: string;
let now: Date;
let services: TestServices;
let handler: Handler;
let jwtHandler: Handler;
let relay: SmtpTestServer;
let closedPort: number;
const raws: string[] = [];

async function call(request: ApiRequest, via: Handler = handler): Promise<ApiResponse> {
  const response = await invoke(via, { ...request, headers: { ...auth, ...request.headers } });
  raws.push(response.raw);
  return response;
}

/** A relay configuration with password authentication on `port` (the relay accepts no AUTH). */
const configOn = (port: number, extra: Record<string, unknown> = {}) => ({
  sender: 'appliance@example.com',
  transport: 'smtp',
  smtp: {
    host: '127.0.0.1',
    port,
    encryption: 'none',
    auth: { type: 'none' },
  },
  adminContacts: ['ops@example.com'],
  ...extra,
});

const passwordConfigOn = (port: number, password?: string) => ({
  ...configOn(port),
  smtp: {
    host: '127.0.0.1',
    port,
    encryption: 'none',
    allowInsecureAuth: true,
    auth: { type: 'password', username: 'relay@example.com', ...(password ? { password } : {}) },
  },
});

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'admin-history-'));
  relay = await startSmtpTestServer({ mode: 'plain' });
  closedPort = await unusedPort();
  now = T0;
  const log = createLogger({ logLevel: 'ERROR' });
  services = await testServices({
    dataDir,
    log,
    clock: () => now,
    smtpTimeouts: { connectionMs: 2000, greetingMs: 2000, socketMs: 2000 },
  });
  handler = createAdminApiHandler({ services, authenticator: bearerTokenAuthenticator(TOKEN) });
  jwtHandler = createAdminApiHandler({ services, authenticator: jwtAuthorizerAuthenticator });
});

afterAll(async () => {
  await services?.close();
  await relay?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  relay.reset();
  now = new Date(now.getTime() + 60_000);
});

describe('POST /clusters/{clusterId}/email-config/test', () => {
  it('tests the configuration in the body without saving it, and the stored one without a body', async () => {
    // Prepare: the stored configuration points at a port nobody listens on.
    await call({ method: 'PUT', path: '/clusters/form/email-config', body: configOn(closedPort) });

    // Act
    const form = await call({
      method: 'POST',
      path: '/clusters/form/email-config/test',
      body: configOn(relay.port),
    });
    const stored = await call({ method: 'POST', path: '/clusters/form/email-config/test' });
    const after = await call({ method: 'GET', path: '/clusters/form/email-config' });

    // Assess
    expect(form.status).toBe(200);
    expect(form.body).toMatchObject({ ok: true, recipients: ['ops@example.com'] });
    expect(relay.messages).toHaveLength(1);
    expect(stored.body).toMatchObject({ ok: false, stage: 'connect' });
    expect((after.body.smtp as { port: number }).port).toBe(closedPort);
  });

  it('takes a secret left out of the body from the stored configuration, as PUT does', async () => {
    // Prepare: the relay requires the stored password.
    const authed = await startSmtpTestServer({
      mode: 'plain',
      auth: { username: 'relay@example.com', password: PASSWORD },
    });
    try {
      await call({
        method: 'PUT',
        path: '/clusters/secret/email-config',
        body: passwordConfigOn(closedPort, PASSWORD),
      });

      // Act
      const response = await call({
        method: 'POST',
        path: '/clusters/secret/email-config/test',
        body: passwordConfigOn(authed.port),
      });

      // Assess
      expect(response.body).toMatchObject({ ok: true });
      expect(authed.authAttempts.map((a) => a.password)).toContain(PASSWORD);
    } finally {
      await authed.close();
    }
  });

  it("does not test a changed OAuth2 client with the saved client's authorization", async () => {
    // Prepare
    const oauth = (clientId: string) => ({
      sender: 'alerts@contoso.com',
      transport: 'smtp',
      adminContacts: ['ops@example.com'],
      smtp: {
        host: '127.0.0.1',
        port: relay.port,
        encryption: 'none',
        allowInsecureAuth: true,
        auth: {
          type: 'oauth2',
          provider: 'microsoft',
          tenant: 'contoso.onmicrosoft.com',
          clientId,
          clientSecret: 's3cret',
        },
      },
    });
    await call({ method: 'PUT', path: '/clusters/oauth-form/email-config', body: oauth('app-1') });
    const sameClientReordered = oauth('app-1');
    sameClientReordered.smtp.auth = {
      clientSecret: 's3cret',
      clientId: 'app-1',
      tenant: 'contoso.onmicrosoft.com',
      provider: 'microsoft',
      type: 'oauth2',
    };

    // Act
    const changed = await call({
      method: 'POST',
      path: '/clusters/oauth-form/email-config/test',
      body: oauth('app-2'),
    });
    const same = await call({
      method: 'POST',
      path: '/clusters/oauth-form/email-config/test',
      body: sameClientReordered,
    });

    // Assess: the changed client is refused up front; the saved one gets as far as its grant.
    expect(changed.body).toMatchObject({
      ok: false,
      stage: 'auth',
      message: expect.stringMatching(/not the saved one/),
    });
    expect(same.body).toMatchObject({ ok: false, stage: 'auth' });
    expect(same.body.message).not.toMatch(/not the saved one/);
    expect(same.body.message).toMatch(/not authorized yet/);
  });

  it('answers 400 for an invalid body', async () => {
    const response = await call({
      method: 'POST',
      path: '/clusters/form/email-config/test',
      body: { ...configOn(relay.port), sender: 'not an address' },
    });

    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body.issues)).toContain('sender');
    expect(relay.messages).toHaveLength(0);
  });
});

describe('PUT /clusters/{clusterId}/email-config?sendTestEmail=true&saveOnlyIfDelivered=true', () => {
  it('answers 422 with the diagnostic and keeps the stored configuration when the test email fails', async () => {
    // Prepare
    await call({ method: 'PUT', path: '/clusters/guarded/email-config', body: configOn(relay.port) });
    const before = await call({ method: 'GET', path: '/clusters/guarded/email-config/versions' });

    // Act
    const response = await call({
      method: 'PUT',
      path: '/clusters/guarded/email-config',
      query: { sendTestEmail: 'true', saveOnlyIfDelivered: 'true' },
      body: configOn(closedPort),
    });

    // Assess
    expect(response.status).toBe(422);
    expect(response.body.error).toMatch(/not saved/);
    expect(response.body.testEmail).toMatchObject({ ok: false, stage: 'connect' });
    const stored = await call({ method: 'GET', path: '/clusters/guarded/email-config' });
    expect((stored.body.smtp as { port: number }).port).toBe(relay.port);
    const after = await call({ method: 'GET', path: '/clusters/guarded/email-config/versions' });
    expect((after.body.items as unknown[]).length).toBe((before.body.items as unknown[]).length);
    expect(after.body.lastTestEmail).toMatchObject({ ok: false, stage: 'connect', of: { unsaved: true } });
  });

  it('saves a configuration whose test email was delivered, with the test result on its version', async () => {
    // Act
    const response = await call({
      method: 'PUT',
      path: '/clusters/delivered/email-config',
      query: { sendTestEmail: 'true', saveOnlyIfDelivered: 'true' },
      body: configOn(relay.port),
    });
    const versions = await call({ method: 'GET', path: '/clusters/delivered/email-config/versions' });

    // Assess
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ version: 1, testEmail: { ok: true } });
    expect(relay.messages).toHaveLength(1);
    expect(versions.body.items).toEqual([
      expect.objectContaining({
        version: 1,
        current: true,
        testEmail: expect.objectContaining({ ok: true, of: { version: 1 } }),
      }),
    ]);
  });

  it('answers 400 naming saveOnlyIfDelivered without sendTestEmail=true, and saves nothing', async () => {
    const response = await call({
      method: 'PUT',
      path: '/clusters/no-test/email-config',
      query: { saveOnlyIfDelivered: 'true' },
      body: configOn(relay.port),
    });

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([expect.objectContaining({ path: 'saveOnlyIfDelivered' })]);
    expect((await call({ method: 'GET', path: '/clusters/no-test/email-config' })).status).toBe(404);
  });
});

describe('configuration history and restore', () => {
  it('lists every save newest first with who and when, secrets as set or not set, and restores one', async () => {
    // Prepare: two saves by two principals; the second is tested and fails.
    const first = await call(
      {
        method: 'PUT',
        path: '/clusters/hist/email-config',
        body: passwordConfigOn(relay.port, PASSWORD),
        headers: { authorization: '' },
        claims: { sub: 'u-1', email: 'alice@example.com', 'cognito:groups': '[cluster-hist]' },
      },
      jwtHandler,
    );
    const savedAt1 = now.toISOString();
    now = new Date(now.getTime() + HOUR);
    await call({
      method: 'PUT',
      path: '/clusters/hist/email-config',
      query: { sendTestEmail: 'true' },
      body: passwordConfigOn(closedPort),
    });

    // Act
    const listed = await call({ method: 'GET', path: '/clusters/hist/email-config/versions' });
    const restored = await call({ method: 'POST', path: '/clusters/hist/email-config/versions/1/restore' });
    const afterRestore = await call({ method: 'GET', path: '/clusters/hist/email-config/versions' });
    const current = await call({ method: 'GET', path: '/clusters/hist/email-config' });

    // Assess
    expect(first.status).toBe(201);
    const items = listed.body.items as Array<Record<string, unknown>>;
    expect(items.map((v) => v.version)).toEqual([2, 1]);
    expect(items[0]).toMatchObject({
      savedBy: 'admin-token',
      current: true,
      testEmail: { ok: false, stage: 'connect', of: { version: 2 } },
      config: { smtp: { port: closedPort, auth: { type: 'password', passwordSet: true } } },
    });
    expect(items[1]).toMatchObject({ savedBy: 'alice@example.com', savedAt: savedAt1, current: false });
    expect(items[1]?.testEmail).toBeUndefined();
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({
      version: 3,
      restoredFrom: 1,
      config: { smtp: { port: relay.port } },
    });
    expect((afterRestore.body.items as Array<Record<string, unknown>>)[0]).toMatchObject({
      version: 3,
      restoredFrom: 1,
      current: true,
    });
    expect(afterRestore.body.currentVersion).toBe(3);
    expect((current.body.smtp as { port: number }).port).toBe(relay.port);
    expect(raws.join('\n')).not.toContain(PASSWORD);
  });

  it('answers 404 for an unknown version and 400 for one that is not a number', async () => {
    await call({ method: 'PUT', path: '/clusters/hist-404/email-config', body: configOn(relay.port) });

    const unknown = await call({
      method: 'POST',
      path: '/clusters/hist-404/email-config/versions/7/restore',
    });
    const invalid = await call({
      method: 'POST',
      path: '/clusters/hist-404/email-config/versions/x1/restore',
    });

    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/version 7/);
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues).toEqual([expect.objectContaining({ path: 'version' })]);
  });
});

describe('DELETE /clusters/{clusterId}/email-config', () => {
  it('removes the configuration (204) and its OAuth2 grant, keeps its versions, and a restore brings it back', async () => {
    // Prepare: a grant in the same database, written as another process would.
    await call({ method: 'PUT', path: '/clusters/gone/email-config', body: configOn(relay.port) });
    const database = await SqliteDatabase.open({ directory: dataDir });
    const grants = new SqliteGrantStore(database);
    await grants.put(
      'gone',
      {
        status: 'authorized',
        refreshToken: 'rt-gone',
        authorizedAt: now.toISOString(),
        binding: { provider: 'microsoft', clientId: 'app', tokenEndpoint: 'https://login.example.com/token' },
      },
      undefined,
    );

    // Act
    const deleted = await call({ method: 'DELETE', path: '/clusters/gone/email-config' });
    const get = await call({ method: 'GET', path: '/clusters/gone/email-config' });
    const again = await call({ method: 'DELETE', path: '/clusters/gone/email-config' });
    const versions = await call({ method: 'GET', path: '/clusters/gone/email-config/versions' });
    const overview = await call({ method: 'GET', path: '/clusters' });
    const restored = await call({ method: 'POST', path: '/clusters/gone/email-config/versions/1/restore' });

    // Assess
    expect(deleted.status).toBe(204);
    expect(deleted.raw).toBe('');
    expect(await grants.get('gone')).toBeUndefined();
    database.close();
    expect(get.status).toBe(404);
    expect(again.status).toBe(404);
    expect(versions.body).toMatchObject({ items: [expect.objectContaining({ version: 1, current: false })] });
    expect(versions.body.currentVersion).toBeUndefined();
    expect((overview.body.items as Array<{ clusterId: string }>).map((c) => c.clusterId)).not.toContain(
      'gone',
    );
    expect(restored.body).toMatchObject({ version: 2, restoredFrom: 1 });
    expect((await call({ method: 'GET', path: '/clusters/gone/email-config' })).status).toBe(200);
  });
});

describe('GET /clusters', () => {
  it('lists every cluster with its health, unhealthy first, from its test email and its delivery log', async () => {
    // Prepare: "fleet-b" delivered and was tested; "fleet-a" failed a delivery a moment ago.
    await call({
      method: 'PUT',
      path: '/clusters/fleet-b/email-config',
      query: { sendTestEmail: 'true' },
      body: configOn(relay.port, { dailyNotice: true }),
    });
    await call({
      method: 'PUT',
      path: '/clusters/fleet-a/email-config',
      query: { sendTestEmail: 'true' },
      body: configOn(relay.port),
    });
    const recent = new Date(now.getTime() - HOUR).toISOString();
    await services.deliveries.record(
      recordOf({ clusterId: 'fleet-b', eventId: 'b-1', at: recent, receivedAt: recent }),
    );
    await services.deliveries.record(
      recordOf({
        clusterId: 'fleet-b',
        eventId: 'daily-notice:fleet-b:2026-12-01',
        condition: 'daily-notice',
        at: recent,
        receivedAt: recent,
      }),
    );
    await services.deliveries.record(
      recordOf({
        clusterId: 'fleet-a',
        eventId: 'a-1',
        outcome: 'failed',
        transient: false,
        reason: 'auth failed (535 5.7.8): bad credentials',
        at: recent,
        receivedAt: recent,
      }),
    );

    // Act
    const response = await call({ method: 'GET', path: '/clusters' });

    // Assess
    expect(response.status).toBe(200);
    const items = response.body.items as Array<Record<string, unknown>>;
    const ids = items.map((c) => c.clusterId);
    expect(ids.indexOf('fleet-a')).toBeLessThan(ids.indexOf('fleet-b'));
    const a = items.find((c) => c.clusterId === 'fleet-a');
    const b = items.find((c) => c.clusterId === 'fleet-b');
    expect(a).toMatchObject({
      health: 'failing',
      lastDelivery: { eventId: 'a-1', outcome: 'failed' },
      last24h: { failed: 1 },
    });
    expect(b).toMatchObject({
      health: 'ok',
      problems: [],
      transport: 'smtp',
      relay: `127.0.0.1:${relay.port} (no encryption)`,
      lastTestEmail: { ok: true },
      lastDelivery: { eventId: 'b-1', outcome: 'sent' },
      last24h: { sent: 2, failed: 0, throttled: 0 },
      pendingRetries: 0,
      dailyNotice: { enabled: true, lastSentAt: recent, lastOutcome: 'sent' },
      deliveryLog: { recordsRead: 2, complete: true },
    });
    const healthRank = { failing: 0, warning: 1, ok: 2 } as Record<string, number>;
    const ranks = items.map((c) => healthRank[c.health as string] ?? 9);
    expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
  });
});
