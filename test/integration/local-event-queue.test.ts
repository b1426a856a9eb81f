// The embedded runtime's event path without notify: PutEvents onto the durable queue, and the
// consumer that hands batches to a stand-in for the notify handler, on real SQLite in a temp dir
// with an injected clock.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { EVENT_SOURCE } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteEventQueue } from '../../functions/adapters/local/sqlite-event-queue.js';
import { LocalEventBus } from '../../local-runtime/event-bus.js';
import { LocalQueueConsumer } from '../../local-runtime/queue-consumer.js';

const START = Date.parse('2026-11-28T03:00:00.000Z');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const sample = loadSample('promotion-pending');
const entry = (detail: object = sample.detail) => ({
  Source: EVENT_SOURCE,
  DetailType: sample['detail-type'],
  Detail: JSON.stringify(detail),
});

type Answer = 'done' | 'not done' | { retryIn: number } | 'throw';
let now: number;
let dataDir: string;
let database: SqliteDatabase;
let queue: SqliteEventQueue;
let consumer: LocalQueueConsumer | undefined;
let bus: LocalEventBus;
let invocations: SQSRecord[][];

/** A stand-in for the notify handler: `answer` decides each record's fate, as notify would. */
function startConsumer(answer: (record: SQSRecord) => Answer, options: { visibility?: number } = {}) {
  const target = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    invocations.push(event.Records);
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const decided = answer(record);
      if (decided === 'throw') throw new Error('the function crashed');
      if (decided === 'done') {
        created.onRecord(record.messageId, {
          ok: true,
          result: { eventId: 'e', clusterId: 'c', outcome: 'sent' },
        });
        continue;
      }
      if (typeof decided === 'object') await queue.retryLater(record.receiptHandle, decided.retryIn);
      created.onRecord(record.messageId, { ok: false, error: new Error('451 4.3.0 Try again later') });
      failures.push({ itemIdentifier: record.messageId });
    }
    return { batchItemFailures: failures };
  };
  const created = new LocalQueueConsumer({
    queue,
    target,
    log: quiet,
    visibilityTimeoutSeconds: options.visibility ?? 600,
    pollIntervalMs: 5,
  });
  consumer = created;
  bus = new LocalEventBus({ queue, consumer: created, clock: () => new Date(now), log: quiet });
  created.start();
  return created;
}

const delivered = () => invocations.flat();
const settle = () => (consumer as LocalQueueConsumer).idle(5000);

beforeEach(async () => {
  now = START;
  invocations = [];
  dataDir = await mkdtemp(join(tmpdir(), 'local-event-queue-'));
  database = await SqliteDatabase.open({ directory: dataDir });
  queue = new SqliteEventQueue({ database, clock: () => new Date(now), maxReceiveCount: 3 });
});

afterEach(async () => {
  await consumer?.stop();
  consumer = undefined;
  database.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('PutEvents onto the durable queue', () => {
  it('answers with event ids once the entries are committed, before notify has seen them', async () => {
    // Prepare: a consumer that is not started yet, so nothing can have been delivered.
    const idle = new LocalQueueConsumer({
      queue,
      target: async () => ({ batchItemFailures: [] }),
      log: quiet,
      visibilityTimeoutSeconds: 60,
    });
    bus = new LocalEventBus({ queue, consumer: idle, clock: () => new Date(now), log: quiet });

    // Act
    const result = await bus.putEvents([entry(), entry()]);
    const reopened = await SqliteDatabase.open({ directory: dataDir });
    const onDisk = await new SqliteEventQueue({ database: reopened, clock: () => new Date(now) }).receive(
      10,
      60,
    );
    reopened.close();

    // Assess
    expect(result).toEqual({
      FailedEntryCount: 0,
      Entries: [{ EventId: expect.any(String) }, { EventId: expect.any(String) }],
    });
    expect(onDisk.map((message) => JSON.parse(message.body).id)).toEqual(
      result.Entries.map((e) => (e as { EventId: string }).EventId),
    );
    expect(JSON.parse(onDisk[0]?.body ?? '')).toMatchObject({
      source: EVENT_SOURCE,
      'detail-type': sample['detail-type'],
      detail: sample.detail,
      time: new Date(START).toISOString().replace('.000Z', 'Z'),
    });
  });

  it('accepts but does not queue an event no rule matches, and refuses one over the queue limit', async () => {
    startConsumer(() => 'done');
    // Within PutEvents' 256 KB for the entry, but the envelope around it is larger than a message may be.
    const base = entry();
    const room = 256 * 1024 - base.Source.length - base.DetailType.length - base.Detail.length;
    const oversized = entry({ ...sample.detail, padding: 'x'.repeat(room - 20) });
    expect(
      Buffer.byteLength(oversized.Detail) + base.Source.length + base.DetailType.length,
    ).toBeLessThanOrEqual(256 * 1024);

    const result = await bus.putEvents([
      { Source: 'some.other.source', DetailType: 'Whatever', Detail: '{}' },
      oversized,
    ]);

    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries[0]).toEqual({ EventId: expect.any(String) });
    expect(result.Entries[1]).toEqual({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: expect.stringMatching(/256 KiB/),
    });
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('reports InternalFailure for every entry when the queue cannot take them', async () => {
    startConsumer(() => 'done');
    database.connection.exec('DROP TABLE queue_message');

    const result = await bus.putEvents([entry(), entry()]);

    expect(result.FailedEntryCount).toBe(2);
    expect(result.Entries).toEqual([
      { ErrorCode: 'InternalFailure', ErrorMessage: expect.stringMatching(/could not be queued/) },
      { ErrorCode: 'InternalFailure', ErrorMessage: expect.stringMatching(/could not be queued/) },
    ]);
  });
});

describe('the consumer (the event source mapping)', () => {
  it('hands notify batches of at most 10 SQS records and deletes each one it reports done', async () => {
    startConsumer(() => 'done');

    for (let i = 0; i < 3; i++) await bus.putEvents(Array.from({ length: 9 }, () => entry()));
    await settle();

    const ids = delivered().map((record) => JSON.parse(record.body).id);
    expect(ids).toHaveLength(27);
    expect(new Set(ids).size).toBe(27);
    expect(Math.max(...invocations.map((batch) => batch.length))).toBeLessThanOrEqual(10);
    expect(delivered().every((record) => record.attributes.ApproximateReceiveCount === '1')).toBe(true);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('delivers a record notify failed again after the delay notify set, as the next receive', async () => {
    let calls = 0;
    startConsumer(() => (++calls === 1 ? { retryIn: 7 } : 'done'));

    await bus.putEvents([entry()]);
    await settle();
    now += 6_999;
    await new Promise((done) => setTimeout(done, 30));
    const beforeTheDelay = delivered().length;
    now += 1;
    await settle();

    expect(beforeTheDelay).toBe(1);
    const [one, two] = delivered();
    expect(delivered()).toHaveLength(2);
    expect(two?.messageId).toBe(one?.messageId);
    expect(two?.receiptHandle).not.toBe(one?.receiptHandle);
    expect(two?.attributes.ApproximateReceiveCount).toBe('2');
    expect(two?.attributes.SentTimestamp).toBe(String(START));
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('dead-letters a message after maxReceiveCount receives', async () => {
    startConsumer(() => ({ retryIn: 1 }));

    await bus.putEvents([entry()]);
    for (let i = 0; i < 4; i++) {
      await settle();
      now += 1000;
    }
    await settle();

    expect(delivered().map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3']);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 1 });
  });

  it('keeps a batch whose invocation threw invisible until its visibility timeout ends', async () => {
    let calls = 0;
    startConsumer(() => (++calls === 1 ? 'throw' : 'done'), { visibility: 90 });

    await bus.putEvents([entry()]);
    await settle();
    now += 89_000;
    await new Promise((done) => setTimeout(done, 30));
    const beforeTheTimeout = delivered().length;
    now += 1000;
    await settle();

    expect(beforeTheTimeout).toBe(1);
    expect(delivered()).toHaveLength(2);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('answers a waiting caller with the first attempt, or nothing if it takes longer than the wait', async () => {
    const gate: { open?: () => void } = {};
    const opened = new Promise<void>((resolve) => {
      gate.open = resolve;
    });
    let calls = 0;
    const target = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      calls++;
      if (calls === 2) await opened;
      for (const record of event.Records) {
        slow.onRecord(record.messageId, {
          ok: true,
          result: { eventId: 'e', clusterId: 'c', outcome: 'sent' },
        });
      }
      return { batchItemFailures: [] };
    };
    const slow = new LocalQueueConsumer({
      queue,
      target,
      log: quiet,
      visibilityTimeoutSeconds: 60,
      pollIntervalMs: 5,
      concurrency: 1,
    });
    consumer = slow;
    bus = new LocalEventBus({ queue, consumer: slow, clock: () => new Date(now), log: quiet });
    slow.start();

    const [quick] = await bus.deliver([sample], 2000);
    const [late] = await bus.deliver([sample], 50);
    gate.open?.();

    expect(quick?.outcome).toEqual({ ok: true, result: expect.objectContaining({ outcome: 'sent' }) });
    expect(late).toEqual({ messageId: expect.any(String) });
  });
});

describe('after a crash', () => {
  it('makes what the dead process was processing visible at once, and leaves scheduled retries be', async () => {
    // Prepare: a process received three messages, scheduled a retry for one, then died.
    const [processing, retrying, waiting] = await queue.send(['a', 'b', 'c']);
    const received = await queue.receive(2, 600);
    const retry = received.find((message) => message.messageId === retrying) ?? received[1];
    await queue.retryLater(retry?.receiptHandle ?? '', 300);

    // Act
    const recovered = await queue.recoverAbandoned();
    const again = await queue.receive(10, 600);

    // Assess
    expect(received.map((m) => m.messageId)).toEqual([processing, retrying]);
    expect(recovered).toBe(1);
    expect(again.map((m) => [m.messageId, m.receiveCount])).toEqual([
      [processing, 2],
      [waiting, 1],
    ]);
  });
});
