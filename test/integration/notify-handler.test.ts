import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { loadSample } from '../../events/samples.js';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger.js';
import { OutboxMailer } from '../../functions/adapters/local/outbox-mailer.js';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import { EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { EmailConfigService } from '../../functions/core/config/email-config-service.js';
import { DailyNoticeService } from '../../functions/core/daily-notice/daily-notice-service.js';
import { NotifyService } from '../../functions/core/notify/notify-service.js';
import { createDailyNoticeHandler } from '../../functions/daily-notice/app.js';
import { createNotifyHandler } from '../../functions/notify/app.js';
import { createLogger } from '../../functions/shared/logger.js';
import { localContext } from '../../local-runtime/api-gateway-event.js';
import { eventOfDeadLetter, redriveDeadLetters } from '../../ops/redrive.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

// The Lambda handlers as deployed (middy chain, DynamoDB delivery log), with a real relay and
// DynamoDB emulator: what the notify function does with each kind of relay answer.

let dataDir: string;
let dynalite: Dynalite;
let relay: SmtpTestServer;
let notify: ReturnType<typeof createNotifyHandler>;
let dailyNotice: ReturnType<typeof createDailyNoticeHandler>;
let ledger: DynamoDbLedger;
let database: SqliteDatabase;
const now = new Date('2026-11-28T03:00:00Z');

const event = (patch: Record<string, unknown> = {}) => {
  const sample = loadSample('primary-check-failed');
  return { ...sample, id: randomUUID(), detail: { ...sample.detail, clusterId: 'c1', ...patch } };
};

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
  await new EmailConfigService({ store, mailers, clock: () => now, log }).save(
    'c1',
    EmailConfigInputSchema.parse({
      sender: 'appliance@example.com',
      smtp: { host: relay.host, port: relay.port, encryption: 'none' },
      adminContacts: 'ops@example.com',
      language: 'de',
    }),
  );
  notify = createNotifyHandler({
    service: new NotifyService({ store, mailers, ledger, clock: () => now, log }),
    log,
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

beforeEach(() => relay.reset());

describe('notify Lambda handler with the DynamoDB delivery log', () => {
  it('sends a German email once, however often the event is delivered', async () => {
    const envelope = event();

    const first = await notify(envelope, localContext('notify'));
    const second = await notify(envelope, localContext('notify'));

    expect(first).toMatchObject({ outcome: 'sent' });
    expect(second).toMatchObject({ outcome: 'duplicate' });
    expect(relay.messages).toHaveLength(1);
    expect(relay.messages[0]?.subject).toMatch(/^\[KRITISCH\]/);
  });

  it.each(['421 4.3.2 Service not available', '451 4.3.0 Try again later'])(
    'throws on "%s" so that the platform retries, then delivers on the retry',
    async (reply) => {
      relay.setHandlers({ onMailFrom: () => reply });
      const envelope = event({
        appliance: { hostname: `n-${reply.slice(0, 3)}.example.com`, role: 'backup', version: '1' },
      });

      await expect(notify(envelope, localContext('notify'))).rejects.toThrow(/temporary|4\.3/);
      relay.reset();
      const retried = await notify(envelope, localContext('notify'));

      expect(retried).toMatchObject({ outcome: 'sent' });
      expect(relay.messages).toHaveLength(1);
    },
  );

  it.each(['550 5.7.1 Relaying denied', '554 5.7.1 Rejected'])(
    'records "%s" as failed without throwing',
    async (reply) => {
      relay.setHandlers({ onMailFrom: () => reply });
      const envelope = event({
        appliance: { hostname: `p-${reply.slice(0, 3)}.example.com`, role: 'backup', version: '1' },
      });

      const result = await notify(envelope, localContext('notify'));

      expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringContaining(reply.slice(0, 3)) });
      const failed = await ledger.listFailed({ clusterId: 'c1' });
      expect(failed).toContainEqual(
        expect.objectContaining({ eventId: envelope.id, transient: false, envelope }),
      );
    },
  );

  it('records a cluster without configuration as failed, with the reason', async () => {
    const envelope = event({ clusterId: 'nobody' });

    const result = await notify(envelope, localContext('notify'));

    expect(result).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining('has no email configuration'),
    });
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
  const lambda = mockClient(LambdaClient);
  afterAll(() => {
    sqs.restore();
    lambda.restore();
  });

  it('finds the event in both dead-letter formats', () => {
    const envelope = event();

    expect(eventOfDeadLetter(JSON.stringify(envelope))?.id).toBe(envelope.id);
    expect(eventOfDeadLetter(JSON.stringify({ requestContext: {}, requestPayload: envelope }))?.id).toBe(
      envelope.id,
    );
    expect(eventOfDeadLetter('not json')).toBeUndefined();
  });

  it('invokes the function with the original event and deletes only what succeeded', async () => {
    const ok = event();
    const bad = event();
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'm1', ReceiptHandle: 'r1', Body: JSON.stringify({ requestPayload: ok }) },
          { MessageId: 'm2', ReceiptHandle: 'r2', Body: JSON.stringify(bad) },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(DeleteMessageCommand).resolves({});
    lambda
      .on(InvokeCommand)
      .callsFake((input: { Payload: Uint8Array }) =>
        JSON.parse(Buffer.from(input.Payload).toString()).id === ok.id
          ? { StatusCode: 200, Payload: Buffer.from('{"outcome":"sent"}') }
          : { StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('{"errorMessage":"451"}') },
      );

    const summary = await redriveDeadLetters({
      sqs: new SQSClient({ region: 'eu-west-1' }),
      lambda: new LambdaClient({ region: 'eu-west-1' }),
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      functionName: 'notify',
    });

    expect(summary).toEqual({ received: 2, replayed: 1, failed: 1, skipped: 0 });
    expect(sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle)).toEqual([
      'r1',
    ]);
  });
});
