// Pooled, paced SMTP delivery against a real smtp-server (STARTTLS and AUTH), through the mailer
// factory as notify uses it: connections per relay identity within maxConnections, one STARTTLS
// and one AUTH per connection, two processes on one gate within the limit together, idle
// connections closed with their slots given back, throttling replies backing the relay off, and
// the test email still on a connection of its own with its whole dialogue.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteRelayGate } from '../../functions/adapters/local/sqlite-relay-gate.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import { SmtpMailer } from '../../functions/adapters/smtp/smtp-mailer.js';
import { SmtpPools } from '../../functions/adapters/smtp/smtp-pool.js';
import { type EmailConfig, EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { DeliveryError, type OutgoingMessage } from '../../functions/core/mail/mailer.js';
import { relayIdentity } from '../../functions/core/mail/relay-gate.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

const USER = 'alerts@contoso.example';
const PASSWORD = 'Pool-Secret-42';
const IDLE_MS = 400;

interface Counters {
  connections: number;
  open: number;
  peakOpen: number;
  startTls: number;
}

let relay: SmtpTestServer;
const counters: Counters = { connections: 0, open: 0, peakOpen: 0, startTls: 0 };
let directory: string;
let database: SqliteDatabase;
let gate: SqliteRelayGate;
const pools: SmtpPools[] = [];

beforeAll(async () => {
  relay = await startSmtpTestServer({
    mode: 'starttls',
    // Any mailbox with the password: each test uses a user (a relay identity) of its own.
    auth: (attempt) =>
      attempt.password === PASSWORD
        ? { user: attempt.username }
        : { reply: '535 5.7.8 Error: authentication credentials invalid' },
    serverOptions: {
      onConnect(_session, callback) {
        counters.connections++;
        counters.open++;
        counters.peakOpen = Math.max(counters.peakOpen, counters.open);
        callback();
      },
      onClose() {
        counters.open--;
      },
      onSecure(_socket, _session, callback) {
        counters.startTls++;
        callback();
      },
    },
  });
  directory = await mkdtemp(join(tmpdir(), 'smtp-pool-'));
  database = await SqliteDatabase.open({ directory });
  gate = new SqliteRelayGate(database);
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  await waitFor(() => counters.open === 0);
  relay.reset();
  Object.assign(counters, { connections: 0, open: 0, peakOpen: 0, startTls: 0 });
});

afterAll(async () => {
  await relay?.close();
  database?.close();
  await rm(directory, { recursive: true, force: true });
});

let relayUser = 0;
/** A configuration of its own relay identity (a user name of its own), so tests share no limits. */
function config(limits: Record<string, number>, user = USER): EmailConfig {
  return EmailConfigInputSchema.parse({
    sender: 'appliance@example.com',
    smtp: {
      host: relay.host,
      port: relay.port,
      encryption: 'starttls',
      verifyCertificate: false,
      auth: { type: 'password', username: user, password: PASSWORD },
      limits,
    },
    adminContacts: 'ops@example.com',
  });
}

function factory(holder: string) {
  const smtpPools = new SmtpPools({ gate, holder, idleMs: IDLE_MS });
  pools.push(smtpPools);
  return {
    smtpPools,
    mailers: new TransportMailerFactory({ ses: () => unused(), relayGate: gate, smtpPools }),
  };
}

const unused = () => {
  throw new Error('no SES here');
};

const message = (i: number): OutgoingMessage => ({
  from: 'appliance@example.com',
  to: ['ops@example.com'],
  subject: `Alert ${i}`,
  text: `Condition ${i}`,
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sends like the queue does: a message told to wait is sent again after (a shortened) wait. */
async function sendPatiently(send: () => Promise<unknown>): Promise<number> {
  let waits = 0;
  for (;;) {
    try {
      await send();
      return waits;
    } catch (error) {
      if (!(error instanceof DeliveryError) || error.failure.waitMs === undefined) throw error;
      waits++;
      await new Promise((resolve) => setTimeout(resolve, Math.min(error.failure.waitMs ?? 0, 100)));
    }
  }
}

describe('pooled delivery per relay identity', () => {
  it('sends 50 emails over at most maxConnections connections, with one STARTTLS and one AUTH each', async () => {
    // Prepare
    const { mailers } = factory('p1');
    const settings = config(
      { maxConnections: 3, messagesPerMinute: 10_000 },
      `u${++relayUser}@contoso.example`,
    );
    relay.reset();
    // Act
    const started = Date.now();
    const receipts = await Promise.all(
      Array.from({ length: 50 }, async (_, i) =>
        (await mailers.forConfig(settings, { clusterId: 'c1' })).send(message(i)),
      ),
    );
    const pooledMs = Date.now() - started;
    // Assess
    expect(receipts.every((receipt) => receipt.accepted.includes('ops@example.com'))).toBe(true);
    expect(relay.messages).toHaveLength(50);
    expect(counters.connections).toBeLessThanOrEqual(3);
    expect(counters.peakOpen).toBeLessThanOrEqual(3);
    expect(counters.startTls).toBe(counters.connections);
    expect(relay.authAttempts).toHaveLength(counters.connections);

    // The same 50 one connection each, for the record.
    const pooledConnections = counters.connections;
    const single = new SmtpMailer({
      settings: settings.smtp as NonNullable<EmailConfig['smtp']>,
      credentials: { user: `u${relayUser}@contoso.example`, pass: PASSWORD },
    });
    const unpooledStarted = Date.now();
    for (let i = 0; i < 50; i += 3) {
      await Promise.all([i, i + 1, i + 2].filter((n) => n < 50).map((n) => single.send(message(n))));
    }
    const unpooledMs = Date.now() - unpooledStarted;
    process.stdout.write(
      `50 emails, maxConnections 3: pooled ${pooledMs} ms over ${pooledConnections} connections; one connection each (3 at a time) ${unpooledMs} ms over ${counters.connections - pooledConnections} connections\n`,
    );
  });

  it('keeps two processes on one gate within maxConnections together', async () => {
    // Prepare
    const one = factory('process-1');
    const two = factory('process-2');
    const settings = config(
      { maxConnections: 3, messagesPerMinute: 10_000 },
      `u${++relayUser}@contoso.example`,
    );
    // Act
    const sends = Array.from({ length: 40 }, (_, i) =>
      sendPatiently(async () =>
        (await (i % 2 ? one : two).mailers.forConfig(settings, { clusterId: 'c1' })).send(message(i)),
      ),
    );
    const waits = await Promise.all(sends);
    // Assess
    expect(relay.messages).toHaveLength(40);
    expect(counters.peakOpen).toBeLessThanOrEqual(3);
    expect(relay.authAttempts.length).toBe(counters.connections);
    process.stdout.write(
      `two processes, 40 emails: ${counters.connections} connections, peak ${counters.peakOpen} open, ${waits.reduce((a, b) => a + b, 0)} waits\n`,
    );
  });

  it('closes idle connections and gives their slots back', async () => {
    const { mailers, smtpPools } = factory('p1');
    const user = `u${++relayUser}@contoso.example`;
    const settings = config({ maxConnections: 2 }, user);
    await Promise.all(
      [1, 2, 3, 4].map(async (i) =>
        (await mailers.forConfig(settings, { clusterId: 'c1' })).send(message(i)),
      ),
    );
    const identity = relayIdentity({ host: relay.host, port: relay.port }, user);
    expect((await gate.inspect(identity))?.slots.length).toBeGreaterThan(0);

    await waitFor(() => counters.open === 0 && smtpPools.stats().lanes === 0, IDLE_MS * 10);

    // Nothing left to count: the state is gone, or holds no slot.
    expect((await gate.inspect(identity))?.slots ?? []).toEqual([]);
  });

  it('reuses an open connection for the next email', async () => {
    const { mailers } = factory('p1');
    const settings = config({ maxConnections: 3 }, `u${++relayUser}@contoso.example`);
    for (const i of [1, 2, 3, 4, 5])
      await (await mailers.forConfig(settings, { clusterId: 'c1' })).send(message(i));
    expect(counters.connections).toBe(1);
    expect(relay.authAttempts).toHaveLength(1);
  });

  it('keeps refused and deferred recipients apart on a pooled connection', async () => {
    const { mailers } = factory('p1');
    const settings = config({ maxConnections: 1 }, `u${++relayUser}@contoso.example`);
    relay.setHandlers({
      onRcptTo: (address) => (address.startsWith('later') ? '451 4.2.0 Mailbox busy' : undefined),
    });
    const mailer = await mailers.forConfig(settings, { clusterId: 'c1' });
    const receipt = await mailer.send({ ...message(1), to: ['ops@example.com', 'later@example.com'] });
    expect(receipt).toMatchObject({ accepted: ['ops@example.com'], deferred: ['later@example.com'] });
    // The connection is still good for the next one.
    await mailer.send(message(2));
    expect(counters.connections).toBe(1);
  });
});

describe('pacing', () => {
  it('tells a message over messagesPerMinute to wait, naming the limit, before it reaches the relay', async () => {
    const { mailers } = factory('p1');
    const settings = config({ messagesPerMinute: 2 }, `u${++relayUser}@contoso.example`);
    const mailer = await mailers.forConfig(settings, { clusterId: 'c1' });
    await mailer.send(message(1));
    await mailer.send(message(2));

    const refused = await mailer.send(message(3)).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(DeliveryError);
    const { failure } = refused as DeliveryError;
    expect(failure).toMatchObject({ stage: 'connect', transient: true, reason: 'RELAY_LIMIT' });
    expect(failure.waitMs).toBeGreaterThan(50_000);
    expect(failure.message).toMatch(
      /^waiting for the relay's limit \(smtp\.limits: 2 messages per minute\); next try in \d+ s$/,
    );
    expect(relay.messages).toHaveLength(2);
  });

  it.each([
    [
      'MAIL FROM',
      '421 4.4.2 Message submission rate for this client has exceeded the configured limit',
      60_000,
    ],
    ['MAIL FROM', '451 4.7.0 Rate limit exceeded, try again in 90 seconds', 90_000],
  ])('backs the whole relay off on a throttling reply to %s (%s)', async (_when, reply, waitMs) => {
    const one = factory('p1');
    const two = factory('p2');
    const settings = config({ maxConnections: 3 }, `u${++relayUser}@contoso.example`);
    relay.setHandlers({ onMailFrom: () => reply });

    const throttled = await (await one.mailers.forConfig(settings, { clusterId: 'c1' }))
      .send(message(1))
      .catch((error: unknown) => error);
    relay.reset();
    const held = await (await two.mailers.forConfig(settings, { clusterId: 'c1' }))
      .send(message(2))
      .catch((error: unknown) => error);

    expect((throttled as DeliveryError).failure).toMatchObject({ transient: true, waitMs });
    expect((held as DeliveryError).failure).toMatchObject({ reason: 'RELAY_BACK_OFF', transient: true });
    expect((held as DeliveryError).failure.message).toMatch(/asked to slow down \(4\d\d /);
    expect((held as DeliveryError).failure.waitMs).toBeGreaterThan((waitMs ?? 0) - 5_000);
    expect(relay.messages).toHaveLength(0);
  });

  it('does not take a relay outage (421 4.3.2 Service not available) for throttling', async () => {
    const { mailers } = factory('p1');
    const settings = config({ maxConnections: 3 }, `u${++relayUser}@contoso.example`);
    relay.setHandlers({ onMailFrom: () => '421 4.3.2 Service not available' });
    const failed = await (await mailers.forConfig(settings, { clusterId: 'c1' }))
      .send(message(1))
      .catch((error: unknown) => error);
    expect((failed as DeliveryError).failure).toMatchObject({ code: 421, transient: true });
    expect((failed as DeliveryError).failure.waitMs).toBeUndefined();
  });
});

describe('the test email', () => {
  it('goes over a connection of its own and shows the whole dialogue', async () => {
    const { mailers, smtpPools } = factory('p1');
    const settings = config({ maxConnections: 3 }, `u${++relayUser}@contoso.example`);
    const mailer = await mailers.forConfig(settings, { clusterId: 'c1', purpose: 'test-email' });

    const receipt = await mailer.send(message(1));

    expect(receipt.transcript).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^S: 220 /),
        expect.stringMatching(/^C: EHLO /),
        expect.stringMatching(/^C: STARTTLS/),
        expect.stringMatching(/^C: AUTH PLAIN/),
      ]),
    );
    expect(smtpPools.stats().lanesOpened).toBe(0);
  });
});
