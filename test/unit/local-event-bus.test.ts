import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadSample } from '../../events/samples.js';
import { LocalEventBus } from '../../local-runtime/event-bus.js';

const NOW = new Date('2026-11-28T03:00:00.000Z');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const envelope = loadSample('promotion-pending');

/**
 * A stand-in for the notify handler: each delivery is answered by the next step, which sees the
 * record and the bus (to ask for a retry, or report an outcome, as the handler does).
 */
type Step = (record: SQSRecord, bus: LocalEventBus) => Promise<'done' | 'not done'>;
function fakeNotify(steps: Step[]) {
  const records: SQSRecord[] = [];
  let bus: LocalEventBus | undefined;
  const target = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const record = event.Records[0] as SQSRecord;
    records.push(record);
    const step = steps[records.length - 1] ?? steps[steps.length - 1];
    const answer = await (step as Step)(record, bus as LocalEventBus);
    return { batchItemFailures: answer === 'done' ? [] : [{ itemIdentifier: record.messageId }] };
  };
  return { records, target, attach: (created: LocalEventBus) => (bus = created) };
}

const retryIn =
  (seconds: number): Step =>
  async (record, bus) => {
    await bus.queue.retryLater(record.receiptHandle, seconds);
    bus.onRecord(record.messageId, { ok: false, error: new Error('451 4.3.0 Try again later') });
    return 'not done';
  };
const succeed: Step = async (record, bus) => {
  bus.onRecord(record.messageId, {
    ok: true,
    result: { eventId: envelope.id, clusterId: 'c1', outcome: 'sent', messageId: '<m@x>' },
  });
  return 'done';
};

describe('the embedded runtime event bus as the queue in front of notify', () => {
  let bus: LocalEventBus | undefined;
  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    bus?.close();
    jest.useRealTimers();
  });

  it('hands notify an SQS record with the whole event as its body, and answers with the outcome', async () => {
    const notify = fakeNotify([succeed]);
    bus = new LocalEventBus({ target: notify.target, clock: () => NOW, log: quiet });
    notify.attach(bus);

    const delivery = await bus.deliver(envelope);

    expect(delivery).toEqual({ ok: true, result: expect.objectContaining({ outcome: 'sent' }) });
    expect(notify.records).toHaveLength(1);
    expect(JSON.parse(notify.records[0]?.body ?? '')).toEqual(envelope);
    expect(notify.records[0]?.attributes.ApproximateReceiveCount).toBe('1');
  });

  it('delivers a record that is not done again after the delay notify asked for, as the next receive', async () => {
    const notify = fakeNotify([retryIn(7), succeed]);
    bus = new LocalEventBus({ target: notify.target, clock: () => NOW, log: quiet });
    notify.attach(bus);

    const first = await bus.deliver(envelope);
    await jest.advanceTimersByTimeAsync(6_999);
    const beforeTheDelay = notify.records.length;
    await jest.advanceTimersByTimeAsync(1);

    expect(first).toEqual({ ok: false, error: '451 4.3.0 Try again later' });
    expect(beforeTheDelay).toBe(1);
    expect(notify.records).toHaveLength(2);
    const [one, two] = notify.records;
    expect(two?.messageId).toBe(one?.messageId);
    expect(two?.receiptHandle).not.toBe(one?.receiptHandle);
    expect(two?.attributes.ApproximateReceiveCount).toBe('2');
    expect(two?.body).toBe(one?.body);
  });

  it('gives up after maxAttempts deliveries (SQS would dead-letter the message)', async () => {
    const notify = fakeNotify([retryIn(1)]);
    bus = new LocalEventBus({ target: notify.target, clock: () => NOW, log: quiet, maxAttempts: 3 });
    notify.attach(bus);

    await bus.deliver(envelope);
    await jest.advanceTimersByTimeAsync(60_000);

    expect(notify.records.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3']);
  });

  it('retries on the retry policy when notify failed the record without a delay, or failed the batch', async () => {
    const notify = fakeNotify([
      async () => 'not done',
      async () => {
        throw new Error('the function crashed');
      },
      succeed,
    ]);
    bus = new LocalEventBus({ target: notify.target, clock: () => NOW, log: quiet });
    notify.attach(bus);

    await bus.deliver(envelope);
    // Attempt 1: 22.5-30 s.
    await jest.advanceTimersByTimeAsync(30_000);
    const afterFirstDelay = notify.records.length;
    // Attempt 2: 45-60 s.
    await jest.advanceTimersByTimeAsync(60_000);

    expect(afterFirstDelay).toBe(2);
    expect(notify.records).toHaveLength(3);
  });

  it('does not retry a replay (retry: false) and refuses a receipt handle that is no longer in flight', async () => {
    const notify = fakeNotify([retryIn(1)]);
    bus = new LocalEventBus({ target: notify.target, clock: () => NOW, log: quiet });
    notify.attach(bus);

    const replay = await bus.deliver(envelope, { retry: false });
    await jest.advanceTimersByTimeAsync(60_000);

    expect(replay.ok).toBe(false);
    expect(notify.records).toHaveLength(1);
    await expect(bus.queue.retryLater(notify.records[0]?.receiptHandle ?? '', 1)).rejects.toThrow(
      /receipt handle/,
    );
  });
});
