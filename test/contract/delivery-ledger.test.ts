// The DeliveryLedger contract, run against every adapter: claims (exactly once), fold slots
// (one email per window, a slot belongs to its event), delivery records (one per event id, in
// the log at its first arrival), and the GroupLedger: group emails per cluster and inhibitor marks. `reopen` is a restart (another process, a cold Lambda) on the
// same storage; the two ledgers then share it, as concurrent invocations do.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger.js';
import { SqliteLedger } from '../../functions/adapters/local/sqlite-ledger.js';
import type {
  DeliveryLedger,
  DeliveryRecord,
  GroupInfo,
  GroupLedger,
  GroupMemberEntry,
  GroupTiming,
  JoinResult,
  ListFailedOptions,
  Outcome,
} from '../../functions/core/notify/delivery-ledger.js';
import { contractAdapters, type Harness, useDynalite } from '../support/contract-harness.js';
import {
  at,
  CLUSTER,
  DAY,
  HOUR,
  KEY,
  LEASE_MS,
  MINUTE,
  recordOf,
  sample,
  T0,
  WINDOW_MS,
} from '../support/ledger-fixtures.js';

/** Both adapters offer `listFailed` besides the port, for the replay of failed events. */
type LedgerUnderTest = DeliveryLedger &
  GroupLedger & {
    listFailed(options?: ListFailedOptions): Promise<DeliveryRecord[]>;
  };

const WAIT_MS = 30_000;
const INTERVAL_MS = 5 * MINUTE;
const TIMING: GroupTiming = { waitMs: WAIT_MS, intervalMs: INTERVAL_MS };
const INHIBIT_A = 'promotion-pending#same-primary#pra-primary-01.example.com';
const INHIBIT_B = 'primary-check-failed#same-primary#pra-primary-01.example.com';
const INHIBIT_C = 'promotion-pending#same-primary#pra-primary-02.example.com';

/** A group member: the sample event under another id, arrived `offsetMs` after T0. */
function member(eventId: string, offsetMs: number): GroupMemberEntry {
  return { eventId, receivedAt: at(offsetMs).toISOString(), envelope: { ...sample, id: eventId } };
}

/** The GroupInfo part of a join result. */
function groupInfo(joined: JoinResult): GroupInfo {
  const { opener: _opener, alreadyMember: _already, ...info } = joined;
  return info;
}

const adapters = contractAdapters<LedgerUnderTest>({
  dynalite: useDynalite(),
  directoryPrefix: 'ledger-contract-',
  sqlite: ['SqliteLedger', (database) => new SqliteLedger({ database, clock: () => T0 })],
  dynamoDb: ['DynamoDbLedger', ({ client }, tableName) => new DynamoDbLedger({ client, tableName })],
});

describe.each(adapters)('%s (the DeliveryLedger contract)', (_name, makeHarness) => {
  let harness: Harness<LedgerUnderTest>;
  let ledger: LedgerUnderTest;

  beforeEach(async () => {
    harness = await makeHarness();
    ledger = harness.store;
  });

  afterEach(async () => {
    await harness.close();
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
          // evt-0's send was never confirmed: the email must not claim it went out.
          lastSentUnconfirmed: true,
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

  describe('across two ledgers on one storage (concurrent invocations, a restart)', () => {
    it('gives exactly one of 20 concurrent claims, split over two ledgers, and one fold email', async () => {
      // Prepare
      const other = await harness.reopen();
      const either = (n: number) => (n % 2 === 0 ? ledger : other);

      // Act
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, n) => either(n).claimEvent('evt-1', T0, LEASE_MS)),
      );
      const decisions = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          either(n).decideFold(KEY, `evt-${n}`, at(n), WINDOW_MS, LEASE_MS),
        ),
      );

      // Assess
      expect(claims.filter((c) => c.status === 'claimed')).toHaveLength(1);
      expect(decisions.filter((d) => d.send)).toHaveLength(1);
    });

    it('keeps claims, fold slots and records across a restart', async () => {
      // Prepare
      await ledger.claimEvent('evt-done', T0, LEASE_MS);
      await ledger.finishEvent('evt-done', 'sent', T0);
      await ledger.claimEvent('evt-busy', T0, LEASE_MS);
      await ledger.decideFold(KEY, 'evt-done', T0, WINDOW_MS, LEASE_MS);
      await ledger.confirmFold(KEY, 'evt-done');
      await ledger.decideFold(KEY, 'evt-repeat', at(1000), WINDOW_MS, LEASE_MS);
      const failed = recordOf({ outcome: 'failed', reason: 'Relay unreachable', envelope: sample });
      await ledger.record(failed);

      // Act
      const restarted = await harness.reopen();

      // Assess
      expect(await restarted.claimEvent('evt-done', at(2000), LEASE_MS)).toEqual({
        status: 'duplicate',
        outcome: 'sent',
      });
      expect(await restarted.claimEvent('evt-busy', at(2000), LEASE_MS)).toEqual({ status: 'in-progress' });
      expect(await restarted.decideFold(KEY, 'evt-next', at(3000), WINDOW_MS, LEASE_MS)).toMatchObject({
        send: false,
        state: { lastSentEventId: 'evt-done', foldedCount: 2, firstFoldedAt: at(1000).toISOString() },
      });
      expect(await restarted.getRecord(CLUSTER, sample.id)).toEqual(failed);
      expect(await restarted.listFailed({ clusterId: CLUSTER })).toEqual([failed]);
    });
  });

  describe('delivery records', () => {
    it.each(['sent', 'failed', 'folded'] as const)(
      'never lets a rejected redelivery overwrite a %s record of the same event',
      async (outcome) => {
        // Prepare
        const kept = recordOf({ eventId: 'evt-same', outcome });
        await ledger.record(kept);

        // Act: the redelivery arrives later, as a new message, with another time in its envelope.
        await ledger.record(
          recordOf({
            eventId: 'evt-same',
            outcome: 'rejected',
            reason: 'bad detail',
            at: at(MINUTE).toISOString(),
            receivedAt: at(MINUTE).toISOString(),
            eventTime: at(MINUTE).toISOString(),
          }),
        );

        // Assess
        expect(await ledger.list(CLUSTER, { limit: 10 })).toEqual([kept]);
        expect(await ledger.getRecord(CLUSTER, 'evt-same')).toEqual(kept);
      },
    );

    it('lets a later outcome replace a rejected record, and a rejected one replace a rejected one', async () => {
      // Prepare
      await ledger.record(recordOf({ eventId: 'evt-r', outcome: 'rejected', reason: 'first' }));
      await ledger.record(recordOf({ eventId: 'evt-r', outcome: 'rejected', reason: 'second' }));
      const rejected = await ledger.getRecord(CLUSTER, 'evt-r');

      // Act
      const sent = recordOf({ eventId: 'evt-r', at: at(MINUTE).toISOString() });
      await ledger.record(sent);

      // Assess
      expect(rejected).toMatchObject({ outcome: 'rejected', reason: 'second' });
      expect(await ledger.getRecord(CLUSTER, 'evt-r')).toEqual(sent);
    });

    it('keys a record by (cluster, event id): a later record with another event time replaces it', async () => {
      // Prepare
      await ledger.record(
        recordOf({
          outcome: 'failed',
          reason: 'Connection refused by smtp.example.com:587',
          transient: true,
        }),
      );
      // A replay: the same id, recorded later, its time now clamped differently.
      const retried = recordOf({
        outcome: 'sent',
        at: at(MINUTE).toISOString(),
        eventTime: at(-DAY).toISOString(),
      });

      // Act
      await ledger.record(retried);

      // Assess
      expect(await ledger.list(CLUSTER, { limit: 10 })).toEqual([retried]);
      expect(await ledger.getRecord(CLUSTER, sample.id)).toEqual(retried);
    });

    it('keeps the first arrival of an event for good: later records of it stay in its place', async () => {
      // Prepare
      await ledger.record(recordOf({ eventId: 'evt-a', receivedAt: at(1 * MINUTE).toISOString() }));
      await ledger.record(recordOf({ eventId: 'evt-b', receivedAt: at(2 * MINUTE).toISOString() }));

      // Act: evt-a is redelivered as a new message (a later SentTimestamp) and fails this time.
      await ledger.record(
        recordOf({
          eventId: 'evt-a',
          outcome: 'failed',
          at: at(3 * MINUTE).toISOString(),
          receivedAt: at(3 * MINUTE).toISOString(),
        }),
      );
      const listed = await ledger.list(CLUSTER, { limit: 10 });
      const sinceTwo = await ledger.list(CLUSTER, { limit: 10, since: at(2 * MINUTE) });

      // Assess
      expect(listed.map((r) => [r.eventId, r.outcome, r.receivedAt])).toEqual([
        ['evt-b', 'sent', at(2 * MINUTE).toISOString()],
        ['evt-a', 'failed', at(1 * MINUTE).toISOString()],
      ]);
      expect(sinceTwo.map((r) => r.eventId)).toEqual(['evt-b']);
      expect((await ledger.getRecord(CLUSTER, 'evt-a'))?.receivedAt).toBe(at(1 * MINUTE).toISOString());
    });

    it('agrees on one arrival when two first records of an event race', async () => {
      // Act
      await Promise.all(
        [1, 2, 3, 4].map((n) =>
          ledger.record(recordOf({ eventId: 'evt-race', receivedAt: at(n * MINUTE).toISOString() })),
        ),
      );

      // Assess
      const listed = await ledger.list(CLUSTER, { limit: 10 });
      expect(listed).toHaveLength(1);
      expect((await ledger.getRecord(CLUSTER, 'evt-race'))?.receivedAt).toBe(listed[0]?.receivedAt);
    });

    it('lists newest arrival first within the cluster, whatever the event times, honouring limit and since', async () => {
      // Prepare: recorded out of order, the event times the reverse of the arrivals, plus one in
      // another cluster and two that arrived at the same time (the larger id first).
      const arrivals = [3, 1, 4, 2, 0];
      for (const [index, minutes] of arrivals.entries()) {
        await ledger.record(
          recordOf({
            eventId: `evt-${index}`,
            receivedAt: at(minutes * MINUTE).toISOString(),
            eventTime: at(-minutes * MINUTE).toISOString(),
          }),
        );
      }
      await ledger.record(recordOf({ eventId: 'evt-5', receivedAt: at(4 * MINUTE).toISOString() }));
      await ledger.record(
        recordOf({ clusterId: 'us-prod-2', eventId: 'evt-x', receivedAt: at(DAY).toISOString() }),
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

    it('filters `since` by arrival, not by the event time', async () => {
      // Prepare: a late event (old time, arrived now) and an early one (recent time, arrived long ago).
      await ledger.record(
        recordOf({
          eventId: 'evt-late',
          eventTime: at(-DAY).toISOString(),
          receivedAt: at(HOUR).toISOString(),
        }),
      );
      await ledger.record(
        recordOf({
          eventId: 'evt-early',
          eventTime: at(HOUR).toISOString(),
          receivedAt: at(-DAY).toISOString(),
        }),
      );

      // Act
      const lastHalfDay = await ledger.list(CLUSTER, { limit: 10, since: at(-12 * HOUR) });

      // Assess
      expect(lastHalfDay.map((r) => r.eventId)).toEqual(['evt-late']);
    });

    it('orders records of the same instant by event id, descending, the same in list and page', async () => {
      // Prepare: six events in one millisecond and two more in the same second, recorded shuffled.
      const sameMs = ['evt-c', 'evt-a', 'evt-f', 'evt-b', 'evt-e', 'evt-d'];
      for (const eventId of sameMs) {
        await ledger.record(recordOf({ eventId, receivedAt: at(MINUTE).toISOString() }));
      }
      await ledger.record(recordOf({ eventId: 'evt-0', receivedAt: at(MINUTE + 999).toISOString() }));
      await ledger.record(recordOf({ eventId: 'evt-z', receivedAt: at(MINUTE + 1).toISOString() }));

      // Act
      const listed = await ledger.list(CLUSTER, { limit: 100 });
      const first = await ledger.page(CLUSTER, { limit: 4 });
      const second = await ledger.page(CLUSTER, { limit: 4, ...(first.next ? { after: first.next } : {}) });

      // Assess
      const order = ['evt-0', 'evt-z', 'evt-f', 'evt-e', 'evt-d', 'evt-c', 'evt-b', 'evt-a'];
      expect(listed.map((r) => r.eventId)).toEqual(order);
      expect(first.records.map((r) => r.eventId)).toEqual(order.slice(0, 4));
      expect(first.next).toEqual({ receivedAt: at(MINUTE).toISOString(), eventId: 'evt-e' });
      expect(second.records.map((r) => r.eventId)).toEqual(order.slice(4));
      expect(second.next).toBeUndefined();
    });

    it('pages through 25 records 10 at a time: each exactly once, in log order', async () => {
      // Prepare: arrivals in 13 distinct instants, most shared by two events.
      const ids = Array.from({ length: 25 }, (_, n) => `evt-${String(n).padStart(2, '0')}`);
      for (const [n, eventId] of ids.entries()) {
        await ledger.record(recordOf({ eventId, receivedAt: at(Math.floor(n / 2) * 1000).toISOString() }));
      }

      // Act
      const pages = [];
      let after: { receivedAt: string; eventId: string } | undefined;
      do {
        const page = await ledger.page(CLUSTER, { limit: 10, ...(after ? { after } : {}) });
        pages.push(page.records.map((r) => r.eventId));
        after = page.next;
      } while (after && pages.length < 10);

      // Assess
      const order = [...ids].reverse();
      expect(pages).toEqual([order.slice(0, 10), order.slice(10, 20), order.slice(20)]);
      expect(await ledger.list(CLUSTER, { limit: 100 })).toEqual(
        (await ledger.page(CLUSTER, { limit: 100 })).records,
      );
    });

    it('a page of exactly the last records has no next', async () => {
      // Prepare
      for (let n = 0; n < 20; n++) {
        await ledger.record(recordOf({ eventId: `evt-${n}`, receivedAt: at(n * 1000).toISOString() }));
      }

      // Act
      const first = await ledger.page(CLUSTER, { limit: 10 });
      const second = await ledger.page(CLUSTER, { limit: 10, ...(first.next ? { after: first.next } : {}) });

      // Assess
      expect(first.records).toHaveLength(10);
      expect(first.next).toBeDefined();
      expect(second.records).toHaveLength(10);
      expect(second.next).toBeUndefined();
    });

    it('filters a page by outcomes and by condition, paging through the matches', async () => {
      // Prepare: 30 records, outcome and condition cycling, one second apart.
      const outcomes: Outcome[] = ['sent', 'failed', 'folded'];
      const conditions = ['version-mismatch', 'backup-promoted'];
      for (let n = 0; n < 30; n++) {
        await ledger.record(
          recordOf({
            eventId: `evt-${String(n).padStart(2, '0')}`,
            outcome: outcomes[n % 3] as Outcome,
            condition: conditions[n % 2] as string,
            receivedAt: at(n * 1000).toISOString(),
          }),
        );
      }
      await ledger.record(
        recordOf({
          clusterId: 'us-prod-2',
          eventId: 'evt-x',
          outcome: 'failed',
          receivedAt: at(DAY).toISOString(),
        }),
      );
      const all = async (options: { outcomes?: Outcome[]; condition?: string }) => {
        const seen: string[] = [];
        let after: { receivedAt: string; eventId: string } | undefined;
        for (let call = 0; call < 20; call++) {
          const page = await ledger.page(CLUSTER, { limit: 3, ...options, ...(after ? { after } : {}) });
          expect(page.records.length).toBeLessThanOrEqual(3);
          seen.push(...page.records.map((r) => r.eventId));
          after = page.next;
          if (!after) break;
        }
        return seen;
      };
      const expected = (keep: (n: number) => boolean) =>
        Array.from({ length: 30 }, (_, n) => 29 - n)
          .filter(keep)
          .map((n) => `evt-${String(n).padStart(2, '0')}`);

      // Act
      const failed = await all({ outcomes: ['failed'] });
      const failedOrFolded = await all({ outcomes: ['failed', 'folded'] });
      const promoted = await all({ condition: 'backup-promoted' });
      const both = await all({ outcomes: ['failed'], condition: 'backup-promoted' });
      const firstFailed = await ledger.page(CLUSTER, { limit: 2, outcomes: ['failed'] });
      const noOutcome = await ledger.page(CLUSTER, { limit: 10, outcomes: [] });
      const unknown = await ledger.page(CLUSTER, { limit: 10, condition: 'no-such-condition' });

      // Assess
      expect(failed).toEqual(expected((n) => n % 3 === 1));
      expect(failedOrFolded).toEqual(expected((n) => n % 3 !== 0));
      expect(promoted).toEqual(expected((n) => n % 2 === 1));
      expect(both).toEqual(expected((n) => n % 3 === 1 && n % 2 === 1));
      expect(firstFailed.records.map((r) => r.eventId)).toEqual(['evt-28', 'evt-25']);
      expect(firstFailed.records.every((r) => r.outcome === 'failed')).toBe(true);
      expect(noOutcome).toEqual({ records: [] });
      expect(unknown).toEqual({ records: [] });
    });

    it('pages honour since, and a position before since ends the log', async () => {
      // Prepare
      for (let n = 0; n < 6; n++) {
        await ledger.record(recordOf({ eventId: `evt-${n}`, receivedAt: at(n * MINUTE).toISOString() }));
      }

      // Act
      const first = await ledger.page(CLUSTER, { limit: 2, since: at(3 * MINUTE) });
      const second = await ledger.page(CLUSTER, {
        limit: 2,
        since: at(3 * MINUTE),
        ...(first.next ? { after: first.next } : {}),
      });
      const beforeSince = await ledger.page(CLUSTER, {
        limit: 2,
        since: at(3 * MINUTE),
        after: { receivedAt: at(MINUTE).toISOString(), eventId: 'evt-1' },
      });

      // Assess
      expect(first.records.map((r) => r.eventId)).toEqual(['evt-5', 'evt-4']);
      expect(second.records.map((r) => r.eventId)).toEqual(['evt-3']);
      expect(second.next).toBeUndefined();
      expect(beforeSince).toEqual({ records: [] });
    });

    it('finds a record by cluster and event id only', async () => {
      // Prepare
      const record = recordOf({ eventId: 'evt-1', receivedAt: at(MINUTE).toISOString() });
      await ledger.record(record);

      // Act
      const found = await ledger.getRecord(CLUSTER, 'evt-1');
      const otherCluster = await ledger.getRecord('us-prod-2', 'evt-1');
      const unknown = await ledger.getRecord(CLUSTER, 'evt-unknown');

      // Assess
      expect(found).toEqual(record);
      expect(otherCluster).toBeUndefined();
      expect(unknown).toBeUndefined();
    });

    it('keeps the envelope and every optional field', async () => {
      // Prepare
      const failed = recordOf({
        outcome: 'failed',
        reason: 'The relay answered 535 5.7.139: SMTP AUTH is disabled for the tenant',
        transient: false,
        recipients: [],
        pendingRecipients: ['later@example.com'],
        refusedRecipients: ['gone@example.com'],
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

    it('lists the failed records of a cluster newest arrival first for a replay', async () => {
      // Prepare: the event times run backwards, so only the arrival gives this order.
      for (let n = 0; n < 12; n++) {
        const outcome: Outcome = n % 3 === 0 ? 'failed' : 'sent';
        await ledger.record(
          recordOf({
            eventId: `evt-${n}`,
            receivedAt: at(n * MINUTE).toISOString(),
            eventTime: at(-n * MINUTE).toISOString(),
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

    it('drops a failed event from the replay list once it is sent', async () => {
      // Prepare
      await ledger.record(recordOf({ eventId: 'evt-1', outcome: 'failed' }));

      // Act
      await ledger.record(recordOf({ eventId: 'evt-1', outcome: 'sent', at: at(MINUTE).toISOString() }));

      // Assess
      expect(await ledger.listFailed({ clusterId: CLUSTER })).toEqual([]);
    });

    it.each(['eventTime', 'receivedAt', 'at'] as const)(
      'refuses a record whose %s is not a time',
      async (field) => {
        // Act
        const result = ledger.record(recordOf({ [field]: 'yesterday' }));

        // Assess
        await expect(result).rejects.toThrow(new RegExp(field));
        await expect(ledger.list(CLUSTER, { limit: 10 })).resolves.toEqual([]);
      },
    );
  });

  describe('group emails', () => {
    it('opens a group for the first event of a quiet cluster; the next events join it; a redelivery is no second member', async () => {
      // Act
      const first = await ledger.joinGroup(CLUSTER, member('evt-1', 0), T0, TIMING);
      const second = await ledger.joinGroup(CLUSTER, member('evt-2', 1000), at(1000), TIMING);
      const redelivered = await ledger.joinGroup(CLUSTER, member('evt-2', 1000), at(2000), TIMING);
      const openerAgain = await ledger.joinGroup(CLUSTER, member('evt-1', 0), at(3000), TIMING);

      // Assess
      expect(first).toEqual({
        groupId: expect.stringMatching(new RegExp(`^grp-${CLUSTER}-${T0.getTime()}-\\w+$`)),
        clusterId: CLUSTER,
        state: 'open',
        openerEventId: 'evt-1',
        openedAt: T0.toISOString(),
        sendAt: at(WAIT_MS).toISOString(),
        size: 1,
        opener: true,
        alreadyMember: false,
      });
      expect(second).toEqual({ ...first, size: 2, opener: false, alreadyMember: false });
      expect(redelivered).toEqual({ ...first, size: 2, opener: false, alreadyMember: true });
      expect(openerAgain).toEqual({ ...first, size: 2, opener: true, alreadyMember: true });
    });

    it('keeps each cluster to its own group', async () => {
      // Act
      const here = await ledger.joinGroup(CLUSTER, member('evt-1', 0), T0, TIMING);
      const there = await ledger.joinGroup('us-prod-2', member('evt-2', 0), T0, TIMING);

      // Assess
      expect(there.groupId).not.toBe(here.groupId);
      expect(there).toMatchObject({ clusterId: 'us-prod-2', opener: true, size: 1 });
      expect(await ledger.groupOf(CLUSTER, 'evt-2')).toBeUndefined();
    });

    it('is not due before sendAt: closing it early leaves it open, and events still join', async () => {
      // Prepare
      const opened = await ledger.joinGroup(CLUSTER, member('evt-1', 0), T0, TIMING);

      // Act
      const early = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS - 1), LEASE_MS);
      const late = await ledger.joinGroup(CLUSTER, member('evt-2', WAIT_MS - 1), at(WAIT_MS - 1), TIMING);

      // Assess
      expect(early).toEqual({ status: 'open', group: groupInfo(opened) });
      expect(late).toMatchObject({ groupId: opened.groupId, size: 2 });
    });

    it('closes a due group with all its members in arrival order; the next event opens the next group', async () => {
      // Prepare: joined out of arrival order, two arrivals at the same time (event id decides).
      const opened = await ledger.joinGroup(CLUSTER, member('evt-c', 2000), T0, TIMING);
      await ledger.joinGroup(CLUSTER, member('evt-b', 1000), at(1000), TIMING);
      await ledger.joinGroup(CLUSTER, member('evt-a', 2000), at(2000), TIMING);
      await ledger.joinGroup(CLUSTER, member('evt-0', 0), at(3000), TIMING);

      // Act
      const closed = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS), LEASE_MS);
      const next = await ledger.joinGroup(CLUSTER, member('evt-d', WAIT_MS + 1), at(WAIT_MS + 1), TIMING);

      // Assess
      expect(closed).toEqual({
        status: 'closed',
        group: { ...groupInfo(opened), state: 'sending', size: 4 },
        members: [member('evt-0', 0), member('evt-b', 1000), member('evt-a', 2000), member('evt-c', 2000)],
      });
      expect(next).toMatchObject({ state: 'open', opener: true, size: 1, openerEventId: 'evt-d' });
      expect(next.groupId).not.toBe(opened.groupId);
      expect(await ledger.groupOf(CLUSTER, 'evt-a')).toMatchObject({
        groupId: opened.groupId,
        state: 'sending',
      });
      expect(await ledger.groupOf(CLUSTER, 'evt-d')).toMatchObject({ groupId: next.groupId, state: 'open' });
      expect(await ledger.groupOf(CLUSTER, 'evt-unknown')).toBeUndefined();
    });

    it('keeps the fold key and the folded report of a member', async () => {
      // Prepare
      const folded = { lastSentAt: at(-HOUR).toISOString(), lastSentEventId: 'evt-old', foldedCount: 3 };
      const entry: GroupMemberEntry = { ...member('evt-1', 0), foldKey: KEY, folded };
      const opened = await ledger.joinGroup(CLUSTER, entry, T0, TIMING);

      // Act
      const closed = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS), LEASE_MS);

      // Assess
      expect(closed).toMatchObject({ status: 'closed', members: [entry] });
    });

    it('sends the next group no sooner than the interval after the last one closed', async () => {
      // Prepare
      const first = await ledger.joinGroup(CLUSTER, member('evt-1', 0), T0, TIMING);
      await ledger.closeGroup(CLUSTER, first.groupId, at(WAIT_MS), LEASE_MS);

      // Act: soon after the close, the interval decides; long after it, the wait does.
      const soon = await ledger.joinGroup(
        CLUSTER,
        member('evt-2', WAIT_MS + 1000),
        at(WAIT_MS + 1000),
        TIMING,
      );
      await ledger.closeGroup(CLUSTER, soon.groupId, at(WAIT_MS + INTERVAL_MS), LEASE_MS);
      const quietAgain = at(WAIT_MS + 3 * INTERVAL_MS);
      const later = await ledger.joinGroup(CLUSTER, member('evt-3', 0), quietAgain, TIMING);

      // Assess
      expect(soon.sendAt).toBe(at(WAIT_MS + INTERVAL_MS).toISOString());
      expect(later.sendAt).toBe(new Date(quietAgain.getTime() + WAIT_MS).toISOString());
    });

    it('a live lease keeps other closers out; an expired one is taken over, with the members', async () => {
      // Prepare
      const opened = await ledger.joinGroup(CLUSTER, member('evt-1', 0), T0, TIMING);
      await ledger.joinGroup(CLUSTER, member('evt-2', 1000), at(1000), TIMING);
      const first = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS), LEASE_MS);

      // Act
      const during = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS + LEASE_MS), LEASE_MS);
      const takeover = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS + LEASE_MS + 1), LEASE_MS);
      const again = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS + LEASE_MS + 2), LEASE_MS);

      // Assess
      expect(first.status).toBe('closed');
      expect(during).toEqual({
        status: 'in-progress',
        group: { ...groupInfo(opened), state: 'sending', size: 2 },
      });
      expect(takeover).toEqual(first);
      expect(again.status).toBe('in-progress');
    });

    it('a released send is taken by the next close at once, members kept', async () => {
      // Prepare
      const opened = await ledger.joinGroup(CLUSTER, member('evt-1', 0), T0, TIMING);
      const first = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS), LEASE_MS);

      // Act
      await ledger.releaseGroup(CLUSTER, opened.groupId);
      const retry = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS + 1000), LEASE_MS);
      const whileRetrying = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS + 2000), LEASE_MS);

      // Assess
      expect(retry).toEqual(first);
      expect(retry).toMatchObject({ members: [member('evt-1', 0)] });
      expect(whileRetrying.status).toBe('in-progress');
    });

    it.each(['sent', 'failed'] as const)('a group finished %s is done, and stays so', async (outcome) => {
      // Prepare
      const opened = await ledger.joinGroup(CLUSTER, member('evt-1', 0), T0, TIMING);
      await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS), LEASE_MS);
      const messageId = outcome === 'sent' ? '<group-1@example.com>' : undefined;

      // Act
      await ledger.finishGroup(CLUSTER, opened.groupId, outcome, at(WAIT_MS + 1000), messageId);
      // A late report from a sender whose lease was taken over changes nothing.
      await ledger.finishGroup(
        CLUSTER,
        opened.groupId,
        outcome === 'sent' ? 'failed' : 'sent',
        at(WAIT_MS + 2000),
      );
      await ledger.releaseGroup(CLUSTER, opened.groupId);
      const closed = await ledger.closeGroup(CLUSTER, opened.groupId, at(WAIT_MS + LEASE_MS * 2), LEASE_MS);

      // Assess
      const done = { ...groupInfo(opened), state: outcome, ...(messageId ? { messageId } : {}) };
      expect(closed).toEqual({ status: 'done', group: done });
      expect(await ledger.groupOf(CLUSTER, 'evt-1')).toEqual(done);
      expect(await ledger.joinGroup(CLUSTER, member('evt-1', 0), at(WAIT_MS + 3000), TIMING)).toMatchObject({
        groupId: opened.groupId,
        state: outcome,
        alreadyMember: true,
      });
    });

    it('refuses to finish a group that was never closed, and to close an unknown one', async () => {
      // Prepare
      const opened = await ledger.joinGroup(CLUSTER, member('evt-1', 0), T0, TIMING);

      // Act
      const finish = ledger.finishGroup(CLUSTER, opened.groupId, 'sent', at(1000), '<x@example.com>');
      const unknown = ledger.closeGroup(CLUSTER, 'grp-nope', at(WAIT_MS), LEASE_MS);

      // Assess
      await expect(finish).rejects.toThrow(/still open/);
      await expect(unknown).rejects.toThrow(/grp-nope/);
      expect(await ledger.groupOf(CLUSTER, 'evt-1')).toMatchObject({ state: 'open' });
    });

    it('round-trips 300 members with 2 KB envelopes', async () => {
      // Prepare
      const padding = 'x'.repeat(2048);
      const entries = Array.from({ length: 300 }, (_, n) => ({
        ...member(`evt-${String(n).padStart(3, '0')}`, n * 100),
        envelope: { ...sample, id: `evt-${n}`, padding },
      }));
      let groupId = '';
      for (const [n, entry] of entries.entries()) {
        groupId = (await ledger.joinGroup(CLUSTER, entry, at(n * 100), { ...TIMING, waitMs: HOUR })).groupId;
      }

      // Act
      const closed = await ledger.closeGroup(CLUSTER, groupId, at(HOUR), LEASE_MS);

      // Assess
      expect(closed.status).toBe('closed');
      expect(closed.group.size).toBe(300);
      expect(closed.status === 'closed' && closed.members).toEqual(entries);
    });

    it('inhibitor marks: live until their end, replaced per key, the latest end of several keys', async () => {
      // Prepare
      const mark = (eventId: string, until: number) => ({
        eventId,
        condition: 'backup-promoted',
        until: at(until).toISOString(),
      });
      await ledger.markInhibitor(CLUSTER, [INHIBIT_A, INHIBIT_B], mark('evt-1', 10 * MINUTE));
      await ledger.markInhibitor(CLUSTER, [INHIBIT_B], mark('evt-2', 20 * MINUTE));
      await ledger.markInhibitor('us-prod-2', [INHIBIT_C], mark('evt-3', HOUR));

      // Act
      const onA = await ledger.findInhibitor(CLUSTER, [INHIBIT_A], at(MINUTE));
      const onBoth = await ledger.findInhibitor(CLUSTER, [INHIBIT_A, INHIBIT_B], at(MINUTE));
      const aAtItsEnd = await ledger.findInhibitor(CLUSTER, [INHIBIT_A], at(10 * MINUTE));
      const bLater = await ledger.findInhibitor(CLUSTER, [INHIBIT_A, INHIBIT_B], at(15 * MINUTE));
      const allOver = await ledger.findInhibitor(CLUSTER, [INHIBIT_A, INHIBIT_B], at(20 * MINUTE));
      const otherCluster = await ledger.findInhibitor(CLUSTER, [INHIBIT_C], at(MINUTE));
      const none = await ledger.findInhibitor(CLUSTER, [], at(MINUTE));

      // Assess
      expect(onA).toEqual(mark('evt-1', 10 * MINUTE));
      expect(onBoth).toEqual(mark('evt-2', 20 * MINUTE));
      expect(aAtItsEnd).toBeUndefined();
      expect(bLater).toEqual(mark('evt-2', 20 * MINUTE));
      expect(allOver).toBeUndefined();
      expect(otherCluster).toBeUndefined();
      expect(none).toBeUndefined();
    });

    it('a later mark replaces an earlier one for its key, even with an earlier end', async () => {
      // Prepare
      const mark = (eventId: string, until: number) => ({
        eventId,
        condition: 'backup-promoted',
        until: at(until).toISOString(),
      });
      await ledger.markInhibitor(CLUSTER, [INHIBIT_A], mark('evt-1', HOUR));

      // Act
      await ledger.markInhibitor(CLUSTER, [INHIBIT_A], mark('evt-2', 10 * MINUTE));

      // Assess
      expect(await ledger.findInhibitor(CLUSTER, [INHIBIT_A], at(MINUTE))).toEqual(
        mark('evt-2', 10 * MINUTE),
      );
      expect(await ledger.findInhibitor(CLUSTER, [INHIBIT_A], at(30 * MINUTE))).toBeUndefined();
    });
  });

  describe('group emails across two ledgers on one storage', () => {
    // 20 racing joins on dynalite take many rounds of requests: more than 5 s on a loaded machine.
    it('concurrent first events of a quiet cluster make one group with all of them', async () => {
      // Prepare
      const other = await harness.reopen();
      const either = (n: number) => (n % 2 === 0 ? ledger : other);

      // Act
      const joins = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          either(n).joinGroup(CLUSTER, member(`evt-${n}`, n), at(n), TIMING),
        ),
      );
      const [first] = joins;
      if (!first) throw new Error('expected joins');
      const closed = await other.closeGroup(CLUSTER, first.groupId, at(WAIT_MS + 20), LEASE_MS);

      // Assess
      expect(new Set(joins.map((j) => j.groupId)).size).toBe(1);
      expect(joins.filter((j) => j.opener)).toHaveLength(1);
      expect(closed.status === 'closed' && closed.members.map((m) => m.eventId).sort()).toEqual(
        Array.from({ length: 20 }, (_, n) => `evt-${n}`).sort(),
      );
    }, 20_000);

    it('events joining while the group closes are each in exactly one group, the one their join returned', async () => {
      // Prepare
      const other = await harness.reopen();
      const opened = await ledger.joinGroup(CLUSTER, member('evt-open', 0), T0, TIMING);
      const due = at(WAIT_MS);

      // Act: 20 joins from both ledgers, one a millisecond, race the close started amid them.
      const startAfter = async <T>(ms: number, run: () => Promise<T>) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return run();
      };
      const [closed, ...joins] = await Promise.all([
        startAfter(10, () => other.closeGroup(CLUSTER, opened.groupId, due, LEASE_MS)),
        ...Array.from({ length: 20 }, (_, n) =>
          startAfter(n, () =>
            (n % 2 === 0 ? ledger : other).joinGroup(CLUSTER, member(`evt-${n}`, WAIT_MS), due, TIMING),
          ),
        ),
      ]);
      const next = joins.find((j) => j.groupId !== opened.groupId);
      const nextClosed = next
        ? await ledger.closeGroup(CLUSTER, next.groupId, at(WAIT_MS + INTERVAL_MS), LEASE_MS)
        : undefined;

      // Assess
      if (closed?.status !== 'closed') throw new Error('expected the due group to close');
      const inFirst = closed.members.map((m) => m.eventId);
      const inNext = nextClosed?.status === 'closed' ? nextClosed.members.map((m) => m.eventId) : [];
      expect([...inFirst, ...inNext].sort()).toEqual(
        ['evt-open', ...joins.map((_join, n) => `evt-${n}`)].sort(),
      );
      joins.forEach((join, n) => {
        expect(join.groupId === opened.groupId ? inFirst : inNext).toContain(`evt-${n}`);
      });
      expect(closed.group.size).toBe(inFirst.length);
      // The race happened: the joins that started after the close went to the next group.
      expect(inNext.length).toBeGreaterThan(0);
    });
  });
});
