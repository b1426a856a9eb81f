// GET /clusters/{clusterId}/deliveries/{eventId} and POST .../{eventId}/replay. The embedded
// runtime's own admin API (its SQLite stores, queue, notify) against a real SMTP relay; then the
// Lambda's replayer (SQS SendMessage, mocked: no SQS emulator) on the same admin API handler.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { loadSample } from '../../events/samples.js';
import { awsEventReplayer } from '../../functions/adapters/aws/aws-adapters.js';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import { bearerTokenAuthenticator } from '../../functions/shared/auth.js';
import type { LocalRuntime } from '../../local-runtime/server.js';
import { type Handler, invoke } from '../support/api-gateway.js';
import { recordOf } from '../support/ledger-fixtures.js';
import {
  ONE_ATTEMPT,
  type RuntimeWithRelay,
  runtimeApi,
  startRuntimeWithRelay,
} from '../support/runtime-api.js';
import { type TestServices, testServices } from '../support/services.js';
import type { SmtpTestServer } from '../support/smtp-test-server.js';

const CLUSTER = 'replay';
const now = new Date('2026-12-01T09:00:00Z');

describe('the embedded runtime: one record, and the replay of a failed event', () => {
  let started: RuntimeWithRelay | undefined;
  let runtime: LocalRuntime;
  let relay: SmtpTestServer;

  const api = runtimeApi(() => runtime);

  /** The sample of data-sync-stale as a fresh event of this cluster, from an appliance of its own. */
  function freshEvent(hostname: string) {
    const sample = loadSample('data-sync-stale');
    return {
      ...sample,
      id: randomUUID(),
      time: now.toISOString(),
      detail: {
        ...sample.detail,
        clusterId: CLUSTER,
        appliance: { hostname, role: 'primary', version: '24.3.2' },
      },
    };
  }

  /** An event the relay refuses for good (550): recorded failed, with its envelope. */
  async function failedEvent(hostname: string) {
    relay.setHandlers({ onMailFrom: () => '550 5.7.1 Relaying denied' });
    const event = freshEvent(hostname);
    const delivered = await api('POST', '/events/envelope', event);
    expect(delivered.body).toMatchObject({ outcome: 'failed' });
    relay.reset();
    return event;
  }

  beforeAll(async () => {
    started = await startRuntimeWithRelay('admin-replay-', { clock: () => now, ...ONE_ATTEMPT });
    ({ runtime, relay } = started);
    const configured = await api('PUT', `/clusters/${CLUSTER}/email-config`, {
      sender: 'appliance@example.com',
      smtp: { host: relay.host, port: relay.port, encryption: 'none' },
      adminContacts: 'ops@example.com',
      grouping: { waitSeconds: 0 },
    });
    expect([200, 201]).toContain(configured.status);
  });

  afterAll(() => started?.close());

  beforeEach(() => relay.reset());

  it('GET shows one failed record as the list does: with title and severity, without the envelope', async () => {
    // Prepare
    const event = await failedEvent('primary-get.example.com');

    // Act
    const one = await api('GET', `/clusters/${CLUSTER}/deliveries/${event.id}`);
    const list = await api('GET', `/clusters/${CLUSTER}/deliveries?outcome=failed`);

    // Assess
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      clusterId: CLUSTER,
      eventId: event.id,
      condition: 'data-sync-stale',
      outcome: 'failed',
      reason: expect.stringContaining('550'),
      severity: expect.any(String),
      title: expect.any(String),
    });
    expect(one.body).not.toHaveProperty('envelope');
    expect(list.body.items).toContainEqual(one.body);
  });

  it('replays a failed event once the relay works: 200 ok/sent, the record now sent, one email', async () => {
    // Prepare
    const event = await failedEvent('primary-fixed.example.com');

    // Act
    const replay = await api('POST', `/clusters/${CLUSTER}/deliveries/${event.id}/replay`);
    const after = await api('GET', `/clusters/${CLUSTER}/deliveries/${event.id}`);

    // Assess
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({
      eventId: event.id,
      ok: true,
      outcome: 'sent',
      record: after.body,
    });
    expect(after.body).toMatchObject({ eventId: event.id, outcome: 'sent', recipients: ['ops@example.com'] });
    expect(relay.messages).toHaveLength(1);
    expect(relay.messages[0]?.headers['x-appliance-notifier-condition']).toBe('data-sync-stale');

    // A sent event is no longer replayed: 409 names its outcome.
    const again = await api('POST', `/clusters/${CLUSTER}/deliveries/${event.id}/replay`);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe(`Event ${event.id} is sent, not failed: only a failed event is replayed`);
    expect(relay.messages).toHaveLength(1);
    // The audit trail has the replay, by the admin token; the refused one is not in it.
    const audit = await api('GET', `/clusters/${CLUSTER}/audit`);
    const replays = (audit.body.items as Record<string, unknown>[]).filter(
      (entry) =>
        entry.action === 'delivery.replay' && (entry.detail as Record<string, unknown>)?.eventId === event.id,
    );
    expect(replays).toEqual([
      expect.objectContaining({
        actor: 'admin-token',
        detail: { eventId: event.id, outcome: 'sent', ok: true },
      }),
    ]);
  });

  it('says so when the replay fails again: 200 ok false, the relay reply, the record still failed', async () => {
    // Prepare
    const event = await failedEvent('primary-still-broken.example.com');
    relay.setHandlers({ onMailFrom: () => '550 5.7.1 Relaying denied' });

    // Act
    const replay = await api('POST', `/clusters/${CLUSTER}/deliveries/${event.id}/replay`);

    // Assess
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({
      eventId: event.id,
      ok: false,
      outcome: 'failed',
      error: expect.stringContaining('550'),
      record: { eventId: event.id, outcome: 'failed' },
    });
    expect(relay.messages).toHaveLength(0);
  });

  it('answers 404 naming the event and the cluster for an event it has no record of', async () => {
    // Act
    const get = await api('GET', `/clusters/${CLUSTER}/deliveries/no-such-event`);
    const replay = await api('POST', `/clusters/${CLUSTER}/deliveries/no-such-event/replay`);

    // Assess
    expect([get.status, replay.status]).toEqual([404, 404]);
    expect(get.body.error).toBe(`Cluster ${CLUSTER} has no delivery record of event no-such-event`);
    expect(replay.body.error).toBe(get.body.error);
  });
});

describe('the Lambda replayer: SendMessage of the kept envelope to the event queue', () => {
  const TOKEN = 'test-admin-token-0123456789-abcdefgh';
  const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/appliance-notifier-events';
  const sqs = mockClient(SQSClient);
  let dataDir: string;
  let services: TestServices;
  let handler: Handler;
  const call = (method: string, path: string) =>
    invoke(handler, { method, path, headers: { authorization: `Bearer ${TOKEN}` } });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'admin-replay-sqs-'));
    services = await testServices({ dataDir, clock: () => now });
    handler = createAdminApiHandler({
      services,
      authenticator: bearerTokenAuthenticator(TOKEN),
      replayer: awsEventReplayer({ EVENT_QUEUE_URL: QUEUE_URL }),
    });
  });

  afterAll(async () => {
    sqs.restore();
    await services?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'msg-1' });
  });

  it('sends the envelope the record kept to the queue, and answers 202 queued', async () => {
    // Prepare
    const envelope = { ...loadSample('version-mismatch'), id: 'evt-sqs-1' };
    await services.deliveries.record(
      recordOf({
        clusterId: CLUSTER,
        eventId: 'evt-sqs-1',
        outcome: 'failed',
        transient: false,
        reason: 'relay refused (550)',
        envelope,
      }),
    );

    // Act
    const response = await call('POST', `/clusters/${CLUSTER}/deliveries/evt-sqs-1/replay`);

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toEqual({
      eventId: 'evt-sqs-1',
      ok: false,
      outcome: 'queued',
      status: expect.stringContaining('msg-1'),
    });
    const sent = sqs.commandCalls(SendMessageCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.args[0].input.QueueUrl).toBe(QUEUE_URL);
    expect(JSON.parse(sent[0]?.args[0].input.MessageBody ?? '')).toEqual(envelope);
  });

  it('answers 409 and sends nothing for a failed record that kept no envelope, saying why', async () => {
    // Prepare
    await services.deliveries.record(
      recordOf({
        clusterId: CLUSTER,
        eventId: 'evt-no-envelope',
        outcome: 'failed',
        transient: false,
        reason: 'relay refused (550) (the envelope was not kept for a replay: larger than 64 KiB)',
      }),
    );

    // Act
    const response = await call('POST', `/clusters/${CLUSTER}/deliveries/evt-no-envelope/replay`);

    // Assess
    expect(response.status).toBe(409);
    expect(response.body.error).toBe(
      'Event evt-no-envelope failed, but its record kept no envelope to replay (relay refused (550) (the envelope was not kept for a replay: larger than 64 KiB))',
    );
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('answers 501 without a replayer (a handler built without one), after the record checks', async () => {
    // Prepare
    const withoutReplay = createAdminApiHandler({ services, authenticator: bearerTokenAuthenticator(TOKEN) });
    await services.deliveries.record(
      recordOf({ clusterId: CLUSTER, eventId: 'evt-no-replayer', outcome: 'failed', envelope: { id: 'x' } }),
    );

    // Act
    const response = await invoke(withoutReplay, {
      method: 'POST',
      path: `/clusters/${CLUSTER}/deliveries/evt-no-replayer/replay`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });

    // Assess
    expect(response.status).toBe(501);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('answers 409 for an event that did not fail, and 400 for an event id over 256 characters', async () => {
    // Prepare
    await services.deliveries.record(
      recordOf({ clusterId: CLUSTER, eventId: 'evt-folded', outcome: 'folded', envelope: {} }),
    );

    // Act
    const folded = await call('POST', `/clusters/${CLUSTER}/deliveries/evt-folded/replay`);
    const long = await call('GET', `/clusters/${CLUSTER}/deliveries/${'e'.repeat(257)}`);

    // Assess
    expect(folded.status).toBe(409);
    expect(folded.body.error).toBe('Event evt-folded is folded, not failed: only a failed event is replayed');
    expect(long.status).toBe(400);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});
