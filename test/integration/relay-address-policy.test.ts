// No SSRF through the relay host: the SMTP adapter resolves the host itself, judges every
// address, and connects to a judged one. Against a real smtp-server on loopback, with the
// resolver injected (a name that resolves to the metadata address), in the embedded runtime's
// policy and in the Lambdas' (the deployment's allowance), for the test email and for pooled
// notifications.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteRelayGate } from '../../functions/adapters/local/sqlite-relay-gate.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import type { RelayLookup } from '../../functions/adapters/smtp/relay-resolver.js';
import { SmtpPools } from '../../functions/adapters/smtp/smtp-pool.js';
import { type EmailConfig, EmailConfigSchema } from '../../functions/core/config/email-config.js';
import type { StoredEmailConfig } from '../../functions/core/config/stored-config.js';
import { DeliveryError, type OutgoingMessage } from '../../functions/core/mail/mailer.js';
import {
  deployedRelayPolicy,
  parseAllowedRelayCidrs,
  parseAllowedRelayHosts,
  RELAY_ADDRESS_NOT_ALLOWED,
  RELAY_ADDRESS_REFUSED,
  type RelayAddressPolicy,
} from '../../functions/core/mail/relay-address-policy.js';
import { sendTestEmail } from '../../functions/core/mail/test-email.js';
import type { Log } from '../../functions/core/ports.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Log;
const unusedSes = () => {
  throw new Error('no SES here');
};
const timeouts = { connectionMs: 2000, greetingMs: 1000, socketMs: 3000, dnsMs: 1000 };

let plain: SmtpTestServer;
let wrongHost: SmtpTestServer;
let connections = 0;
let directory: string;
let database: SqliteDatabase;
let gate: SqliteRelayGate;
const pools: SmtpPools[] = [];

beforeAll(async () => {
  [plain, wrongHost] = await Promise.all([
    startSmtpTestServer({
      mode: 'plain',
      serverOptions: {
        onConnect(_session, callback) {
          connections++;
          callback();
        },
      },
    }),
    // Its certificate names mail.example.test only: a send verifies it only by that name.
    startSmtpTestServer({ mode: 'tls', certificate: 'wrong-host' }),
  ]);
  directory = await mkdtemp(join(tmpdir(), 'relay-policy-'));
  database = await SqliteDatabase.open({ directory });
  gate = new SqliteRelayGate(database);
});

afterAll(async () => {
  await Promise.all([plain?.close(), wrongHost?.close()]);
  database?.close();
  await rm(directory, { recursive: true, force: true });
});

let socketConnects: ReturnType<typeof jest.spyOn>;
beforeEach(() => {
  connections = 0;
  // Every TCP connection (plain or TLS) starts with net.Socket#connect.
  socketConnects = jest.spyOn(net.Socket.prototype, 'connect');
});

afterEach(async () => {
  socketConnects.mockRestore();
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  plain.reset();
  wrongHost.reset();
});

/** A resolver that answers from a table and records what it was asked. */
function stubLookup(table: Record<string, string[]>): RelayLookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = async (host: string) => {
    asked.push(host);
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: net.isIP(address) }));
  };
  return Object.assign(lookup, { asked });
}

function stored(smtp: Record<string, unknown>): StoredEmailConfig {
  // The stored document's schema (not PUT's): what the relay policy must hold against even when
  // the save-time check was bypassed (an old document, a hand-edited store).
  const config: EmailConfig = EmailConfigSchema.parse({
    sender: 'notifier@example.com',
    adminContacts: 'ops@example.com',
    smtp: { port: 587, encryption: 'none', verifyCertificate: false, ...smtp },
  });
  return { clusterId: 'cluster-a', config, updatedAt: '2026-01-01T00:00:00.000Z' } as StoredEmailConfig;
}

function testEmail(
  config: StoredEmailConfig,
  options: { relayAddresses?: RelayAddressPolicy; relayLookup?: RelayLookup } = {},
) {
  const mailers = new TransportMailerFactory({ ses: unusedSes, smtpTimeouts: timeouts, ...options });
  return sendTestEmail({ mailers, clock: () => new Date(), log: silent }, config);
}

function allowance(cidrs: string, hosts = ''): RelayAddressPolicy {
  const c = parseAllowedRelayCidrs(cidrs);
  const h = parseAllowedRelayHosts(hosts);
  if (!('cidrs' in c) || !('hosts' in h)) throw new Error('bad allowance');
  return deployedRelayPolicy({ cidrs: c.cidrs, hosts: h.hosts });
}

describe('the test email never connects to a refused relay address', () => {
  test('169.254.169.254 is refused at stage connect, without a lookup or a socket', async () => {
    // Prepare
    const lookup = stubLookup({});

    // Act
    const result = await testEmail(stored({ host: '169.254.169.254', port: 80 }), { relayLookup: lookup });

    // Assess
    expect(result).toMatchObject({ ok: false, stage: 'connect', transient: false });
    expect(result.message).toBe(
      'Not connecting to the relay 169.254.169.254:80: 169.254.169.254 is the instance metadata service, which is never connected to',
    );
    expect(result.hint).toMatch(/never SMTP relays.*allowedRelayCidrs, allowedRelayHosts/);
    expect(result.transcript).toBeUndefined();
    expect(lookup.asked).toEqual([]);
    expect(socketConnects).not.toHaveBeenCalled();
  });

  test.each(['::ffff:169.254.169.254', 'fd00:ec2::254', 'fe80::1', '0.0.0.0', '224.0.0.1'])(
    '%s is refused the same way',
    async (host) => {
      const result = await testEmail(stored({ host }));
      expect(result).toMatchObject({ ok: false, stage: 'connect', transient: false });
      expect(result.message).toMatch(/never connected to/);
      expect(socketConnects).not.toHaveBeenCalled();
    },
  );

  test('a name that resolves to the metadata address is refused, naming the name and the address', async () => {
    // Prepare
    const lookup = stubLookup({ 'rebind.example': ['169.254.169.254'] });

    // Act
    const result = await testEmail(stored({ host: 'rebind.example' }), { relayLookup: lookup });

    // Assess
    expect(result).toMatchObject({ ok: false, stage: 'connect', transient: false });
    expect(result.message).toBe(
      'Not connecting to the relay rebind.example:587 (it resolves to 169.254.169.254): 169.254.169.254 is the instance metadata service, which is never connected to',
    );
    expect(result.transcript).toBeUndefined();
    expect(lookup.asked).toEqual(['rebind.example']);
    expect(socketConnects).not.toHaveBeenCalled();
  });

  test('a name with one refused address among public ones is refused as a whole', async () => {
    const lookup = stubLookup({ 'mixed.example': ['203.0.113.25', '::ffff:169.254.169.254'] });
    const result = await testEmail(stored({ host: 'mixed.example' }), { relayLookup: lookup });
    expect(result).toMatchObject({ ok: false, stage: 'connect' });
    expect(result.message).toMatch(
      /resolves to ::ffff:a9fe:a9fe\).*metadata service, as an IPv4 address inside IPv6/,
    );
    expect(socketConnects).not.toHaveBeenCalled();
  });

  test('a name that does not resolve fails at stage dns', async () => {
    const result = await testEmail(stored({ host: 'nowhere.example' }), { relayLookup: stubLookup({}) });
    expect(result).toMatchObject({ ok: false, stage: 'dns', transient: false });
    expect(result.hint).toMatch(/does not exist in DNS/);
    expect(socketConnects).not.toHaveBeenCalled();
  });
});

describe('loopback and private relays', () => {
  test('the embedded runtime sends to a 127.0.0.1 relay', async () => {
    // Act
    const result = await testEmail(stored({ host: plain.host, port: plain.port }));

    // Assess
    expect(result).toMatchObject({ ok: true, destination: `smtp://127.0.0.1:${plain.port}` });
    expect(await plain.waitForMessages(1)).toHaveLength(1);
    // The spy the refusals rely on does see a connection
    expect(socketConnects).toHaveBeenCalled();
  });

  test('in AWS without an allowance, 127.0.0.1 is refused before connecting, with the hint to allow it', async () => {
    // Act
    const result = await testEmail(stored({ host: plain.host, port: plain.port }), {
      relayAddresses: deployedRelayPolicy(),
    });

    // Assess
    expect(result).toMatchObject({ ok: false, stage: 'connect', transient: false });
    expect(result.message).toBe(
      `Not connecting to the relay 127.0.0.1:${plain.port}: 127.0.0.1 is loopback (127.0.0.0/8), which this deployment does not allow relays in`,
    );
    expect(result.hint).toMatch(/-c allowedRelayCidrs=.*-c allowedRelayHosts=/);
    expect(result.transcript).toBeUndefined();
    expect(connections).toBe(0);
    expect(socketConnects).not.toHaveBeenCalled();
  });

  test('in AWS, allowedRelayCidrs allows the relay', async () => {
    // Act
    const result = await testEmail(stored({ host: plain.host, port: plain.port }), {
      relayAddresses: allowance('10.0.0.0/8,127.0.0.0/8'),
    });

    // Assess
    expect(result.ok).toBe(true);
    expect(connections).toBe(1);
  });

  test('in AWS, allowedRelayHosts allows a name with private addresses, and no other name', async () => {
    // Prepare
    const lookup = stubLookup({ 'relay.corp.example': ['127.0.0.1'], 'other.corp.example': ['127.0.0.1'] });
    const policy = allowance('', 'relay.corp.example');

    // Act
    const allowed = await testEmail(stored({ host: 'relay.corp.example', port: plain.port }), {
      relayAddresses: policy,
      relayLookup: lookup,
    });
    const refused = await testEmail(stored({ host: 'other.corp.example', port: plain.port }), {
      relayAddresses: policy,
      relayLookup: lookup,
    });

    // Assess
    expect(allowed).toMatchObject({ ok: true, destination: `smtp://relay.corp.example:${plain.port}` });
    expect(allowed.transcript?.[0]).toBe(
      '* Resolved relay.corp.example to 127.0.0.1; connecting to 127.0.0.1',
    );
    expect(refused).toMatchObject({ ok: false, stage: 'connect' });
    expect(refused.message).toMatch(/other\.corp\.example.*resolves to 127\.0\.0\.1.*loopback/);
    expect(connections).toBe(1);
  });

  test('a resolved name stays the TLS server name: the certificate is verified by the name', async () => {
    // Prepare: the certificate names mail.example.test only, not 127.0.0.1
    const lookup = stubLookup({ 'mail.example.test': ['127.0.0.1'] });
    const mailers = new TransportMailerFactory({
      ses: unusedSes,
      smtpTimeouts: timeouts,
      relayLookup: lookup,
    });
    const config = stored({
      host: 'mail.example.test',
      port: wrongHost.port,
      encryption: 'tls',
      verifyCertificate: true,
    }).config;
    const mailer = await mailers.forConfig(config, { clusterId: 'cluster-a', purpose: 'test-email' });
    // The test server's own certificate is trusted through the mailer's CA option, which the
    // factory does not expose: so this send goes through a mailer built like the factory's.
    const { SmtpMailer } = await import('../../functions/adapters/smtp/smtp-mailer.js');
    const verifying = new SmtpMailer({
      settings: config.smtp as NonNullable<EmailConfig['smtp']>,
      timeouts,
      lookup,
      ca: [wrongHost.cert],
    });
    const message: OutgoingMessage = {
      from: 'notifier@example.com',
      to: ['ops@example.com'],
      subject: 'TLS by name',
      text: 'hello',
    };

    // Act
    const receipt = await verifying.send(message);
    const untrusted = await mailer.send(message).catch((error: unknown) => error);

    // Assess: by the name, the certificate verifies; the address is what was connected to
    expect(receipt.accepted).toEqual(['ops@example.com']);
    expect(receipt.transcript?.[0]).toBe(
      '* Resolved mail.example.test to 127.0.0.1; connecting to 127.0.0.1',
    );
    expect((await wrongHost.waitForMessages(1))[0]?.subject).toBe('TLS by name');
    // Without the CA, the same send fails at TLS (the certificate is checked, not skipped)
    expect(untrusted).toBeInstanceOf(DeliveryError);
    expect((untrusted as DeliveryError).failure.stage).toBe('tls');
  });
});

describe('pooled notifications', () => {
  function pooledFactory(options: { relayAddresses?: RelayAddressPolicy; relayLookup?: RelayLookup }) {
    const smtpPools = new SmtpPools({ gate, holder: 'test', idleMs: 300 });
    pools.push(smtpPools);
    return new TransportMailerFactory({
      ses: unusedSes,
      relayGate: gate,
      smtpPools,
      smtpTimeouts: timeouts,
      ...options,
    });
  }
  const notification: OutgoingMessage = {
    from: 'notifier@example.com',
    to: ['ops@example.com'],
    subject: 'Alert',
    text: 'Condition',
  };

  test('a name that resolves to the metadata address is refused for good, and its connection slot given back', async () => {
    // Prepare
    const lookup = stubLookup({ 'rebind.example': ['169.254.169.254'] });
    const mailers = pooledFactory({ relayLookup: lookup });
    const config = stored({ host: 'rebind.example', limits: { maxConnections: 1 } }).config;

    // Act: twice, so a slot not given back would leave the second waiting for the relay's limit
    const failures = [];
    for (let i = 0; i < 2; i++) {
      const mailer = await mailers.forConfig(config, { clusterId: 'cluster-a' });
      failures.push(await mailer.send(notification).catch((error: unknown) => error));
    }

    // Assess
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(DeliveryError);
      expect((failure as DeliveryError).failure).toMatchObject({
        stage: 'connect',
        transient: false,
        reason: RELAY_ADDRESS_REFUSED,
      });
    }
    expect(socketConnects).not.toHaveBeenCalled();
  });

  test('in AWS, a pooled send to 127.0.0.1 is refused without the allowance and delivered with it', async () => {
    // Prepare
    const config = stored({ host: plain.host, port: plain.port }).config;
    const refusing = await pooledFactory({ relayAddresses: deployedRelayPolicy() }).forConfig(config, {
      clusterId: 'cluster-a',
    });
    const allowing = await pooledFactory({ relayAddresses: allowance('127.0.0.1/32') }).forConfig(config, {
      clusterId: 'cluster-a',
    });

    // Act
    const refused = await refusing.send(notification).catch((error: unknown) => error);
    const receipt = await allowing.send(notification);

    // Assess
    expect((refused as DeliveryError).failure).toMatchObject({
      stage: 'connect',
      transient: false,
      reason: RELAY_ADDRESS_NOT_ALLOWED,
    });
    expect(receipt.accepted).toEqual(['ops@example.com']);
    expect(connections).toBe(1);
  });
});
