// The three Lambda entries as deployed: each `functions/*/handler.ts` is imported with a stubbed
// environment, so its AWS composition (awsAdapters -> buildServices -> handler factory) runs
// before any deploy. DynamoDB and SES are real protocol peers on loopback (dynalite,
// aws-ses-v2-local), reached through the SDK's AWS_ENDPOINT_URL_<SERVICE> variables, and so is
// the SMTP relay (smtp-server); SSM and SQS have no emulator and are mocked at the client level.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { CONDITION_IDS } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger.js';
import { configParameterName } from '../../functions/adapters/aws/resource-names.js';
import { ADMIN_API_ROUTES } from '../../functions/admin-api/route-table.js';
import { type EmailConfig, EmailConfigSchema } from '../../functions/core/config/email-config.js';
import type { HttpApiHandler } from '../../functions/shared/http-api.js';
import { localContext } from '../../local-runtime/api-gateway-event.js';
import { sqsEvent, sqsMessage } from '../../local-runtime/sqs-event.js';
import { type ApiRequest, invoke } from '../support/api-gateway.js';
import { storedConfig } from '../support/config-fixtures.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { recordOf } from '../support/ledger-fixtures.js';
import { type SesLocal, startSesLocal } from '../support/ses-local.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

const PREFIX = '/appliance-notifier/clusters';
const CLUSTER = 'handlers';
/** A cluster whose relay answers every MAIL FROM with a temporary failure. */
const RELAY_DOWN = 'handlers-relay-down';
/** A cluster whose relay is the instance metadata address: never connected to, whatever is allowed. */
const METADATA_RELAY = 'handlers-metadata-relay';
const EVENT_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/appliance-notifier-events';
const CLAIMS = { sub: 'admin-1', email: 'admin@example.com', 'cognito:groups': '[fleet-admins]' };
/** A failed event in the delivery log, with its envelope: `{eventId}` of the table's routes. */
const FAILED_EVENT = 'handlers-failed-1';
const FAILED_ENVELOPE = { ...loadSample('version-mismatch'), id: FAILED_EVENT };

const ssm = mockClient(SSMClient);
const sqs = mockClient(SQSClient);
const parameters = new Map<string, string>();

let dynalite: Dynalite;
let ses: SesLocal;
let relay: SmtpTestServer;
let adminApi: HttpApiHandler;
let notify: (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;
let dailyNotice: (event: unknown, context: unknown) => Promise<{ results: { outcome: string }[] }>;

const sesConfig = EmailConfigSchema.parse({
  sender: 'appliance@example.com',
  transport: 'ses',
  adminContacts: 'ops@example.com',
  // One email per event: what this test is about (group emails have tests of their own).
  grouping: { waitSeconds: 0 },
});

beforeAll(async () => {
  [dynalite, ses, relay] = await Promise.all([
    startDynalite(),
    startSesLocal(),
    startSmtpTestServer({ mode: 'plain', onMailFrom: () => '451 4.3.0 Try again later' }),
  ]);
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'replayed-1' });
  await new DynamoDbLedger({
    client: new DynamoDBClient({ ...dynalite.clientConfig }),
    tableName: dynalite.tableName,
  }).record(
    recordOf({
      clusterId: CLUSTER,
      eventId: FAILED_EVENT,
      outcome: 'failed',
      transient: false,
      reason: 'relay refused (550)',
      envelope: FAILED_ENVELOPE,
    }),
  );
  ssm.on(GetParameterCommand).callsFake(({ Name }: { Name: string }) => {
    const value = parameters.get(Name);
    if (value === undefined) throw new ParameterNotFound({ message: `${Name} not found`, $metadata: {} });
    return { Parameter: { Name, Value: value, Version: 1 } };
  });
  ssm.on(PutParameterCommand).callsFake(({ Name, Value }: { Name: string; Value: string }) => {
    parameters.set(Name, Value);
    return { Version: 1 };
  });
  ssm.on(GetParametersByPathCommand).callsFake(() => ({
    Parameters: [...parameters].map(([Name, Value]) => ({ Name, Value })),
  }));
  parameters.set(configParameterName(PREFIX, CLUSTER), JSON.stringify(storedConfig(CLUSTER, sesConfig)));
  const relayConfig = EmailConfigSchema.parse({
    sender: 'appliance@example.com',
    smtp: { host: relay.host, port: relay.port, encryption: 'none' },
    adminContacts: 'ops@example.com',
    // One email per event: what this test is about (group emails have tests of their own).
    grouping: { waitSeconds: 0 },
    dailyNotice: false,
  });
  parameters.set(
    configParameterName(PREFIX, RELAY_DOWN),
    JSON.stringify(storedConfig(RELAY_DOWN, relayConfig)),
  );
  parameters.set(
    configParameterName(PREFIX, METADATA_RELAY),
    JSON.stringify(
      storedConfig(METADATA_RELAY, {
        ...relayConfig,
        smtp: { ...relayConfig.smtp, host: '169.254.169.254', port: 80 },
      } as EmailConfig),
    ),
  );

  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
    AWS_SECRET_ACCESS_KEY: 'local-test-secret',
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.clientConfig.endpoint as string,
    AWS_ENDPOINT_URL_SES: ses.endpoint,
    CONFIG_PARAMETER_PREFIX: PREFIX,
    CONFIG_KMS_KEY_ID: 'alias/appliance-notifier',
    CONFIG_CACHE_TTL_SECONDS: '0',
    LEDGER_TABLE_NAME: dynalite.tableName,
    EVENT_QUEUE_URL,
    EVENT_DLQ_URL: `${EVENT_QUEUE_URL}-dlq`,
    PUBLIC_BASE_URL: 'https://api.example.com',
    ADMIN_PAGE_CLIENT_ID: 'page-client',
    ADMIN_PAGE_ISSUER: 'https://issuer.example.com',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // The test relay is on loopback: in AWS a deployment allows its private relays explicitly
    // (-c allowedRelayCidrs), and 169.254.0.0/16 stays refused even so.
    RELAY_ALLOWED_CIDRS: '127.0.0.0/8',
  });
  ({ handler: adminApi } = await import('../../functions/admin-api/handler.js'));
  ({ handler: notify } = (await import('../../functions/notify/handler.js')) as unknown as {
    handler: typeof notify;
  });
  ({ handler: dailyNotice } = (await import('../../functions/daily-notice/handler.js')) as unknown as {
    handler: typeof dailyNotice;
  });
});

afterAll(async () => {
  ssm.restore();
  sqs.restore();
  await Promise.all([dynalite?.close(), ses?.close(), relay?.close()]);
});

/** A request for a table entry: the path with `{clusterId}` and `{eventId}` filled in, and a body where one is read. */
function requestFor(entry: { method: string; path: string }): ApiRequest {
  return {
    method: entry.method,
    path: entry.path.replace('{clusterId}', CLUSTER).replace('{eventId}', FAILED_EVENT),
    ...(entry.method === 'PUT' ? { body: sesConfig } : {}),
  };
}

describe('admin API handler (functions/admin-api/handler.ts)', () => {
  it.each(Object.entries(ADMIN_API_ROUTES))('serves route table entry %s', async (_id, entry) => {
    const response = await invoke(adminApi, { ...requestFor(entry), claims: CLAIMS });

    expect(response.body.error ?? '').not.toMatch(/^No route for/);
    expect(response.status).not.toBe(404);
    expect(response.status).toBeLessThan(500);
  });

  it.each(Object.entries(ADMIN_API_ROUTES).filter(([, entry]) => entry.access === 'admin'))(
    'answers 401 without a token on admin route %s',
    async (_id, entry) => {
      const response = await invoke(adminApi, requestFor(entry));

      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    },
  );

  it('replays a failed event by SendMessage of its kept envelope to EVENT_QUEUE_URL: 202 queued', async () => {
    // Prepare
    sqs.resetHistory();

    // Act
    const response = await invoke(adminApi, {
      method: 'POST',
      path: `/clusters/${CLUSTER}/deliveries/${FAILED_EVENT}/replay`,
      claims: CLAIMS,
    });

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ eventId: FAILED_EVENT, ok: false, outcome: 'queued' });
    const sent = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.QueueUrl).toBe(EVENT_QUEUE_URL);
    expect(JSON.parse(sent[0]?.MessageBody ?? '')).toEqual(FAILED_ENVELOPE);
  });

  it('reads and writes the configuration through SSM', async () => {
    const response = await invoke(adminApi, {
      method: 'GET',
      path: `/clusters/${CLUSTER}/email-config`,
      claims: CLAIMS,
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ clusterId: CLUSTER, transport: 'ses' });
  });
});

describe('notify handler (functions/notify/handler.ts)', () => {
  const sample = () => loadSample(CONDITION_IDS[0] as (typeof CONDITION_IDS)[number]);
  /** The sample with its own id, cluster and appliance (so that no email folds another). */
  const eventFor = (id: string, clusterId: string) => {
    const event = sample();
    const appliance = { ...event.detail.appliance, hostname: `${id}.example.com` };
    return { ...event, id, detail: { ...event.detail, clusterId, appliance } };
  };
  const deliveries = async (clusterId: string) =>
    (
      await invoke(adminApi, {
        method: 'GET',
        path: `/clusters/${clusterId}/deliveries`,
        claims: CLAIMS,
      })
    ).body.items as Array<Record<string, unknown>>;

  it('sends a sample event through SES and records it in DynamoDB', async () => {
    await ses.clear();
    sqs.resetHistory();

    const response = await notify(
      sqsEvent(sqsMessage(eventFor('handler-test-1', CLUSTER))),
      localContext('notify'),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect((await ses.emails()).map((email) => email.destination.to)).toEqual([['ops@example.com']]);
    expect(await deliveries(CLUSTER)).toContainEqual(
      expect.objectContaining({ eventId: 'handler-test-1', outcome: 'sent' }),
    );
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
  });

  it('fails only the record whose relay fails temporarily, and delays it by the retry policy', async () => {
    await ses.clear();
    sqs.resetHistory();
    const good = sqsMessage(eventFor('handler-batch-good', CLUSTER));
    const failing = sqsMessage(eventFor('handler-batch-relay-down', RELAY_DOWN), { receiveCount: 2 });

    const response = await notify(sqsEvent(good, failing), localContext('notify'));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
    const calls = sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input);
    expect(calls).toEqual([
      {
        QueueUrl: EVENT_QUEUE_URL,
        ReceiptHandle: failing.receiptHandle,
        VisibilityTimeout: expect.any(Number),
      },
    ]);
    // Attempt 2 (ApproximateReceiveCount): the retry policy's 60 s, with jitter down to 75 %.
    const delay = calls[0]?.VisibilityTimeout ?? Number.NaN;
    expect(delay).toBeGreaterThanOrEqual(45);
    expect(delay).toBeLessThanOrEqual(60);
    expect(await ses.emails()).toHaveLength(1);
    expect(await deliveries(CLUSTER)).toContainEqual(
      expect.objectContaining({ eventId: 'handler-batch-good', outcome: 'sent' }),
    );
    const failed = (await deliveries(RELAY_DOWN)).find((item) => item.eventId === 'handler-batch-relay-down');
    expect(failed).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('attempt 2 of 39') });
    // The delay SQS was given is the one the delivery log announces.
    const nextRetry = /next retry at (\S+?):? /.exec(String(failed?.reason))?.[1];
    expect(Date.parse(String(nextRetry)) - Date.parse(String(failed?.at))).toBe(delay * 1000);
  });

  it('fails an event whose relay is at the metadata address for good: no connection, no retry', async () => {
    sqs.resetHistory();
    const message = sqsMessage(eventFor('handler-metadata-relay', METADATA_RELAY), { receiveCount: 1 });

    const response = await notify(sqsEvent(message), localContext('notify'));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
    const failed = (await deliveries(METADATA_RELAY)).find(
      (item) => item.eventId === 'handler-metadata-relay',
    );
    expect(failed).toMatchObject({ outcome: 'failed', transient: false });
    expect(String(failed?.reason)).toMatch(
      /169\.254\.169\.254:80: 169\.254\.169\.254 is the instance metadata service/,
    );
  });

  it('records a body that is not JSON as rejected and does not fail it', async () => {
    sqs.resetHistory();
    const message = sqsMessage('not json: {"detail-type": "Failover', { receiveCount: 1 });

    const response = await notify(sqsEvent(message), localContext('notify'));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await deliveries('default')).toContainEqual(
      expect.objectContaining({ outcome: 'rejected', condition: 'unknown' }),
    );
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
  });
});

describe('daily-notice handler (functions/daily-notice/handler.ts)', () => {
  it('sends every cluster its notice through SES', async () => {
    await ses.clear();

    const run = await dailyNotice({}, localContext('daily-notice'));

    expect(run.results).toContainEqual(expect.objectContaining({ clusterId: CLUSTER, outcome: 'sent' }));
    expect(await ses.emails()).toHaveLength(1);
  });
});
