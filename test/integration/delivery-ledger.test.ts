// The DynamoDB ledger's own behaviour on dynalite, beyond the DeliveryLedger contract
// (test/contract/delivery-ledger.test.ts): its item layout, paging, and races between its
// conditional writes (claims, fold slots, group emails).
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger.js';
import { LEDGER_TABLE_KEYS } from '../../functions/adapters/aws/resource-names.js';
import type {
  CloseResult,
  GroupMemberEntry,
  JoinResult,
} from '../../functions/core/notify/delivery-ledger.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import {
  at,
  CLUSTER,
  DAY,
  KEY,
  LEASE_MS,
  MINUTE,
  recordOf,
  sample,
  T0,
  WINDOW_MS,
} from '../support/ledger-fixtures.js';

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
    await ledger.record(recordOf({ envelope: sample, receivedAt: at(-MINUTE).toISOString() }));

    // Assess
    const claim = await rawItem('EVENT#evt-1', 'CLAIM');
    const fold = await rawItem(`FOLD#${KEY}`, 'FOLD');
    const pointer = await rawItem(`EVENT#${sample.id}`, `RECORD#${CLUSTER}`);
    const record = await rawItem(`CLUSTER#${CLUSTER}`, `AT#${at(-MINUTE).toISOString()}#${sample.id}`);
    expect(claim).toMatchObject({
      status: { S: 'done' },
      outcome: { S: 'failed' },
      expiresAt: { N: String(t0Seconds + 7 * 24 * 3600) },
    });
    expect(fold).toMatchObject({
      lastSentEventId: { S: 'evt-1' },
      expiresAt: { N: String(t0Seconds + (WINDOW_MS + DAY) / 1000) },
    });
    expect(pointer).toMatchObject({
      receivedAt: { S: at(-MINUTE).toISOString() },
      clusterId: { S: CLUSTER },
      expiresAt: { N: String(t0Seconds + 30 * 24 * 3600) },
    });
    expect(record).toMatchObject({
      outcome: { S: 'sent' },
      receivedAt: { S: at(-MINUTE).toISOString() },
      eventTime: { S: sample.time },
      envelope: { S: JSON.stringify(sample) },
      expiresAt: { N: String(t0Seconds + 30 * 24 * 3600) },
    });
  });

  it('writes a later record of an event over the item at its first arrival, and moves the TTL on', async () => {
    // Prepare
    await ledger.record(recordOf({ outcome: 'failed', transient: true }));

    // Act
    await ledger.record(
      recordOf({ outcome: 'sent', at: at(DAY).toISOString(), receivedAt: at(DAY).toISOString() }),
    );

    // Assess
    const firstPlace = await rawItem(`CLUSTER#${CLUSTER}`, `AT#${T0.toISOString()}#${sample.id}`);
    const laterPlace = await rawItem(`CLUSTER#${CLUSTER}`, `AT#${at(DAY).toISOString()}#${sample.id}`);
    const pointer = await rawItem(`EVENT#${sample.id}`, `RECORD#${CLUSTER}`);
    const ttl = String(Math.floor(at(DAY).getTime() / 1000) + 30 * 24 * 3600);
    expect(firstPlace).toMatchObject({ outcome: { S: 'sent' }, expiresAt: { N: ttl } });
    expect(laterPlace).toBeUndefined();
    expect(pointer).toMatchObject({ receivedAt: { S: T0.toISOString() }, expiresAt: { N: ttl } });
  });

  it('files an event afresh when its pointer has passed its TTL but is not swept yet', async () => {
    // Prepare: a record from 31 days ago, its items expired (DynamoDB deletes them days later).
    await ledger.record(
      recordOf({ at: at(-31 * DAY).toISOString(), receivedAt: at(-31 * DAY).toISOString() }),
    );

    // Act
    await ledger.record(recordOf({ outcome: 'failed' }));

    // Assess
    expect(await ledger.getRecord(CLUSTER, sample.id)).toEqual(recordOf({ outcome: 'failed' }));
    const since = await ledger.list(CLUSTER, { limit: 10, since: at(-DAY) });
    expect(since.map((r) => [r.eventId, r.receivedAt])).toEqual([[sample.id, T0.toISOString()]]);
  });

  it('reads record items from before arrivals were kept at their event time', async () => {
    // Prepare: an item as the earlier version wrote it, filed by event time, without receivedAt.
    await dynalite.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          [LEDGER_TABLE_KEYS.partitionKey]: { S: `CLUSTER#${CLUSTER}` },
          [LEDGER_TABLE_KEYS.sortKey]: { S: `AT#${at(-MINUTE).toISOString()}#evt-old` },
          clusterId: { S: CLUSTER },
          eventId: { S: 'evt-old' },
          condition: { S: 'version-mismatch' },
          outcome: { S: 'sent' },
          recipients: { L: [{ S: 'ops@example.com' }] },
          at: { S: T0.toISOString() },
          eventTime: { S: at(-MINUTE).toISOString() },
          expiresAt: { N: String(Math.floor(T0.getTime() / 1000) + 30 * 24 * 3600) },
        },
      }),
    );
    await ledger.record(recordOf({ eventId: 'evt-new', receivedAt: at(-2 * MINUTE).toISOString() }));

    // Act
    const listed = await ledger.list(CLUSTER, { limit: 10 });

    // Assess
    expect(listed.map((r) => [r.eventId, r.receivedAt])).toEqual([
      ['evt-old', at(-MINUTE).toISOString()],
      ['evt-new', at(-2 * MINUTE).toISOString()],
    ]);
  });

  it('follows LastEvaluatedKey past DynamoDB 1 MB pages', async () => {
    // Prepare: 30 records of about 60 KB each are two pages of a Query.
    const padding = 'x'.repeat(60 * 1024);
    for (let n = 0; n < 30; n++) {
      await ledger.record(
        recordOf({
          eventId: `evt-${n}`,
          receivedAt: at(n * MINUTE).toISOString(),
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

  /** A ledger on its own client that logs each request's command and whether it succeeded. */
  function countingLedger(options: { filteredQueryItems?: number } = {}) {
    const client = new DynamoDBClient(dynalite.clientConfig);
    cleanups.push(async () => client.destroy());
    const requests: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        try {
          const result = await next(args);
          requests.push(String(context.commandName));
          return result;
        } catch (error) {
          requests.push(`${String(context.commandName)} refused`);
          throw error;
        }
      },
      { step: 'initialize', name: 'count' },
    );
    return { ledger: new DynamoDbLedger({ client, tableName, ...options }), requests };
  }

  describe('filtered pages read a bounded part of the log', () => {
    it('stops after 10 Query reads with what matched and a next position, from which paging goes on', async () => {
      // Prepare: 30 records; only the oldest failed. Each filtered read evaluates 2 items here.
      for (let n = 0; n < 30; n++) {
        await ledger.record(
          recordOf({
            eventId: `evt-${String(n).padStart(2, '0')}`,
            outcome: n === 0 ? 'failed' : 'sent',
            receivedAt: at(n * 1000).toISOString(),
          }),
        );
      }
      const { ledger: mine, requests } = countingLedger({ filteredQueryItems: 1 });

      // Act
      const first = await mine.page(CLUSTER, { limit: 1, outcomes: ['failed'] });
      const readsOfFirst = requests.length;
      const second = await mine.page(CLUSTER, {
        limit: 1,
        outcomes: ['failed'],
        ...(first.next ? { after: first.next } : {}),
      });

      // Assess: 10 reads of 2 items reached evt-10; the next call goes on from there.
      expect(readsOfFirst).toBe(10);
      expect(requests.every((r) => r === 'QueryCommand')).toBe(true);
      expect(first).toEqual({
        records: [],
        next: { receivedAt: at(10_000).toISOString(), eventId: 'evt-10' },
      });
      expect(second.records.map((r) => r.eventId)).toEqual(['evt-00']);
      // The read that found evt-00 hit its Limit, so DynamoDB could not say the log ended there:
      // a filtered page may have a next that leads to an empty last page.
      const third = second.next
        ? await mine.page(CLUSTER, { limit: 1, outcomes: ['failed'], after: second.next })
        : undefined;
      expect(third ?? { records: [] }).toEqual({ records: [] });
    });
  });

  describe('fold slots read ahead or as last written', () => {
    it('confirms from the slot it wrote, without reading it again', async () => {
      // Prepare
      const { ledger: mine, requests } = countingLedger();
      await mine.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      requests.length = 0;

      // Act
      await mine.confirmFold(KEY, 'evt-0');

      // Assess: one write, and the slot is confirmed (another event within the window folds).
      expect(requests).toEqual(['PutItemCommand']);
      expect(await ledger.decideFold(KEY, 'evt-1', at(1000), WINDOW_MS, LEASE_MS)).toMatchObject({
        send: false,
        state: { lastSentEventId: 'evt-0', foldedCount: 1 },
      });
    });

    it('reads again when another process changed the slot since it wrote it, and loses no fold', async () => {
      // Prepare: evt-0's decision here, then a repeat folded by another process.
      const { ledger: mine, requests } = countingLedger();
      await mine.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      expect(await ledger.decideFold(KEY, 'evt-1', at(1000), WINDOW_MS, LEASE_MS)).toMatchObject({
        send: false,
      });
      requests.length = 0;

      // Act
      await mine.confirmFold(KEY, 'evt-0');

      // Assess: the write from the stale slot is refused, the slot read and written again.
      expect(requests).toEqual(['PutItemCommand refused', 'GetItemCommand', 'PutItemCommand']);
      expect(await ledger.decideFold(KEY, 'evt-2', at(2000), WINDOW_MS, LEASE_MS)).toMatchObject({
        send: false,
        state: { lastSentEventId: 'evt-0', foldedCount: 2 },
      });
    });

    it('decides on a slot read ahead, and reads again when it changed after that read', async () => {
      // Prepare: evt-0 emailed and confirmed; the read ahead sees it; then it is undone elsewhere.
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      const { ledger: mine, requests } = countingLedger();
      mine.prefetchFold(KEY);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await ledger.undoFold(KEY, 'evt-0');
      requests.length = 0;

      // Act
      const decision = await mine.decideFold(KEY, 'evt-1', at(1000), WINDOW_MS, LEASE_MS);

      // Assess: no fold into a slot that is gone; the read ahead cost one refused write.
      expect(decision).toEqual({ send: true });
      expect(requests).toEqual(['PutItemCommand refused', 'GetItemCommand', 'PutItemCommand']);
    });

    it('decides on a slot read ahead without reading it again when nothing changed', async () => {
      // Prepare
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      await ledger.confirmFold(KEY, 'evt-0');
      const { ledger: mine, requests } = countingLedger();
      mine.prefetchFold(KEY);

      // Act
      const decision = await mine.decideFold(KEY, 'evt-1', at(1000), WINDOW_MS, LEASE_MS);

      // Assess
      expect(decision).toMatchObject({ send: false, state: { foldedCount: 1 } });
      expect(requests).toEqual(['GetItemCommand', 'PutItemCommand']);
    });

    it('takes no decision to write nothing from a slot read ahead: it reads again first', async () => {
      // Prepare: the read ahead finds no slot; then evt-0, a group member, takes one elsewhere,
      // and this process (the group's closer) confirms it.
      const { ledger: mine, requests } = countingLedger();
      mine.prefetchFold(KEY);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await ledger.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      requests.length = 0;

      // Act
      await mine.confirmFold(KEY, 'evt-0');

      // Assess: not "no slot, nothing to confirm": confirmed, so a repeat past the lease folds.
      expect(requests).toEqual(['GetItemCommand', 'PutItemCommand']);
      expect(await ledger.decideFold(KEY, 'evt-1', at(LEASE_MS + 1000), WINDOW_MS, LEASE_MS)).toMatchObject({
        send: false,
        state: { lastSentEventId: 'evt-0' },
      });
    });

    it('leaves a slot another process took over alone, though the slot it wrote says it owns it', async () => {
      // Prepare: evt-0's slot here, unconfirmed past its lease, taken over by evt-1 elsewhere.
      const { ledger: mine, requests } = countingLedger();
      await mine.decideFold(KEY, 'evt-0', T0, WINDOW_MS, LEASE_MS);
      await ledger.decideFold(KEY, 'evt-1', at(LEASE_MS + 1000), WINDOW_MS, LEASE_MS);
      requests.length = 0;

      // Act: evt-0's late undo must leave evt-1's slot alone.
      await mine.undoFold(KEY, 'evt-0');

      // Assess: the stale slot (evt-0's, with no earlier state) would have deleted it.
      expect(requests).toEqual(['DeleteItemCommand refused', 'GetItemCommand']);
      expect(await ledger.decideFold(KEY, 'evt-2', at(LEASE_MS + 2000), WINDOW_MS, LEASE_MS)).toMatchObject({
        send: false,
        state: { lastSentEventId: 'evt-1' },
      });
    });
  });

  describe('group emails', () => {
    const TIMING = { waitMs: 30_000, intervalMs: 5 * MINUTE };
    const due = at(TIMING.waitMs);
    const member = (eventId: string, offsetMs = 0): GroupMemberEntry => ({
      eventId,
      receivedAt: at(offsetMs).toISOString(),
      envelope: { ...sample, id: eventId },
    });
    const isJoinCommit = (input: Record<string, unknown>) => input.ConditionExpression === '#state = :open';

    it('lays group items out under the cluster, the group and the event, each with a TTL', async () => {
      // Prepare
      const ttl = { N: String(Math.floor(T0.getTime() / 1000) + 30 * 24 * 3600) };

      // Act
      const opened = await ledger.joinGroup(CLUSTER, { ...member('evt-1'), foldKey: KEY }, T0, TIMING);
      await ledger.markInhibitor(CLUSTER, ['promotion-pending#same-primary#p1'], {
        eventId: 'evt-1',
        condition: 'backup-promoted',
        until: at(MINUTE).toISOString(),
      });

      // Assess
      const partition = `GROUP#${CLUSTER}#${opened.groupId}`;
      expect(await rawItem(`GROUP#${CLUSTER}`, 'CLUSTER')).toMatchObject({
        openGroupId: { S: opened.groupId },
        version: { N: '1' },
        expiresAt: ttl,
      });
      expect(await rawItem(partition, 'HEAD')).toMatchObject({
        state: { S: 'open' },
        memberIds: { SS: ['evt-1'] },
        sendAt: { N: String(due.getTime()) },
        expiresAt: ttl,
      });
      expect(await rawItem(partition, 'MEMBER#evt-1')).toMatchObject({
        receivedAt: { S: T0.toISOString() },
        envelope: { S: JSON.stringify({ ...sample, id: 'evt-1' }) },
        foldKey: { S: KEY },
        expiresAt: ttl,
      });
      expect(await rawItem('EVENT#evt-1', `GROUP#${CLUSTER}`)).toMatchObject({
        groupId: { S: opened.groupId },
        expiresAt: ttl,
      });
      expect(await rawItem(`INHIBIT#${CLUSTER}`, 'KEY#promotion-pending#same-primary#p1')).toMatchObject({
        eventId: { S: 'evt-1' },
        until: { N: String(at(MINUTE).getTime()) },
      });
    });

    it('reads the members of a group past DynamoDB 1 MB pages', async () => {
      // Prepare: 24 members with envelopes near the 64 KiB cap are two pages of a Query.
      const padding = 'x'.repeat(60 * 1024);
      const entries = Array.from({ length: 24 }, (_, n) => ({
        ...member(`evt-${String(n).padStart(2, '0')}`, n),
        envelope: { ...sample, padding },
      }));
      let groupId = '';
      for (const entry of entries) groupId = (await ledger.joinGroup(CLUSTER, entry, T0, TIMING)).groupId;
      let queries = 0;
      // Never interferes: it counts the Queries the close makes.
      const counting = racingLedger(
        (input) => {
          if ('KeyConditionExpression' in input) queries++;
          return false;
        },
        async () => undefined,
      );

      // Act
      const closed = await counting.closeGroup(CLUSTER, groupId, due, LEASE_MS);

      // Assess
      expect(queries).toBeGreaterThan(1);
      expect(closed).toMatchObject({ status: 'closed', group: { size: 24 } });
      expect(closed.status === 'closed' && closed.members).toEqual(entries);
    });

    it('a join refused because the group closed under it goes to the next group, not into the closed list', async () => {
      // Prepare: the late event has read the group as open and written its member item; the
      // opener's close lands just before its commit, so the closer's query finds that item.
      const opened = await ledger.joinGroup(CLUSTER, member('evt-open'), T0, TIMING);
      let closed: CloseResult | undefined;
      const racing = racingLedger(isJoinCommit, async () => {
        closed = await ledger.closeGroup(CLUSTER, opened.groupId, due, LEASE_MS);
      });

      // Act
      const late = await racing.joinGroup(CLUSTER, member('evt-late', 1000), due, TIMING);

      // Assess
      expect(closed).toMatchObject({ status: 'closed', members: [member('evt-open')] });
      expect(late).toMatchObject({ opener: true, alreadyMember: false, size: 1, state: 'open' });
      expect(late.groupId).not.toBe(opened.groupId);
      expect(late.sendAt).toBe(at(TIMING.waitMs + TIMING.intervalMs).toISOString());
      expect(await rawItem(`GROUP#${CLUSTER}#${opened.groupId}`, 'MEMBER#evt-late')).toBeUndefined();
      expect(await ledger.groupOf(CLUSTER, 'evt-late')).toMatchObject({ groupId: late.groupId });
    });

    it("a join that commits between the closer's read and its write is in the closed list", async () => {
      // Prepare
      const opened = await ledger.joinGroup(CLUSTER, member('evt-open'), T0, TIMING);
      let late: JoinResult | undefined;
      const racing = racingLedger(
        (input) => input.ConditionExpression === '#version = :previous',
        async () => {
          late = await ledger.joinGroup(CLUSTER, member('evt-late', 1000), due, TIMING);
        },
      );

      // Act
      const closed = await racing.closeGroup(CLUSTER, opened.groupId, due, LEASE_MS);

      // Assess
      expect(late).toMatchObject({ groupId: opened.groupId, size: 2 });
      expect(closed).toMatchObject({
        status: 'closed',
        group: { size: 2 },
        members: [member('evt-open'), member('evt-late', 1000)],
      });
    });

    it('of two first events of a quiet cluster, the one that loses the race to open joins the winner', async () => {
      // Prepare: evt-b opens the group between evt-a's read of the cluster pointer and its write.
      let winner: JoinResult | undefined;
      const racing = racingLedger(
        (input) => String(input.UpdateExpression).startsWith('SET #open'),
        async () => {
          winner = await ledger.joinGroup(CLUSTER, member('evt-b', 1), at(1), TIMING);
        },
      );

      // Act
      const loser = await racing.joinGroup(CLUSTER, member('evt-a'), T0, TIMING);
      // The winner opened it a millisecond later: it is due then.
      const closed = await ledger.closeGroup(CLUSTER, loser.groupId, at(TIMING.waitMs + 1), LEASE_MS);

      // Assess
      expect(winner).toMatchObject({ opener: true, size: 1 });
      expect(loser).toMatchObject({ groupId: winner?.groupId, opener: false, alreadyMember: false, size: 2 });
      expect(closed).toMatchObject({ status: 'closed', members: [member('evt-a'), member('evt-b', 1)] });
    });

    it('a closer that died before moving the cluster on: the next join moves it on, the interval counted from the close', async () => {
      // Prepare
      const opened = await ledger.joinGroup(CLUSTER, member('evt-open'), T0, TIMING);
      const dying = racingLedger(
        (input) => input.ConditionExpression === '#open = :groupId',
        async () => {
          throw new Error('the invocation died');
        },
      );
      await expect(dying.closeGroup(CLUSTER, opened.groupId, due, LEASE_MS)).rejects.toThrow(/died/);

      // Act
      const next = await ledger.joinGroup(
        CLUSTER,
        member('evt-next', 2000),
        at(TIMING.waitMs + 2000),
        TIMING,
      );
      const takeover = await ledger.closeGroup(
        CLUSTER,
        opened.groupId,
        at(TIMING.waitMs + LEASE_MS + 1),
        LEASE_MS,
      );

      // Assess
      expect(next).toMatchObject({
        opener: true,
        sendAt: at(TIMING.waitMs + TIMING.intervalMs).toISOString(),
      });
      expect(next.groupId).not.toBe(opened.groupId);
      expect(takeover).toMatchObject({ status: 'closed', members: [member('evt-open')] });
    });
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
