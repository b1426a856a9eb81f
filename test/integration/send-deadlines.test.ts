// The overall deadline of a send, against relays that stall or answer every command slowly
// (raw SMTP on loopback) and an SES endpoint that never answers: the connection is dropped at
// the deadline, nothing more is transmitted, and the failure is transient and names the stage.
// Deadlines are a few hundred milliseconds here; the per-phase timeouts are set far longer, so
// only the deadline can end these sends.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESClient } from '@aws-sdk/client-ses';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SesMailer } from '../../functions/adapters/aws/ses-mailer.js';
import { OutboxMailer } from '../../functions/adapters/local/outbox-mailer.js';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteGrantStore } from '../../functions/adapters/local/sqlite-grant-store.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import { SmtpMailer } from '../../functions/adapters/smtp/smtp-mailer.js';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import {
  type EmailConfig,
  EmailConfigSchema,
  type SmtpSettings,
} from '../../functions/core/config/email-config.js';
import { EmailConfigService } from '../../functions/core/config/email-config-service.js';
import { DEADLINE_EXCEEDED, hintFor } from '../../functions/core/mail/diagnostics.js';
import {
  DeliveryError,
  type DeliveryFailure,
  type OutgoingMessage,
} from '../../functions/core/mail/mailer.js';
import { bearerTokenAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type Handler, invoke } from '../support/api-gateway.js';
import { memoryConfigHistory } from '../support/memory-config-history.js';
import { type TestServices, testServices } from '../support/services.js';
import { SES_LOCAL_CLIENT_CONFIG } from '../support/ses-local.js';
import {
  type SlowSmtpServer,
  type SlowSmtpServerOptions,
  startSlowSmtpServer,
} from '../support/smtp-test-server.js';

const DEADLINE_MS = 300;
/** What a deadline may overrun by on a busy machine: timers, and closing the connection. */
const SLACK_MS = 700;
/** Per-phase timeouts far beyond the deadline, so that only the deadline can end a send. */
const LONG_TIMEOUTS = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 10_000, dnsMs: 10_000 };

const message: OutgoingMessage = {
  from: 'notifier@example.com',
  to: ['ops@example.com'],
  subject: 'Failover Promotion Pending on fw-01',
  text: 'The backup takes over in 120 seconds.',
};

const servers: SlowSmtpServer[] = [];
async function slowRelay(options: SlowSmtpServerOptions): Promise<SlowSmtpServer> {
  const server = await startSlowSmtpServer(options);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const settingsFor = (relay: { port: number }, overrides: Partial<SmtpSettings> = {}): SmtpSettings => ({
  host: '127.0.0.1',
  port: relay.port,
  encryption: 'none',
  verifyCertificate: false,
  auth: { type: 'none' },
  ...overrides,
});

const configFor = (settings: SmtpSettings): EmailConfig =>
  EmailConfigSchema.parse({
    sender: 'notifier@example.com',
    smtp: settings,
    adminContacts: 'ops@example.com',
    // One email per event: what this test is about (group emails have tests of their own).
    grouping: { waitSeconds: 0 },
  });

/** The failure of a send, and how long it took to fail. */
async function timedFailure(
  sending: () => Promise<unknown>,
): Promise<{ failure: DeliveryFailure; ms: number }> {
  const started = performance.now();
  try {
    await sending();
  } catch (error) {
    if (error instanceof DeliveryError) return { failure: error.failure, ms: performance.now() - started };
    throw error;
  }
  throw new Error('expected the send to fail');
}

describe('SmtpMailer deadline', () => {
  it('drops a relay that answers EHLO and then nothing, at the envelope stage, within the deadline', async () => {
    // Prepare
    const relay = await slowRelay({ stallAfter: 'EHLO' });
    const mailer = new SmtpMailer({
      settings: settingsFor(relay),
      timeouts: LONG_TIMEOUTS,
      deadlineMs: DEADLINE_MS,
    });

    // Act
    const { failure, ms } = await timedFailure(() => mailer.send(message));

    // Assess
    expect(failure).toMatchObject({
      stage: 'envelope',
      transient: true,
      reason: DEADLINE_EXCEEDED,
      command: 'MAIL',
      message: `No answer from the relay 127.0.0.1:${relay.port} within 0.3 s, at the envelope stage: the connection was closed at the send's deadline, so nothing more is sent`,
    });
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 20);
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(failure.transcript).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^C: EHLO /),
        expect.stringMatching(/^C: MAIL FROM:<notifier@example.com>/),
        '* Deadline of 0.3 s passed at the envelope stage: dropping the connection',
      ]),
    );
    await relay.waitUntilIdle();
    expect(relay.connections).toBe(1);
    expect(relay.commands.map((line) => line.split(/[ :]/)[0])).toEqual(['EHLO', 'MAIL']);
  });

  it('ends a send whose every reply comes slowly, though no per-phase timeout ever fires', async () => {
    // Prepare: 100 ms per reply; the whole send needs about 600 ms. At 350 ms the relay has
    // answered for the sender (300 ms) and not yet for the recipient (400 ms).
    const relay = await slowRelay({ replyDelayMs: 100 });
    const mailer = new SmtpMailer({ settings: settingsFor(relay), timeouts: LONG_TIMEOUTS });

    // Act
    const slow = await timedFailure(() => mailer.send(message, { deadlineMs: 350 }));
    await relay.waitUntilIdle();
    const patient = await mailer.send(message, { deadlineMs: 5_000 });

    // Assess: the deadline (the send's own, over the mailer's default) ended the first send
    // while the relay had the sender and was yet to answer for the recipient; the second shows
    // the relay does deliver when given the time.
    expect(slow.failure).toMatchObject({ stage: 'envelope', transient: true, reason: DEADLINE_EXCEEDED });
    expect(slow.failure.message).toContain('within 0.35 s, at the envelope stage');
    expect(slow.ms).toBeLessThan(350 + SLACK_MS);
    expect(patient.accepted).toEqual(['ops@example.com']);
    expect(relay.connections).toBe(2);
    expect(relay.messagesReceived).toBe(1);
  });

  it('transmits a message at most once when the relay never confirms it (data stage)', async () => {
    // Prepare
    const relay = await slowRelay({ stallAfter: 'message' });
    const mailer = new SmtpMailer({
      settings: settingsFor(relay),
      timeouts: LONG_TIMEOUTS,
      deadlineMs: DEADLINE_MS,
    });

    // Act
    const { failure, ms } = await timedFailure(() => mailer.send(message));
    await relay.waitUntilIdle();

    // Assess
    expect(failure).toMatchObject({
      stage: 'data',
      transient: true,
      reason: DEADLINE_EXCEEDED,
      command: 'DATA',
    });
    expect(failure.message).toContain('at the data stage');
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(relay.connections).toBe(1);
    expect(relay.messagesReceived).toBe(1);
    expect(relay.confirmedAt).toEqual([]);
  });

  it('names the TLS stage when the relay agrees to STARTTLS and never starts the handshake', async () => {
    const relay = await slowRelay({ offerStartTls: true, stallAfter: 'STARTTLS' });
    const mailer = new SmtpMailer({
      settings: settingsFor(relay, { encryption: 'starttls' }),
      timeouts: LONG_TIMEOUTS,
      deadlineMs: DEADLINE_MS,
    });

    const { failure, ms } = await timedFailure(() => mailer.send(message));

    expect(failure).toMatchObject({ stage: 'tls', transient: true, reason: DEADLINE_EXCEEDED });
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    await relay.waitUntilIdle();
  });

  it('names the connect stage when the relay never greets', async () => {
    const relay = await slowRelay({ stallAfter: 'connect' });
    const mailer = new SmtpMailer({
      settings: settingsFor(relay),
      timeouts: LONG_TIMEOUTS,
      deadlineMs: DEADLINE_MS,
    });

    const { failure } = await timedFailure(() => mailer.send(message));

    expect(failure).toMatchObject({ stage: 'connect', transient: true, reason: DEADLINE_EXCEEDED });
    expect(hintFor(failure, configFor(settingsFor(relay)))).toMatch(
      /did not accept the connection and greet in time/,
    );
    await relay.waitUntilIdle();
    expect(relay.commands).toEqual([]);
  });

  it('applies through the mailer factory, OAuth2 included: a relay stalling on AUTH is at the auth stage', async () => {
    // Prepare: the OAuth2 wrapper around the relay's mailer must pass the deadline on.
    const relay = await slowRelay({ stallAfter: 'EHLO' });
    const invalidated: string[] = [];
    const factory = new TransportMailerFactory({
      ses: () => {
        throw new Error('not used');
      },
      smtpTimeouts: LONG_TIMEOUTS,
      smtpDeadlineMs: 60_000,
      oauthTokens: {
        accessTokenFor: async () => ({ user: 'relay@example.com', accessToken: 'token-0123456789' }),
        invalidate: (clusterId) => invalidated.push(clusterId),
      },
    });
    const config = EmailConfigSchema.parse({
      sender: 'notifier@example.com',
      smtp: {
        host: '127.0.0.1',
        port: relay.port,
        encryption: 'none',
        allowInsecureAuth: true,
        auth: { type: 'oauth2', provider: 'google', clientId: 'client', clientSecret: 'secret' },
      },
      adminContacts: 'ops@example.com',
      // One email per event: what this test is about (group emails have tests of their own).
      grouping: { waitSeconds: 0 },
    });
    const mailer = await factory.forConfig(config, { clusterId: 'c1' });

    // Act
    const { failure, ms } = await timedFailure(() => mailer.send(message, { deadlineMs: DEADLINE_MS }));

    // Assess
    expect(failure).toMatchObject({ stage: 'auth', transient: true, reason: DEADLINE_EXCEEDED });
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(failure.transcript?.join('\n')).not.toContain('token-0123456789');
    expect(hintFor(failure, config)).toMatch(/answered the authentication too slowly/);
    await relay.waitUntilIdle();
  });
});

describe('SesMailer deadline', () => {
  let silent: Server;
  let port: number;
  const sockets = new Set<Socket>();
  let requests = 0;

  beforeAll(async () => {
    // An endpoint that accepts the connection, reads the request, and never answers.
    silent = createServer((socket) => {
      requests++;
      sockets.add(socket);
      socket.on('data', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('cancels the request at the deadline with a transient failure, and closes the connection', async () => {
    // Prepare: the SDK's own retries stay inside the deadline; one attempt keeps this exact.
    const client = new SESClient({
      ...SES_LOCAL_CLIENT_CONFIG,
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
    });
    const mailer = new SesMailer({ client, deadlineMs: DEADLINE_MS });

    // Act
    const { failure, ms } = await timedFailure(() => mailer.send(message));
    client.destroy();

    // Assess
    expect(failure).toMatchObject({
      stage: 'connect',
      transient: true,
      reason: DEADLINE_EXCEEDED,
      message: expect.stringContaining('No answer from Amazon SES within 0.3 s'),
    });
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(requests).toBe(1);
    const config = EmailConfigSchema.parse({
      sender: 'a@example.com',
      transport: 'ses',
      adminContacts: 'b@example.com',
      // One email per event: what this test is about (group emails have tests of their own).
      grouping: { waitSeconds: 0 },
    });
    expect(hintFor(failure, config)).toMatch(/Amazon SES did not answer in time/);
    const deadline = Date.now() + 2000;
    while (sockets.size > 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
    expect(sockets.size).toBe(0);
  });
});

describe('the test email through the admin API', () => {
  const TOKEN = 'test-admin-token-0123456789-abcdefgh';
  const auth = { authorization: `Bearer ${TOKEN}` };
  let dataDir: string;
  let services: TestServices;
  let handler: Handler;
  let relay: SlowSmtpServer;
  let database: SqliteDatabase;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'test-email-deadline-'));
    relay = await startSlowSmtpServer({ stallAfter: 'EHLO' });
    const log = createLogger({ logLevel: 'ERROR' });
    database = await SqliteDatabase.open({ directory: join(dataDir, 'config') });
    const store = new SqliteConfigStore(database);
    const mailers = new TransportMailerFactory({
      ses: () => new OutboxMailer({ directory: join(dataDir, 'outbox') }),
      smtpTimeouts: LONG_TIMEOUTS,
    });
    services = await testServices({ dataDir, log, adapters: { store, mailers: () => mailers } });
    // The admin API as deployed, with the test email's deadline shortened from 20 s.
    const emailConfig = new EmailConfigService({
      store,
      grants: new SqliteGrantStore(database),
      history: memoryConfigHistory(),
      mailers,
      clock: services.clock,
      log,
      testEmailDeadlineMs: DEADLINE_MS,
    });
    handler = createAdminApiHandler({
      services: {
        log,
        deliveries: services.deliveries,
        fleet: services.fleet,
        oauthAuthorization: services.oauthAuthorization,
        emailConfig,
      },
      authenticator: bearerTokenAuthenticator(TOKEN),
    });
  });

  afterAll(async () => {
    await relay.close();
    await services.close();
    database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const relayConfig = () => ({
    sender: 'appliance@example.com',
    smtp: { host: '127.0.0.1', port: relay.port, encryption: 'none', auth: { type: 'none' } },
    adminContacts: 'ops@example.com',
    // One email per event: what this test is about (group emails have tests of their own).
    grouping: { waitSeconds: 0 },
  });

  it('answers 200 with the diagnosis when the relay stalls after EHLO, never a 500', async () => {
    // Prepare
    await invoke(handler, {
      method: 'PUT',
      path: '/clusters/c-stall/email-config',
      headers: auth,
      body: relayConfig(),
    });

    // Act
    const started = performance.now();
    const response = await invoke(handler, {
      method: 'POST',
      path: '/clusters/c-stall/email-config/test',
      headers: auth,
    });
    const ms = performance.now() - started;

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      ok: false,
      stage: 'envelope',
      transient: true,
      message: expect.stringContaining('within 0.3 s, at the envelope stage'),
      hint: expect.stringContaining('answered the sender and recipient commands too slowly'),
      recipients: ['ops@example.com'],
    });
    expect(response.body.transcript).toEqual(expect.arrayContaining([expect.stringMatching(/^C: EHLO /)]));
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
  });

  it('reports the same diagnosis after a save with ?sendTestEmail=true', async () => {
    const response = await invoke(handler, {
      method: 'PUT',
      path: '/clusters/c-stall-2/email-config',
      query: { sendTestEmail: 'true' },
      headers: auth,
      body: relayConfig(),
    });

    expect(response.status).toBe(201);
    expect(response.body.testEmail).toMatchObject({
      ok: false,
      stage: 'envelope',
      transient: true,
      message: expect.stringContaining('within 0.3 s'),
    });
  });
});
