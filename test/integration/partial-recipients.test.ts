// A relay that refuses some recipients: 451 (for now) for one, 550 (for good) for another. The
// email reaches the rest at once; the 451 recipient, and only that one, gets it on the retry.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { loadSample } from '../../events/samples.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import type { ConfigStore } from '../../functions/core/config/config-store.js';
import { EmailConfigSchema } from '../../functions/core/config/email-config.js';
import { NotifyService, RetryableNotifyError } from '../../functions/core/notify/notify-service.js';
import { createLogger } from '../../functions/shared/logger.js';
import { storedConfig } from '../support/config-fixtures.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';
import { type OpenLedger, openSqliteLedger } from '../support/sqlite-ledger.js';

const CLUSTER = 'partial';
let relay: SmtpTestServer;
let directory: string;
let open: OpenLedger;
// A minute after the sample event's own time.
let now = new Date('2026-11-28T03:10:00.000Z');
let laterRefusal = true;

beforeAll(async () => {
  relay = await startSmtpTestServer({
    mode: 'plain',
    onRcptTo: (address) =>
      address === 'later@example.com' && laterRefusal
        ? '451 4.2.2 Mailbox over quota, try again later'
        : address === 'never@example.com'
          ? '550 5.1.1 No such user'
          : undefined,
  });
  directory = await mkdtemp(join(tmpdir(), 'partial-'));
  open = await openSqliteLedger(directory, () => now);
});

afterAll(async () => {
  await open?.close();
  await relay?.close();
  await rm(directory, { recursive: true, force: true });
});

/** The notify service for one cluster whose three contacts meet the relay's refusals. */
function notifyFor(
  cluster: string,
  grouping: { waitSeconds: number; intervalMinutes?: number },
): NotifyService {
  const config = EmailConfigSchema.parse({
    sender: 'appliance@example.com',
    smtp: { host: relay.host, port: relay.port, encryption: 'none' },
    adminContacts: 'ops@example.com later@example.com never@example.com',
    grouping,
  });
  const store: ConfigStore = {
    get: async () => storedConfig(cluster, config),
    put: async () => undefined,
    listClusterIds: async () => [cluster],
    delete: async () => false,
  };
  return new NotifyService({
    store,
    mailers: new TransportMailerFactory({ ses: () => Promise.reject(new Error('unused')) }),
    ledger: open.ledger,
    clock: () => now,
    log: createLogger({ logLevel: 'CRITICAL' as 'ERROR' }),
  });
}

it('delivers to the others, retries the 451 recipient only, records the 550 one as refused', async () => {
  // Prepare
  // One email per event: what this test is about (group emails have the next one).
  const service = notifyFor(CLUSTER, { waitSeconds: 0 });
  const sample = loadSample('backup-promoted');
  const event = { ...sample, id: 'partial-1', detail: { ...sample.detail, clusterId: CLUSTER } };

  // Act
  const first = service.handle(event, { attempt: 1 });
  await expect(first).rejects.toBeInstanceOf(RetryableNotifyError);
  const [partial] = await open.ledger.list(CLUSTER, { limit: 5 });
  laterRefusal = false;
  now = new Date(now.getTime() + 60_000);
  const retry = await service.handle(event, { attempt: 2 });
  const [final] = await open.ledger.list(CLUSTER, { limit: 5 });

  // Assess: two transmissions, the second to the pending recipient alone.
  expect(relay.messages.map((m) => [...m.rcptTo].sort())).toEqual([
    ['ops@example.com'],
    ['later@example.com'],
  ]);
  expect(partial).toMatchObject({
    outcome: 'sent',
    transient: true,
    recipients: ['ops@example.com'],
    pendingRecipients: ['later@example.com'],
    refusedRecipients: ['never@example.com'],
  });
  expect(partial?.reason).toMatch(
    /^partial: delivered to ops@example.com; refused for now: later@example.com \(temporary failure, attempt 1 of/,
  );
  expect(retry.outcome).toBe('sent');
  expect(final).toMatchObject({
    outcome: 'sent',
    recipients: ['ops@example.com', 'later@example.com'],
    refusedRecipients: ['never@example.com'],
  });
  expect(final?.pendingRecipients).toBeUndefined();
  expect(final?.reason).toMatch(
    /^partial: delivered to ops@example.com, later@example.com; refused for good by the relay: never@example.com/,
  );
});

it('a group email: every member reads partial, and one member retries the group email for the 451 recipient only', async () => {
  // Prepare
  relay.reset();
  laterRefusal = true;
  const cluster = 'partial-group';
  const service = notifyFor(cluster, { waitSeconds: 30, intervalMinutes: 5 });
  const members = ['g-1', 'g-2'].map((id, n) => {
    const sample = loadSample('data-sync-stale');
    return {
      ...sample,
      id,
      detail: {
        ...sample.detail,
        clusterId: cluster,
        appliance: { ...sample.detail.appliance, hostname: `g-${n}.example.com` },
      },
    };
  });
  const start = now;
  for (const m of members) await expect(service.handle(m)).rejects.toMatchObject({ wait: true });

  // Act: due; the first member sends, partially; then the relay takes the 451 recipient.
  now = new Date(start.getTime() + 31_000);
  await expect(service.handle(members[0])).rejects.toMatchObject({ wait: false });
  const partial = await open.ledger.list(cluster, { limit: 5 });
  const second = await service.handle(members[1]);
  laterRefusal = false;
  now = new Date(start.getTime() + 120_000);
  const retry = await service.handle(members[0]);
  const final = await open.ledger.list(cluster, { limit: 5 });

  // Assess: two transmissions of one group email, the second to the pending recipient alone.
  expect(relay.messages.map((m) => [...m.rcptTo].sort())).toEqual([
    ['ops@example.com'],
    ['later@example.com'],
  ]);
  expect(new Set(relay.messages.map((m) => m.headers['x-appliance-notifier-group'])).size).toBe(1);
  expect(partial.map((r) => [r.outcome, r.pendingRecipients])).toEqual([
    ['sent', ['later@example.com']],
    ['sent', ['later@example.com']],
  ]);
  expect(second.outcome).toBe('duplicate');
  expect(retry.outcome).toBe('sent');
  for (const record of final) {
    expect(record).toMatchObject({
      outcome: 'sent',
      recipients: ['ops@example.com', 'later@example.com'],
      refusedRecipients: ['never@example.com'],
    });
    expect(record.pendingRecipients).toBeUndefined();
  }
});
