import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { loadSample } from '../../events/samples.js';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger.js';
import { OutboxMailer } from '../../functions/adapters/local/outbox-mailer.js';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteGrantStore } from '../../functions/adapters/local/sqlite-grant-store.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import { EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { EmailConfigService } from '../../functions/core/config/email-config-service.js';
import { DailyNoticeService } from '../../functions/core/daily-notice/daily-notice-service.js';
import type { EventQueue } from '../../functions/core/notify/event-queue.js';
import { NotifyService } from '../../functions/core/notify/notify-service.js';
import { createDailyNoticeHandler } from '../../functions/daily-notice/app.js';
import { createNotifyHandler, type NotifyRecordOutcome } from '../../functions/notify/app.js';
import { createLogger } from '../../functions/shared/logger.js';
import { localContext } from '../../local-runtime/api-gateway-event.js';
import { sqsEvent, sqsMessage } from '../../local-runtime/sqs-event.js';
import { eventOfDeadLetter, redriveDeadLetters } from '../../ops/redrive.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { memoryConfigHistory } from '../support/memory-config-history.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

// The Lambda handlers as deployed (middy chain, DynamoDB delivery log), with a real relay and
// DynamoDB emulator: what the notify function does with each kind of relay answer, fed SQS
// batches as the event source mapping delivers them.

let dataDir: string;
let dynalite: Dynalite;
let relay: SmtpTestServer;
let notify: ReturnType<typeof createNotifyHandler>;
let dailyNotice: ReturnType<typeof createDailyNoticeHandler>;
let ledger: DynamoDbLedger;
let notifyService: NotifyService;
let database: SqliteDatabase;
const now = new Date('2026-11-28T03:00:00Z');
/** The queue as notify sees it: which receipt handles it asked to see again, after how long. */
const retries: Array<{ receiptHandle: string; delaySeconds: number }> = [];
const deadLettered: Array<{ messageId: string; reason: string }> = [];
const queue: EventQueue = {
  retryLater: async (receiptHandle, delaySeconds) => {
    retries.push({ receiptHandle, delaySeconds });
  },
  deadLetter: async (message, reason) => {
    deadLettered.push({ messageId: message.messageId, reason });
  },
};
const outcomes = new Map<string, NotifyRecordOutcome>();

const event = (patch: Record<string, unknown> = {}) => {
  const sample = loadSample('primary-check-failed');
  return { ...sample, id: randomUUID(), detail: { ...sample.detail, clusterId: 'c1', ...patch } };
};

/** Delivers one queue message with `body` as the event source mapping does; its outcome and the batch answer. */
async function deliver(body: unknown, receiveCount = 1) {
  const message = sqsMessage(body, { receiveCount });
  const response = await notify(sqsEvent(message), localContext('notify'));
  return { message, response, outcome: outcomes.get(message.messageId) };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'notify-'));
  dynalite = await startDynalite();
  relay = await startSmtpTestServer({ mode: 'plain' });
  const log = createLogger({ logLevel: 'SILENT' });
  database = await SqliteDatabase.open({ directory: dataDir });
  const store = new SqliteConfigStore(database);
  const mailers = new TransportMailerFactory({
    ses: () => new OutboxMailer({ directory: join(dataDir, 'outbox') }),
    smtpTimeouts: { connectionMs: 2000, greetingMs: 2000, socketMs: 5000 },
  });
  ledger = new DynamoDbLedger({
    client: new DynamoDBClient(dynalite.clientConfig),
    tableName: dynalite.tableName,
  });
  await new EmailConfigService({
    store,
    grants: new SqliteGrantStore(database),
    history: memoryConfigHistory(),
    mailers,
    clock: () => now,
    log,
  }).save(
    'c1',
    EmailConfigInputSchema.parse({
      sender: 'appliance@example.com',
      smtp: { host: relay.host, port: relay.port, encryption: 'none' },
      adminContacts: 'ops@example.com',
      // One email per event: what this test is about (group emails have tests of their own).
      grouping: { waitSeconds: 0 },
      language: 'de',
    }),
  );
  notifyService = new NotifyService({ store, mailers, ledger, clock: () => now, log });
  notify = createNotifyHandler({
    service: notifyService,
    log,
    queue,
    onRecord: (messageId, outcome) => outcomes.set(messageId, outcome),
  });
  dailyNotice = createDailyNoticeHandler({
    service: new DailyNoticeService({ store, mailers, ledger, clock: () => now, log }),
    log,
  });
});

afterAll(async () => {
  await relay?.close();
  await dynalite?.close();
  database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  relay.reset();
  retries.length = 0;
});

describe('notify Lambda handler (SQS batches) with the DynamoDB delivery log', () => {
  it('sends a German email once, however often the event is delivered', async () => {
    const envelope = event();

    const first = await deliver(envelope);
    const second = await deliver(envelope);

    expect(first.response).toEqual({ batchItemFailures: [] });
    expect(first.outcome).toMatchObject({ ok: true, result: { outcome: 'sent' } });
    expect(second.response).toEqual({ batchItemFailures: [] });
    expect(second.outcome).toMatchObject({ ok: true, result: { outcome: 'duplicate' } });
    expect(relay.messages).toHaveLength(1);
    expect(relay.messages[0]?.subject).toMatch(/^\[KRITISCH\]/);
    expect(retries).toEqual([]);
  });

  it.each(['421 4.3.2 Service not available', '451 4.3.0 Try again later'])(
    'on "%s" fails the record with the retry policy\'s delay, then delivers on the retry',
    async (reply) => {
      relay.setHandlers({ onMailFrom: () => reply });
      const envelope = event({
        appliance: { hostname: `n-${reply.slice(0, 3)}.example.com`, role: 'backup', version: '1' },
      });

      const failed = await deliver(envelope);

      expect(failed.response).toEqual({ batchItemFailures: [{ itemIdentifier: failed.message.messageId }] });
      expect(failed.outcome).toMatchObject({ ok: false, error: { message: expect.stringMatching(/4\.3/) } });
      // Attempt 1: the first delay (30 s) with jitter down to 75 %.
      expect(retries).toEqual([
        { receiptHandle: failed.message.receiptHandle, delaySeconds: expect.any(Number) },
      ]);
      expect(retries[0]?.delaySeconds).toBeGreaterThanOrEqual(22);
      expect(retries[0]?.delaySeconds).toBeLessThanOrEqual(30);
      const [logged] = await ledger
        .listFailed({ clusterId: 'c1' })
        .then((all) => all.filter((r) => r.eventId === envelope.id));
      expect(logged).toMatchObject({ transient: true, reason: expect.stringContaining('attempt 1 of 39') });

      relay.reset();
      const retried = await deliver(envelope, 2);

      expect(retried.response).toEqual({ batchItemFailures: [] });
      expect(retried.outcome).toMatchObject({ ok: true, result: { outcome: 'sent' } });
      expect(relay.messages).toHaveLength(1);
    },
  );

  it('moves an event whose last attempt failed to the dead-letter queue itself, and acknowledges it', async () => {
    relay.setHandlers({ onMailFrom: () => '421 4.3.2 Service not available' });
    const envelope = event({ appliance: { hostname: 'n-last.example.com', role: 'backup', version: '1' } });
    retries.length = 0;

    const last = await deliver(envelope, 39);

    expect(last.response).toEqual({ batchItemFailures: [] });
    expect(retries).toEqual([]);
    expect(deadLettered).toContainEqual({
      messageId: last.message.messageId,
      reason: expect.stringMatching(/^gave up after 39 attempts at .*: replay with/),
    });
    expect(last.outcome).toMatchObject({ ok: true, result: { eventId: envelope.id, outcome: 'failed' } });
    relay.reset();
  });

  it.each(['550 5.7.1 Relaying denied', '554 5.7.1 Rejected'])(
    'records "%s" as failed and acknowledges the record',
    async (reply) => {
      relay.setHandlers({ onMailFrom: () => reply });
      const envelope = event({
        appliance: { hostname: `p-${reply.slice(0, 3)}.example.com`, role: 'backup', version: '1' },
      });

      const { response, outcome } = await deliver(envelope);

      expect(response).toEqual({ batchItemFailures: [] });
      expect(outcome).toMatchObject({
        ok: true,
        result: { outcome: 'failed', reason: expect.stringContaining(reply.slice(0, 3)) },
      });
      expect(retries).toEqual([]);
      const failed = await ledger.listFailed({ clusterId: 'c1' });
      expect(failed).toContainEqual(
        expect.objectContaining({ eventId: envelope.id, transient: false, envelope }),
      );
    },
  );

  it('records a cluster without configuration as failed, with the reason', async () => {
    const envelope = event({ clusterId: 'nobody' });

    const { response, outcome } = await deliver(envelope);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(outcome).toMatchObject({
      ok: true,
      result: { outcome: 'failed', reason: expect.stringContaining('has no email configuration') },
    });
  });

  it('records a body that is not JSON as rejected and acknowledges it', async () => {
    const { response, outcome } = await deliver('{"id": "cut off');

    expect(response).toEqual({ batchItemFailures: [] });
    expect(outcome).toMatchObject({ ok: true, result: { outcome: 'rejected', clusterId: 'default' } });
    expect(retries).toEqual([]);
  });

  it('fails only the failing record of a batch, in the batch answer', async () => {
    const good = sqsMessage(
      event({ appliance: { hostname: 'batch-good.example.com', role: 'backup', version: '1' } }),
    );
    const unconfigured = sqsMessage(event({ clusterId: 'nobody' }));
    const broken = sqsMessage(event({ clusterId: 'c1' }), { receiveCount: 3 });
    const failing = createNotifyHandler({
      service: {
        handle: (input, delivery) =>
          (input as { id?: string }).id === JSON.parse(broken.body).id
            ? Promise.reject(new Error('the store cannot be read'))
            : notifyService.handle(input, delivery),
      },
      log: createLogger({ logLevel: 'SILENT' }),
      queue,
    });

    const response = await failing(sqsEvent(good, unconfigured, broken), localContext('notify'));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: broken.messageId }] });
    // An unexpected error backs off like a temporary failure: attempt 3 waits 120 s (90-120 with jitter).
    expect(retries).toEqual([{ receiptHandle: broken.receiptHandle, delaySeconds: expect.any(Number) }]);
    expect(retries[0]?.delaySeconds).toBeGreaterThanOrEqual(90);
    expect(retries[0]?.delaySeconds).toBeLessThanOrEqual(120);
    expect(relay.messages).toHaveLength(1);
  });
});

describe('daily notice Lambda handler', () => {
  it('sends the notice once per day and throws when the relay fails temporarily', async () => {
    relay.setHandlers({ onMailFrom: () => '451 4.3.0 Try again later' });
    await expect(dailyNotice({}, localContext('daily-notice'))).rejects.toThrow(
      /temporary failure for cluster\(s\) c1/,
    );
    relay.reset();

    const run = await dailyNotice({}, localContext('daily-notice'));
    const again = await dailyNotice({}, localContext('daily-notice'));

    expect(run.results).toEqual([expect.objectContaining({ clusterId: 'c1', outcome: 'sent' })]);
    expect(again.results).toEqual([expect.objectContaining({ clusterId: 'c1', outcome: 'duplicate' })]);
    expect(relay.messages).toHaveLength(1);
  });
});

describe('redrive of the dead-letter queue', () => {
  const sqs = mockClient(SQSClient);
  afterAll(() => sqs.restore());
  const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/notify-dlq';
  const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/notify';

  it('finds the event in both dead-letter formats', () => {
    const envelope = event();

    expect(eventOfDeadLetter(JSON.stringify(envelope))?.id).toBe(envelope.id);
    expect(eventOfDeadLetter(JSON.stringify({ requestContext: {}, requestPayload: envelope }))?.id).toBe(
      envelope.id,
    );
    expect(eventOfDeadLetter('not json')).toBeUndefined();
  });

  it('sends each event back to the notify queue as it was, and deletes only what went back', async () => {
    const ok = event();
    const unlucky = event();
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'm1', ReceiptHandle: 'r1', Body: JSON.stringify({ requestPayload: ok }) },
          { MessageId: 'm2', ReceiptHandle: 'r2', Body: JSON.stringify(unlucky) },
          { MessageId: 'm3', ReceiptHandle: 'r3', Body: 'not an event' },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(DeleteMessageCommand).resolves({});
    sqs.on(SendMessageCommand).callsFake((input: { MessageBody: string }) => {
      if (JSON.parse(input.MessageBody).id === unlucky.id) throw new Error('throttled');
      return { MessageId: 'new' };
    });

    const summary = await redriveDeadLetters({
      sqs: new SQSClient({ region: 'eu-west-1' }),
      queueUrl: DLQ,
      targetQueueUrl: QUEUE,
    });

    expect(summary).toEqual({ received: 3, requeued: 1, failed: 1, skipped: 1 });
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: QUEUE, MessageBody: JSON.stringify(ok) },
      { QueueUrl: QUEUE, MessageBody: JSON.stringify(unlucky) },
    ]);
    expect(sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: DLQ, ReceiptHandle: 'r1' },
    ]);
  });

  it('a sent-back event is a duplicate when it did get through in the meantime', async () => {
    const envelope = event({
      appliance: { hostname: 'redriven.example.com', role: 'backup', version: '1' },
    });
    await deliver(envelope);

    const again = await deliver(eventOfDeadLetter(JSON.stringify(envelope)));

    expect(again.outcome).toMatchObject({ ok: true, result: { outcome: 'duplicate' } });
    expect(relay.messages).toHaveLength(1);
  });
});
