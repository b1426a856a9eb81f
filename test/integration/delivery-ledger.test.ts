import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { loadSample } from '../../events/samples.js';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger.js';
import { LEDGER_TABLE_KEYS } from '../../functions/adapters/aws/resource-names.js';
import { FileLedger, JOURNAL_FILE_NAME } from '../../functions/adapters/local/file-ledger.js';
import type { DeliveryLedger, DeliveryRecord, Outcome } from '../../functions/core/notify/delivery-ledger.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';

/** Both adapters offer `listFailed` besides the port, for the replay of failed events. */
type LedgerUnderTest = DeliveryLedger & {
  listFailed(options?: { clusterId?: string; limit?: number }): Promise<DeliveryRecord[]>;
};

const T0 = new Date('2026-11-28T02:14:08.000Z');
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const LEASE_MS = 5 * MINUTE;
const WINDOW_MS = 30 * MINUTE;
const KEY = 'eu-prod-1#version-mismatch#pra-primary-01.example.com';

function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs);
}

const sample = loadSample('version-mismatch');
// Events that name no cluster belong to `default`.
const CLUSTER = sample.detail.clusterId ?? 'default';

/** The record of the sample event, as the notify function would write it. */
function recordOf(overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    clusterId: CLUSTER,
    eventId: sample.id,
    condition: 'version-mismatch',
    outcome: 'sent',
    recipients: ['ops@example.com', 'oncall@example.com'],
    messageId: '<0102019a-example@eu-central-1.amazonses.com>',
    at: T0.toISOString(),
    eventTime: sample.time,
    appliance: sample.detail.appliance.hostname,
    ...overrides,
  };
}

let dynalite: Dynalite;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dynalite = await startDynalite();
});

afterAll(async () => {
  await dynalite.close();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function temporaryDirectory(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'delivery-ledger-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  return join(root, 'data', 'ledger');
}

async function openFileLedger(directory: string, clock: () => Date = () => T0): Promise<FileLedger> {
  const ledger = await FileLedger.open({ directory, clock });
  cleanups.push(() => ledger.close());
  return ledger;
}

const adapters: [string, () => Promise<LedgerUnderTest>][] = [
  [
    'DynamoDbLedger',
    async () => new DynamoDbLedger({ client: dynalite.client, tableName: await dynalite.createTable() }),
  ],
  ['FileLedger', async () => openFileLedger(await temporaryDirectory())],
];

describe.each(adapters)('%s (the DeliveryLedger contract)', (_name, createLedger) => {
  let ledger: LedgerUnderTest;

  beforeEach(async () => {
    ledger = await createLedger();
  });

  describe('event claims', () => {
    it('claims a new event; a second claim while the lease is live is in-progress', async () => {
      // Prepare
      const first = await ledger.claimEvent('evt-1', T0, LEASE_MS);

      // Act
      const second = await ledger.claimEvent('evt-1', at(LEASE_MS), LEASE_MS);

      // Assess
      expect(first).toEqual({ status: 'claimed' });
      expect(second).toEqual({ status: 'in-progress' });
    });

    it.each<Outcome>(['sent', 'folded', 'rejected'])(
      'a redelivery of an event that finished %s is a duplicate with that outcome',
      async (outcome) => {
        // Prepare
        await ledger.claimEvent('evt-1', T0, LEASE_MS);
        await ledger.finishEvent('evt-1', outcome, at(1000));

        // Act
        const again = await ledger.claimEvent('evt-1', at(2000), LEASE_MS);
        // Long after the lease: a finished event never becomes claimable by a lease running out.
        const later = await ledger.claimEvent('evt-1', at(2 * DAY), LEASE_MS);

        // Assess
        expect(again).toEqual({ status: 'duplicate', outcome });
        expect(later).toEqual({ status: 'duplicate', outcome });
      },
    );

    it('an event that finished failed may be claimed again, and is a duplicate once sent', async () => {
      // Prepare
      await ledger.claimEvent('evt-1', T0, LEASE_MS);
      await ledger.finishEvent('evt-1', 'failed', at(1000));

      // Act
      const retry = await ledger.claimEvent('evt-1', at(2000), LEASE_MS);
      const whileRetrying = await ledger.claimEvent('evt-1', at(3000), LEASE_MS);
      await ledger.finishEvent('evt-1', 'sent', at(4000));
      const afterSuccess = await ledger.claimEvent('evt-1', at(5000), LEASE_MS);

      // Assess
      expect(retry).toEqual({ status: 'claimed' });
      expect(whileRetrying).toEqual({ status: 'in-progress' });
      expect(afterSuccess).toEqual({ status: 'duplicate', outcome: 'sent' });
    });

    it('an expired lease can be taken over, once', async () => {
      // Prepare
      await ledger.claimEvent('evt-1', T0, LEASE_MS);

      // Act
      const atExpiry = await ledger.claimEvent('evt-1', at(LEASE_MS), LEASE_MS);
      const takeover = await ledger.claimEvent('evt-1', at(LEASE_MS + 1), LEASE_MS);
      const secondTakeover = await ledger.claimEvent('evt-1', at(LEASE_MS + 2), LEASE_MS);

      // Assess
      expect(atExpiry).toEqual({ status: 'in-progress' });
      expect(takeover).toEqual({ status: 'claimed' });
      expect(secondTakeover).toEqual({ status: 'in-progress' });
    });

    it('release lets the next claim in, but does not reopen a finished event', async () => {
      // Prepare
      await ledger.claimEvent('evt-1', T0, LEASE_MS);
      await ledger.claimEvent('evt-2', T0, LEASE_MS);
      await ledger.finishEvent('evt-2', 'sent', at(1000));

      // Act
      await ledger.releaseEvent('evt-1');
      await ledger.releaseEvent('evt-2');
      await ledger.releaseEvent('never-claimed');
      const retry = await ledger.claimEvent('evt-1', at(2000), LEASE_MS);
      const duplicate = await ledger.claimEvent('evt-2', at(2000), LEASE_MS);

      // Assess
      expect(retry).toEqual({ status: 'claimed' });
      expect(duplicate).toEqual({ status: 'duplicate', outcome: 'sent' });
    });

    it('forgets a finished event after the claim TTL (7 days)', async () => {
      // Prepare
      await ledger.claimEvent('evt-1', T0, LEASE_MS);
      await ledger.finishEvent('evt-1', 'sent', T0);

      // Act
      const within = await ledger.claimEvent('evt-1', at(6 * DAY), LEASE_MS);
      const after = await ledger.claimEvent('evt-1', at(8 * DAY), LEASE_MS);

      // Assess
      expect(within).toEqual({ status: 'duplicate', outcome: 'sent' });
      expect(after).toEqual({ status: 'claimed' });
    });

    it('keeps the claims of different events apart', async () => {
      // Prepare
      await ledger.claimEvent('evt-1', T0, LEASE_MS);
      await ledger.finishEvent('evt-1', 'rejected', T0);

      // Act
      const other = await ledger.claimEvent('evt-2', T0, LEASE_MS);

      // Assess
      expect(other).toEqual({ status: 'claimed' });
    });

    it('gives exactly one of 20 concurrent claims of one event', async () => {
      // Act
      const results = await Promise.all(
        Array.from({ length: 20 }, () => ledger.claimEvent('evt-1', T0, LEASE_MS)),
      );

      // Assess
      expect(results.filter((r) => r.status === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'in-progress')).toHaveLength(19);
    });
  });

  describe('folding', () => {
    it('sends the first event, folds the next 49 in the window, and reports them with the next email', async () => {
      // Act: evt-0's email goes out (confirmed), its repeats fold for the whole window.
      const first = await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      await ledger.confirmFold(KEY, 'evt-0');
      const folds = [];
      for (let n = 1; n <= 49; n++) {
        folds.push(await ledger.decideFold(KEY, `evt-${n}`, at(n * 10_000), WINDOW_MS, LEASE_MS));
      }
      const next = await ledger.decideFold(KEY, 'evt-50', at(WINDOW_MS + 1), WINDOW_MS, LEASE_MS);

      // Assess
      expect(first).toEqual({ send: true });
      folds.forEach((decision, index) => {
        expect(decision).toEqual({
          send: false,
          state: {
            lastSentAt: T0.toISOString(),
            lastSentEventId: 'evt-0',
            foldedCount: index + 1,
            firstFoldedAt: at(10_000).toISOString(),
          },
        });
      });
      expect(next).toEqual({
        send: true,
        previous: {
          lastSentAt: T0.toISOString(),
          lastSentEventId: 'evt-0',
          foldedCount: 49,
          firstFoldedAt: at(10_000).toISOString(),
        },
      });
    });

    it('starts counting afresh after an email', async () => {
      // Prepare
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      await ledger.decideFold(KEY, 'evt-1', at(1000), WINDOW_MS, LEASE_MS);
      await ledger.decideFold(KEY, 'evt-2', at(WINDOW_MS), WINDOW_MS, LEASE_MS);

      // Act
      const fold = await ledger.decideFold(KEY, 'evt-3', at(WINDOW_MS + 5000), WINDOW_MS, LEASE_MS);

      // Assess
      expect(fold).toEqual({
        send: false,
        state: {
          lastSentAt: at(WINDOW_MS).toISOString(),
          lastSentEventId: 'evt-2',
          foldedCount: 1,
          firstFoldedAt: at(WINDOW_MS + 5000).toISOString(),
        },
      });
    });

    it('sends at exactly one window after the last email, and folds a millisecond before', async () => {
      // Prepare
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      await ledger.confirmFold(KEY, 'evt-0');

      // Act
      const before = await ledger.decideFold(KEY, 'evt-1', at(WINDOW_MS - 1), WINDOW_MS, LEASE_MS);
      const onTheDot = await ledger.decideFold(KEY, 'evt-2', at(WINDOW_MS), WINDOW_MS, LEASE_MS);

      // Assess
      expect(before.send).toBe(false);
      expect(onTheDot.send).toBe(true);
    });

    it('undo restores the state from before the decision, so the retry sends with the same report', async () => {
      // Prepare
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      await ledger.confirmFold(KEY, 'evt-0');
      await ledger.decideFold(KEY, 'evt-1', at(1000), WINDOW_MS, LEASE_MS);
      const decision = await ledger.decideFold(KEY, 'evt-2', at(WINDOW_MS + 1), WINDOW_MS, LEASE_MS);
      if (!decision.send) throw new Error('expected evt-2 to be sent');

      // Act
      await ledger.undoFold(KEY, 'evt-2');
      const retry = await ledger.decideFold(KEY, 'evt-2', at(WINDOW_MS + 60_000), WINDOW_MS, LEASE_MS);

      // Assess
      expect(decision.previous).toEqual({
        lastSentAt: T0.toISOString(),
        lastSentEventId: 'evt-0',
        foldedCount: 1,
        firstFoldedAt: at(1000).toISOString(),
      });
      expect(retry).toEqual(decision);
    });

    it('undo of the first email of a key lets the retry send as the first again', async () => {
      // Prepare
      const decision = await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);

      // Act
      await ledger.undoFold(KEY, 'evt-0');
      const retry = await ledger.decideFold(KEY, 'evt-0', at(1000), WINDOW_MS, LEASE_MS);

      // Assess
      expect(decision).toEqual({ send: true });
      expect(retry).toEqual({ send: true });
    });

    it('undo by an event that does not hold the slot changes nothing', async () => {
      // Prepare
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      await ledger.decideFold(KEY, 'evt-1', at(1000), WINDOW_MS, LEASE_MS);

      // Act
      await ledger.undoFold(KEY, 'evt-1');
      const next = await ledger.decideFold(KEY, 'evt-2', at(2000), WINDOW_MS, LEASE_MS);

      // Assess
      expect(next).toEqual({
        send: false,
        state: {
          lastSentAt: T0.toISOString(),
          lastSentEventId: 'evt-0',
          foldedCount: 2,
          firstFoldedAt: at(1000).toISOString(),
        },
      });
    });

    it('sends exactly one of 20 concurrent decisions for one key and counts the other 19', async () => {
      // Act
      const decisions = await Promise.all(
        Array.from({ length: 20 }, (_, n) => ledger.decideFold(KEY, `evt-${n}`, at(n), WINDOW_MS, LEASE_MS)),
      );

      // Assess
      expect(decisions.filter((d) => d.send)).toHaveLength(1);
      const counts = decisions.flatMap((d) => (d.send ? [] : [d.state.foldedCount]));
      expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 19 }, (_, n) => n + 1));
    });

    it('folds each key on its own', async () => {
      // Prepare
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);

      // Act
      const otherAppliance = await ledger.decideFold(
        'eu-prod-1#version-mismatch#pra-backup-01.example.com',
        'evt-1',
        at(1000),
        WINDOW_MS,
        LEASE_MS,
      );

      // Assess
      expect(otherAppliance).toEqual({ send: true });
    });
  });

  describe('folding: a slot belongs to its event until its send is confirmed', () => {
    it('a redelivery of the owner sends again, with the same report, and is never its own repeat', async () => {
      // Prepare: evt-0 took the slot and crashed during its send (never confirmed).
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);

      // Act
      const redelivery = await ledger.decideFold(KEY, 'evt-0', at(1000), WINDOW_MS, LEASE_MS);
      const later = await ledger.decideFold(KEY, 'evt-0', at(LEASE_MS + 1000), WINDOW_MS, LEASE_MS);

      // Assess
      expect(redelivery).toEqual({ send: true });
      expect(later).toEqual({ send: true });
    });

    it("folds repeats into a pending send only during its owner's lease, then the next event is emailed", async () => {
      // Prepare
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      const during = await ledger.decideFold(KEY, 'evt-1', at(1000), WINDOW_MS, LEASE_MS);

      // Act: the owner's lease passes without a confirmation (it crashed and was not retried yet).
      const after = await ledger.decideFold(KEY, 'evt-2', at(LEASE_MS + 1), WINDOW_MS, LEASE_MS);
      const ownerBack = await ledger.decideFold(KEY, 'evt-0', at(LEASE_MS + 2), WINDOW_MS, LEASE_MS);

      // Assess: evt-2 reports what was never emailed (evt-0 and its one repeat); the old owner
      // is now a repeat of evt-2's email.
      expect(during.send).toBe(false);
      expect(after).toEqual({
        send: true,
        previous: {
          lastSentAt: T0.toISOString(),
          lastSentEventId: 'evt-0',
          foldedCount: 2,
          firstFoldedAt: T0.toISOString(),
        },
      });
      expect(ownerBack).toMatchObject({ send: false, state: { lastSentEventId: 'evt-2', foldedCount: 1 } });
    });

    it('a confirmed send folds repeats for its whole window', async () => {
      // Prepare
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      await ledger.confirmFold(KEY, 'evt-0');

      // Act
      const repeat = await ledger.decideFold(KEY, 'evt-1', at(LEASE_MS + 1), WINDOW_MS, LEASE_MS);
      const ownerAgain = await ledger.decideFold(KEY, 'evt-0', at(LEASE_MS + 2), WINDOW_MS, LEASE_MS);

      // Assess: a redelivery of the owner means its outcome was never committed: it is sent again
      // (the one case that can email twice), and the slot keeps counting.
      expect(repeat).toMatchObject({ send: false, state: { lastSentEventId: 'evt-0', foldedCount: 1 } });
      expect(ownerAgain).toEqual({ send: true });
      expect(await ledger.decideFold(KEY, 'evt-3', at(LEASE_MS + 3), WINDOW_MS, LEASE_MS)).toMatchObject({
        send: false,
        state: { foldedCount: 2 },
      });
    });

    it('a confirmation by an event that does not own the slot changes nothing', async () => {
      // Prepare
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);

      // Act
      await ledger.confirmFold(KEY, 'evt-1');
      const after = await ledger.decideFold(KEY, 'evt-2', at(LEASE_MS + 1), WINDOW_MS, LEASE_MS);

      // Assess: still unconfirmed, so the lease's end frees the slot.
      expect(after.send).toBe(true);
    });
  });

  describe('delivery records', () => {
    it.each(['sent', 'failed', 'folded'] as const)(
      'never lets a rejected redelivery overwrite a %s record of the same event',
      async (outcome) => {
        // Prepare
        await ledger.record(recordOf({ eventId: 'evt-same', outcome }));

        // Act
        await ledger.record(recordOf({ eventId: 'evt-same', outcome: 'rejected', reason: 'bad detail' }));

        // Assess
        const records = await ledger.list(CLUSTER, { limit: 10 });
        expect(records.filter((r) => r.eventId === 'evt-same').map((r) => r.outcome)).toEqual([outcome]);
      },
    );

    it('replaces the record of the same (cluster, event time, event id)', async () => {
      // Prepare
      await ledger.record(
        recordOf({
          outcome: 'failed',
          reason: 'Connection refused by smtp.example.com:587',
          transient: true,
        }),
      );
      const retried = recordOf({ outcome: 'sent', at: at(MINUTE).toISOString() });

      // Act
      await ledger.record(retried);
      const records = await ledger.list(CLUSTER, { limit: 10 });

      // Assess
      expect(records).toEqual([retried]);
    });

    it('lists newest event first within the cluster, honouring limit and since', async () => {
      // Prepare: recorded out of order, plus one in another cluster and two at the same time.
      const times = [3, 1, 4, 2, 0].map((minutes) => at(minutes * MINUTE).toISOString());
      for (const [index, eventTime] of times.entries()) {
        await ledger.record(recordOf({ eventId: `evt-${index}`, eventTime }));
      }
      await ledger.record(recordOf({ eventId: 'evt-5', eventTime: times[2] }));
      await ledger.record(
        recordOf({ clusterId: 'us-prod-2', eventId: 'evt-x', eventTime: at(DAY).toISOString() }),
      );

      // Act
      const all = await ledger.list(CLUSTER, { limit: 100 });
      const newestTwo = await ledger.list(CLUSTER, { limit: 2 });
      const since = await ledger.list(CLUSTER, { limit: 100, since: at(2 * MINUTE) });
      const none = await ledger.list('no-such-cluster', { limit: 10 });

      // Assess
      expect(all.map((r) => r.eventId)).toEqual(['evt-5', 'evt-2', 'evt-0', 'evt-3', 'evt-1', 'evt-4']);
      expect(newestTwo.map((r) => r.eventId)).toEqual(['evt-5', 'evt-2']);
      expect(since.map((r) => r.eventId)).toEqual(['evt-5', 'evt-2', 'evt-0', 'evt-3']);
      expect(none).toEqual([]);
    });

    it('keeps the envelope and every optional field', async () => {
      // Prepare
      const failed = recordOf({
        outcome: 'failed',
        reason: 'The relay answered 535 5.7.139: SMTP AUTH is disabled for the tenant',
        transient: false,
        recipients: [],
        envelope: sample,
      });

      // Act
      await ledger.record(failed);
      const [stored] = await ledger.list(CLUSTER, { limit: 1 });

      // Assess
      expect(stored).toEqual(failed);
    });

    it('returns copies: changing a listed record does not change the ledger', async () => {
      // Prepare
      await ledger.record(recordOf({ envelope: sample }));
      const [listed] = await ledger.list(CLUSTER, { limit: 1 });
      if (!listed) throw new Error('expected a record');

      // Act
      listed.recipients.push('intruder@example.com');
      const [again] = await ledger.list(CLUSTER, { limit: 1 });

      // Assess
      expect(again).toEqual(recordOf({ envelope: sample }));
    });

    it('lists the failed records of a cluster newest first for a replay', async () => {
      // Prepare
      for (let n = 0; n < 12; n++) {
        const outcome: Outcome = n % 3 === 0 ? 'failed' : 'sent';
        await ledger.record(
          recordOf({
            eventId: `evt-${n}`,
            eventTime: at(n * MINUTE).toISOString(),
            outcome,
            envelope: sample,
          }),
        );
      }
      await ledger.record(recordOf({ clusterId: 'us-prod-2', eventId: 'evt-x', outcome: 'failed' }));

      // Act
      const failed = await ledger.listFailed({ clusterId: CLUSTER });
      const newestTwo = await ledger.listFailed({ clusterId: CLUSTER, limit: 2 });

      // Assess
      expect(failed.map((r) => r.eventId)).toEqual(['evt-9', 'evt-6', 'evt-3', 'evt-0']);
      expect(failed.every((r) => r.outcome === 'failed' && r.clusterId === CLUSTER)).toBe(true);
      expect(failed[0]?.envelope).toEqual(sample);
      expect(newestTwo.map((r) => r.eventId)).toEqual(['evt-9', 'evt-6']);
    });

    it('refuses a record whose event time is not a time', async () => {
      // Act
      const result = ledger.record(recordOf({ eventTime: 'yesterday' }));

      // Assess
      await expect(result).rejects.toThrow(/eventTime/);
      await expect(ledger.list(CLUSTER, { limit: 10 })).resolves.toEqual([]);
    });
  });
});

describe('DynamoDbLedger on dynalite', () => {
  let tableName: string;
  let ledger: DynamoDbLedger;

  beforeEach(async () => {
    tableName = await dynalite.createTable();
    ledger = new DynamoDbLedger({ client: dynalite.client, tableName });
  });

  async function rawItem(pk: string, sk: string) {
    const output = await dynalite.client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [LEDGER_TABLE_KEYS.partitionKey]: { S: pk }, [LEDGER_TABLE_KEYS.sortKey]: { S: sk } },
        ConsistentRead: true,
      }),
    );
    return output.Item;
  }

  it('lays items out with the keys and the TTL attribute the table is built with', async () => {
    // Prepare
    const t0Seconds = Math.floor(T0.getTime() / 1000);

    // Act
    await ledger.claimEvent('evt-1', T0, LEASE_MS);
    await ledger.finishEvent('evt-1', 'failed', T0);
    await ledger.decideFold(KEY, 'evt-1', T0, WINDOW_MS, LEASE_MS);
    await ledger.record(recordOf({ envelope: sample }));

    // Assess
    const claim = await rawItem('EVENT#evt-1', 'CLAIM');
    const fold = await rawItem(`FOLD#${KEY}`, 'FOLD');
    const record = await rawItem(
      `CLUSTER#${CLUSTER}`,
      `AT#${new Date(sample.time).toISOString()}#${sample.id}`,
    );
    expect(claim).toMatchObject({
      status: { S: 'done' },
      outcome: { S: 'failed' },
      expiresAt: { N: String(t0Seconds + 7 * 24 * 3600) },
    });
    expect(fold).toMatchObject({
      lastSentEventId: { S: 'evt-1' },
      expiresAt: { N: String(t0Seconds + (WINDOW_MS + DAY) / 1000) },
    });
    expect(record).toMatchObject({
      outcome: { S: 'sent' },
      envelope: { S: JSON.stringify(sample) },
      expiresAt: { N: String(t0Seconds + 30 * 24 * 3600) },
    });
  });

  it('follows LastEvaluatedKey past DynamoDB 1 MB pages', async () => {
    // Prepare: 30 records of about 60 KB each are two pages of a Query.
    const padding = 'x'.repeat(60 * 1024);
    for (let n = 0; n < 30; n++) {
      await ledger.record(
        recordOf({
          eventId: `evt-${n}`,
          eventTime: at(n * MINUTE).toISOString(),
          outcome: n < 2 ? 'failed' : 'sent',
          envelope: { ...sample, padding },
        }),
      );
    }

    // Act
    const all = await ledger.list(CLUSTER, { limit: 30 });
    const failed = await ledger.listFailed({ clusterId: CLUSTER });

    // Assess
    expect(all).toHaveLength(30);
    expect(all[29]?.eventId).toBe('evt-0');
    expect(failed.map((r) => r.eventId)).toEqual(['evt-1', 'evt-0']);
  });

  /**
   * A ledger whose client runs `interfere` once, just before the first request that `matches`
   * reaches dynalite: another writer changing the item between the ledger's two calls.
   */
  function racingLedger(
    matches: (input: Record<string, unknown>) => boolean,
    interfere: () => Promise<unknown>,
  ) {
    const client = new DynamoDBClient(dynalite.clientConfig);
    cleanups.push(async () => client.destroy());
    let fired = false;
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as Record<string, unknown>;
        if (!fired && matches(input)) {
          fired = true;
          await interfere();
        }
        return next(args);
      },
      { step: 'initialize', name: 'interfere' },
    );
    return new DynamoDbLedger({ client, tableName });
  }

  it('claims an event that finished failed between the refused write and the read-back', async () => {
    // Prepare: someone else holds a live lease, and finishes failed while our claim is refused.
    await ledger.claimEvent('evt-1', T0, LEASE_MS);
    const racing = racingLedger(
      (input) => input.ConsistentRead === true,
      () => ledger.finishEvent('evt-1', 'failed', at(1000)),
    );

    // Act
    const claim = await racing.claimEvent('evt-1', at(2000), LEASE_MS);

    // Assess
    expect(claim).toEqual({ status: 'claimed' });
    expect(await ledger.claimEvent('evt-1', at(3000), LEASE_MS)).toEqual({ status: 'in-progress' });
  });

  it('sends an event whose fold slot was given back between the two writes', async () => {
    // Prepare: evt-0 holds the slot and undoes it just as evt-1 is about to be counted as a repeat.
    await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
    const racing = racingLedger(
      // Between evt-1's read of the slot and its conditional write.
      (input) => String(input.ConditionExpression).includes('#version'),
      () => ledger.undoFold(KEY, 'evt-0'),
    );

    // Act
    const decision = await racing.decideFold(KEY, 'evt-1', at(1000), WINDOW_MS, LEASE_MS);

    // Assess
    expect(decision).toEqual({ send: true });
  });

  it('lets errors other than a failed condition through, for the platform to retry', async () => {
    // Prepare
    const missing = new DynamoDbLedger({ client: dynalite.client, tableName: 'no-such-table' });

    // Act
    const claim = missing.claimEvent('evt-1', T0, LEASE_MS);
    const fold = missing.decideFold(KEY, 'evt-1', T0, WINDOW_MS, LEASE_MS);

    // Assess
    await expect(claim).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(fold).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('needs a cluster id to list failed records', async () => {
    // Act
    const result = ledger.listFailed();

    // Assess
    await expect(result).rejects.toThrow(/clusterId/);
  });
});

describe('FileLedger journal', () => {
  let directory: string;
  let journal: string;

  beforeEach(async () => {
    directory = await temporaryDirectory();
    journal = join(directory, JOURNAL_FILE_NAME);
  });

  async function journalLines(): Promise<string[]> {
    return (await readFile(journal, 'utf8')).split('\n').filter((line) => line.length > 0);
  }

  /** Claims, a fold with one repeat, and a failed record. */
  async function writeSomeState(ledger: FileLedger): Promise<void> {
    await ledger.claimEvent('evt-done', T0, LEASE_MS);
    await ledger.finishEvent('evt-done', 'sent', T0);
    await ledger.claimEvent('evt-busy', T0, LEASE_MS);
    await ledger.decideFold(KEY, 'evt-done', T0, WINDOW_MS, LEASE_MS);
    await ledger.decideFold(KEY, 'evt-repeat', at(1000), WINDOW_MS, LEASE_MS);
    await ledger.record(recordOf({ outcome: 'failed', reason: 'Relay unreachable', envelope: sample }));
  }

  async function expectSomeState(ledger: FileLedger): Promise<void> {
    expect(await ledger.claimEvent('evt-done', at(2000), LEASE_MS)).toEqual({
      status: 'duplicate',
      outcome: 'sent',
    });
    expect(await ledger.claimEvent('evt-busy', at(2000), LEASE_MS)).toEqual({ status: 'in-progress' });
    expect(await ledger.decideFold(KEY, 'evt-next', at(3000), WINDOW_MS, LEASE_MS)).toMatchObject({
      send: false,
      state: { lastSentEventId: 'evt-done', foldedCount: 2, firstFoldedAt: at(1000).toISOString() },
    });
    expect(await ledger.listFailed()).toEqual([
      recordOf({ outcome: 'failed', reason: 'Relay unreachable', envelope: sample }),
    ]);
  }

  it('keeps its state across close and reopen', async () => {
    // Prepare
    const first = await openFileLedger(directory);
    await writeSomeState(first);

    // Act
    await first.close();
    const reopened = await openFileLedger(directory);

    // Assess
    await expectSomeState(reopened);
  });

  it('makes appends readable by the next open after flush, before close', async () => {
    // Prepare
    const writer = await openFileLedger(directory);
    await writeSomeState(writer);

    // Act
    await writer.flush();
    const reader = await openFileLedger(directory);

    // Assess
    try {
      await expectSomeState(reader);
    } finally {
      await reader.close();
    }
  });

  it('skips a torn last line, keeps the rest, and appends cleanly after it', async () => {
    // Prepare: a crash in the middle of an append.
    const first = await openFileLedger(directory);
    await writeSomeState(first);
    await first.close();
    await appendFile(journal, '{"op":"claim","eventId":"evt-torn","claim":{"status":"do');

    // Act
    const second = await openFileLedger(directory);
    await second.claimEvent('evt-after', T0, LEASE_MS);
    await second.finishEvent('evt-after', 'rejected', T0);
    await second.close();
    const third = await openFileLedger(directory);

    // Assess
    await expectSomeState(third);
    expect(await third.claimEvent('evt-after', at(1000), LEASE_MS)).toEqual({
      status: 'duplicate',
      outcome: 'rejected',
    });
    expect(await third.claimEvent('evt-torn', at(1000), LEASE_MS)).toEqual({ status: 'claimed' });
    for (const line of await journalLines()) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('compacts a journal of mostly superseded lines at open, keeping the state', async () => {
    // Prepare: the same lines many times over, as a long run of repeats leaves them.
    const first = await openFileLedger(directory);
    await writeSomeState(first);
    await first.close();
    const lines = await journalLines();
    await writeFile(journal, `${Array.from({ length: 500 }, () => lines.join('\n')).join('\n')}\n`);
    const before = await stat(journal);

    // Act
    const reopened = await openFileLedger(directory);

    // Assess
    const after = await stat(journal);
    expect(after.size).toBeLessThan(before.size / 100);
    expect(await journalLines()).toHaveLength(4);
    expect(after.mode & 0o777).toBe(0o600);
    await expectSomeState(reopened);
  });

  it('compacts itself while running once most lines are superseded', async () => {
    // Prepare
    const ledger = await openFileLedger(directory);
    await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);

    // Act
    for (let n = 1; n <= 3000; n++) await ledger.decideFold(KEY, `evt-${n}`, at(n), WINDOW_MS, LEASE_MS);
    await ledger.flush();

    // Assess
    expect((await journalLines()).length).toBeLessThan(2000);
    expect(await ledger.decideFold(KEY, 'evt-last', at(5000), WINDOW_MS, LEASE_MS)).toMatchObject({
      send: false,
      state: { foldedCount: 3001 },
    });
    await ledger.close();
    const reopened = await openFileLedger(directory);
    expect(await reopened.decideFold(KEY, 'evt-after', at(6000), WINDOW_MS, LEASE_MS)).toMatchObject({
      send: false,
      state: { foldedCount: 3002 },
    });
  });

  it('drops records past the retention and expired claims and folds when it opens', async () => {
    // Prepare
    const first = await openFileLedger(directory);
    await writeSomeState(first);
    await first.close();

    // Act
    const later = await openFileLedger(directory, () => at(31 * DAY));

    // Assess
    expect(await later.list(CLUSTER, { limit: 10 })).toEqual([]);
    expect(await later.claimEvent('evt-done', at(31 * DAY), LEASE_MS)).toEqual({ status: 'claimed' });
    expect(await later.decideFold(KEY, 'evt-new', at(31 * DAY), WINDOW_MS, LEASE_MS)).toEqual({ send: true });
  });

  it('keeps the journal readable by its owner only (0600, directory 0700)', async () => {
    // Prepare
    const ledger = await openFileLedger(directory);

    // Act
    await ledger.claimEvent('evt-1', T0, LEASE_MS);
    await ledger.flush();

    // Assess
    expect((await stat(journal)).mode & 0o777).toBe(0o600);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
  });

  it('handles 10,000 operations in a burst and replays them all', async () => {
    // Prepare
    const ledger = await openFileLedger(directory);
    const events = 2500;

    // Act: claim, fold decision, record and finish for each event (10,000 operations).
    for (let n = 0; n < events; n++) {
      const eventId = `evt-${n}`;
      const now = at(n);
      await ledger.claimEvent(eventId, now, LEASE_MS);
      const decision = await ledger.decideFold(
        `cluster#condition#appliance-${n % 10}`,
        eventId,
        now,
        WINDOW_MS,
        LEASE_MS,
      );
      const outcome: Outcome = decision.send ? 'sent' : 'folded';
      await ledger.record(recordOf({ eventId, eventTime: now.toISOString(), outcome }));
      await ledger.finishEvent(eventId, outcome, now);
    }
    await ledger.close();
    const reopened = await openFileLedger(directory);

    // Assess
    const records = await reopened.list(CLUSTER, { limit: events + 1 });
    expect(records).toHaveLength(events);
    expect(records.filter((r) => r.outcome === 'sent')).toHaveLength(10);
    expect(await reopened.claimEvent('evt-0', at(events), LEASE_MS)).toEqual({
      status: 'duplicate',
      outcome: 'sent',
    });
    expect(await reopened.claimEvent(`evt-${events - 1}`, at(events), LEASE_MS)).toEqual({
      status: 'duplicate',
      outcome: 'folded',
    });
  });

  it('refuses operations after close', async () => {
    // Prepare
    const ledger = await openFileLedger(directory);
    await ledger.close();

    // Act
    const claim = ledger.claimEvent('evt-1', T0, LEASE_MS);

    // Assess
    await expect(claim).rejects.toThrow(/closed/);
  });
});
