// The daily notice across clusters, with the DynamoDB delivery log (dynalite) and real relays on
// loopback: one cluster's broken configuration, slow relay or bug is that cluster's failure, the
// others get their notice without waiting for it, and however the run is retried or doubled,
// each cluster gets one notice a day.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDbLedger } from '../../functions/adapters/aws/dynamodb-ledger.js';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import type { ConfigStore } from '../../functions/core/config/config-store.js';
import { EmailConfigSchema } from '../../functions/core/config/email-config.js';
import {
  CLUSTER_START_MIN_MS,
  DailyNoticeService,
  SEND_FINISH_MARGIN_MS,
} from '../../functions/core/daily-notice/daily-notice-service.js';
import { SEND_DEADLINE_MS } from '../../functions/core/mail/deadlines.js';
import type { MailerFactory } from '../../functions/core/mail/mailer.js';
import { createDailyNoticeHandler, DailyNoticeRetryError } from '../../functions/daily-notice/app.js';
import { createLogger } from '../../functions/shared/logger.js';
import { localContext } from '../../local-runtime/api-gateway-event.js';
import { storedConfig } from '../support/config-fixtures.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import {
  type ReceivedMessage,
  type SlowSmtpServer,
  type SmtpTestServer,
  startSlowSmtpServer,
  startSmtpTestServer,
} from '../support/smtp-test-server.js';

const now = new Date('2026-11-28T03:00:00Z');
const log = createLogger({ logLevel: 'SILENT' });

let dataDir: string;
let dynalite: Dynalite;
let relay: SmtpTestServer;
const databases: SqliteDatabase[] = [];
/** When each message reached `relay` (Date.now()), by recipient. */
const arrivals = new Map<string, number>();

const recipientOf = (clusterId: string) => `ops+${clusterId}@example.com`;
const recordArrival = (message: ReceivedMessage) => {
  for (const to of message.rcptTo) arrivals.set(to, Date.now());
  return undefined;
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'daily-notice-'));
  dynalite = await startDynalite();
  relay = await startSmtpTestServer({ mode: 'plain', onData: recordArrival });
});

afterAll(async () => {
  for (const database of databases) database.close();
  await relay?.close();
  await dynalite?.close();
  await rm(dataDir, { recursive: true, force: true });
});

interface Fleet {
  service: DailyNoticeService;
  handler: ReturnType<typeof createDailyNoticeHandler>;
  ledger: DynamoDbLedger;
}

/**
 * Clusters with their own configuration directory and ledger table, each cluster sending to
 * `relay` (or to the port given) with the daily notice on; `broken` ones hold a document the
 * store refuses to read.
 */
async function fleet(options: {
  clusters: Array<string | { id: string; port: number }>;
  broken?: string[];
  store?: (store: ConfigStore) => ConfigStore;
  mailers?: (mailers: MailerFactory) => MailerFactory;
  concurrency?: number;
  clock?: () => Date;
}): Promise<Fleet> {
  const directory = await mkdtemp(join(dataDir, 'config-'));
  const database = await SqliteDatabase.open({ directory });
  databases.push(database);
  const files = new SqliteConfigStore(database);
  for (const cluster of options.clusters) {
    const { id, port } = typeof cluster === 'string' ? { id: cluster, port: relay.port } : cluster;
    const config = EmailConfigSchema.parse({
      sender: 'appliance@example.com',
      smtp: { host: '127.0.0.1', port, encryption: 'none' },
      adminContacts: recipientOf(id),
      dailyNotice: true,
    });
    await files.put(storedConfig(id, config));
  }
  for (const id of options.broken ?? []) {
    // Hand-edited, or written by an older version: the sender is no address at all.
    const document = {
      schemaVersion: 1,
      clusterId: id,
      updatedAt: now.toISOString(),
      config: { sender: 'nobody' },
    };
    database.connection
      .prepare('INSERT INTO email_config (cluster_id, document) VALUES (?, ?)')
      .run(id, JSON.stringify(document));
  }
  const ledger = new DynamoDbLedger({ client: dynalite.client, tableName: await dynalite.createTable() });
  const relayMailers = new TransportMailerFactory({
    ses: () => {
      throw new Error('no SES here');
    },
    smtpTimeouts: { connectionMs: 2000, greetingMs: 2000, socketMs: 5000 },
    smtpDeadlineMs: 5000,
  });
  const service = new DailyNoticeService({
    store: options.store ? options.store(files) : files,
    mailers: options.mailers ? options.mailers(relayMailers) : relayMailers,
    ledger,
    clock: options.clock ?? (() => now),
    log,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
  });
  return { service, handler: createDailyNoticeHandler({ service, log }), ledger };
}

/** Resolves once `condition` holds, or after `timeoutMs` anyway. */
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
}

const notices = (...clusterIds: string[]) =>
  relay.messages.filter((m) => clusterIds.some((id) => m.rcptTo.includes(recipientOf(id))));

describe('daily notice across clusters', () => {
  it('serves the clusters around one whose stored configuration cannot be read, and reports that one', async () => {
    // Prepare: sorted, the broken cluster comes between the two others.
    const { handler, ledger } = await fleet({ clusters: ['bad-a', 'bad-c'], broken: ['bad-b'] });

    // Act
    const run = await handler({}, localContext('daily-notice'));

    // Assess
    expect(run.results).toEqual([
      expect.objectContaining({ clusterId: 'bad-a', outcome: 'sent' }),
      {
        clusterId: 'bad-b',
        outcome: 'failed',
        transient: false,
        reason: expect.stringMatching(/^the stored email configuration could not be read: .*is invalid/),
      },
      expect.objectContaining({ clusterId: 'bad-c', outcome: 'sent' }),
    ]);
    expect(run.retryable).toEqual([]);
    expect(notices('bad-a', 'bad-c')).toHaveLength(2);
    const [record] = await ledger.list('bad-b', { limit: 10 });
    expect(record).toMatchObject({
      eventId: 'daily-notice:bad-b:2026-11-28',
      condition: 'daily-notice',
      outcome: 'failed',
      transient: false,
      reason: expect.stringContaining('could not be read'),
    });
  });

  it('reports a bug in one cluster’s notice as that cluster’s failure', async () => {
    // Prepare: the mailer factory trips over the configuration of one cluster.
    const { service } = await fleet({
      clusters: ['bug-a', 'bug-b', 'bug-c'],
      mailers: (mailers) => ({
        forConfig: (config, context) => {
          if (context.clusterId === 'bug-b')
            throw new TypeError("Cannot read properties of undefined (reading 'host')");
          return mailers.forConfig(config, context);
        },
      }),
    });

    // Act
    const run = await service.run();

    // Assess
    expect(run.results.map((r) => [r.clusterId, r.outcome, r.transient])).toEqual([
      ['bug-a', 'sent', undefined],
      ['bug-b', 'failed', false],
      ['bug-c', 'sent', undefined],
    ]);
    expect(run.results[1]?.reason).toBe(
      "the notice could not be sent: Cannot read properties of undefined (reading 'host')",
    );
    expect(notices('bug-a', 'bug-c')).toHaveLength(2);
  });

  it('does not hold a cluster’s notice behind another cluster’s slow relay', async () => {
    // Prepare: the slow relay confirms its message only once the fast cluster's notice arrived
    // (or after 2 s). Served one after the other, the slow cluster (sorted first) would finish
    // before the fast one even started.
    const slow: SlowSmtpServer = await startSlowSmtpServer({
      replyDelayMs: 20,
      beforeMessageReply: () => until(() => arrivals.has(recipientOf('slow-b')), 2000),
    });
    const { handler } = await fleet({ clusters: [{ id: 'slow-a', port: slow.port }, 'slow-b'] });

    // Act
    const run = await handler({}, localContext('daily-notice'));
    await slow.close();

    // Assess
    expect(run.results.map((r) => [r.clusterId, r.outcome])).toEqual([
      ['slow-a', 'sent'],
      ['slow-b', 'sent'],
    ]);
    const fastArrived = arrivals.get(recipientOf('slow-b'));
    const [slowFinished] = slow.confirmedAt;
    expect(fastArrived).toBeDefined();
    expect(slowFinished).toBeDefined();
    expect(fastArrived).toBeLessThanOrEqual(slowFinished ?? 0);
  });

  it('fails the invocation naming the clusters that failed, and sends nothing twice when Lambda retries it', async () => {
    // Prepare: one cluster's configuration cannot be read once (a connection reset), and one
    // relay refuses one recipient temporarily.
    let resets = 1;
    const { handler } = await fleet({
      clusters: ['retry-a', 'retry-b', 'retry-c'],
      store: (store) => ({
        listClusterIds: () => store.listClusterIds(),
        delete: (clusterId) => store.delete(clusterId),
        put: (document) => store.put(document),
        get: async (clusterId) => {
          if (clusterId === 'retry-a' && resets-- > 0) {
            throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
          }
          return store.get(clusterId);
        },
      }),
    });
    relay.setHandlers({
      onData: (message) =>
        message.rcptTo.includes(recipientOf('retry-c'))
          ? '451 4.3.0 Try again later'
          : recordArrival(message),
    });

    // Act: the first run fails for two clusters, Lambda runs it again, and once more.
    const first = await handler({}, localContext('daily-notice')).then(
      () => undefined,
      (error: unknown) => error,
    );
    relay.setHandlers({ onData: recordArrival });
    const second = await handler({}, localContext('daily-notice'));
    const third = await handler({}, localContext('daily-notice'));

    // Assess
    expect(first).toBeInstanceOf(DailyNoticeRetryError);
    expect((first as Error).message).toBe('temporary failure for cluster(s) retry-a, retry-c');
    const firstRun = (first as DailyNoticeRetryError).run;
    expect(firstRun.retryable).toEqual(['retry-a', 'retry-c']);
    // retry-b was served although retry-a failed before it.
    expect(firstRun.results.map((r) => [r.clusterId, r.outcome])).toEqual([
      ['retry-a', 'failed'],
      ['retry-b', 'sent'],
      ['retry-c', 'failed'],
    ]);
    expect(firstRun.results[0]?.reason).toMatch(
      /^temporary, will be retried: the stored email configuration could not be read: read ECONNRESET/,
    );
    expect(second.results.map((r) => [r.clusterId, r.outcome])).toEqual([
      ['retry-a', 'sent'],
      ['retry-b', 'duplicate'],
      ['retry-c', 'sent'],
    ]);
    expect(third.results.every((r) => r.outcome === 'duplicate')).toBe(true);
    // retry-b went out in the first run, the two others in the second: one notice each.
    expect(
      notices('retry-a', 'retry-b', 'retry-c')
        .map((m) => m.rcptTo)
        .sort(),
    ).toEqual([[recipientOf('retry-a')], [recipientOf('retry-b')], [recipientOf('retry-c')]]);
  });

  it('sends each notice once when two runs overlap', async () => {
    // Prepare
    const clusters = ['twice-a', 'twice-b', 'twice-c', 'twice-d', 'twice-e'];
    const { handler } = await fleet({ clusters });

    // Act
    const runs = await Promise.all([
      handler({}, localContext('daily-notice')),
      handler({}, localContext('daily-notice')),
    ]);

    // Assess: every cluster sent by exactly one of the runs, skipped as a duplicate by the other.
    for (const clusterId of clusters) {
      const outcomes = runs.map((run) => run.results.find((r) => r.clusterId === clusterId)?.outcome).sort();
      expect(outcomes).toEqual(['duplicate', 'sent']);
    }
    expect(notices(...clusters)).toHaveLength(clusters.length);
  });

  it('sends only the failed notices again when Lambda retries a forced run (same request id)', async () => {
    // Prepare: a clock that moves, so that only the request id can tie the retry to its run.
    let tick = 0;
    const { handler } = await fleet({
      clusters: ['force-a', 'force-b'],
      clock: () => new Date(now.getTime() + 1000 * tick++),
    });
    relay.setHandlers({
      onData: (message) =>
        message.rcptTo.includes(recipientOf('force-b'))
          ? '451 4.3.0 Try again later'
          : recordArrival(message),
    });
    const invocation = localContext('daily-notice');

    // Act: the forced run fails for force-b; Lambda retries it with the same request id; an admin
    // then sends again (a new invocation).
    const first = await handler({ force: true }, invocation).then(
      () => undefined,
      (error: unknown) => error,
    );
    relay.setHandlers({ onData: recordArrival });
    const retry = await handler({ force: true }, invocation);
    const again = await handler({ force: true }, localContext('daily-notice'));

    // Assess
    expect((first as Error).message).toBe('temporary failure for cluster(s) force-b');
    expect(retry.results.map((r) => [r.clusterId, r.outcome])).toEqual([
      ['force-a', 'duplicate'],
      ['force-b', 'sent'],
    ]);
    expect(again.results.map((r) => r.outcome)).toEqual(['sent', 'sent']);
    expect(notices('force-a')).toHaveLength(2);
    expect(notices('force-b')).toHaveLength(2);
  });

  it('begins no cluster the invocation has too little time left for: the run fails and the retry sends it', async () => {
    // Prepare: one cluster at a time; once the first notice reached the relay, the invocation
    // has less than a cluster's budget left.
    let left = 200_000;
    const { handler } = await fleet({ clusters: ['late-a', 'late-b'], concurrency: 1 });
    relay.setHandlers({
      onData: (message) => {
        left = CLUSTER_START_MIN_MS - 1;
        return recordArrival(message);
      },
    });
    const nearlyOver = { ...localContext('daily-notice'), getRemainingTimeInMillis: () => left };

    // Act
    const first = await handler({}, nearlyOver).then(
      () => undefined,
      (error: unknown) => error,
    );
    relay.setHandlers({ onData: recordArrival });
    const retry = await handler({}, localContext('daily-notice'));

    // Assess
    expect((first as Error).message).toBe('temporary failure for cluster(s) late-b');
    const firstRun = (first as DailyNoticeRetryError).run;
    expect(firstRun.results[1]?.reason).toMatch(
      /^temporary, will be retried: not started, only \d+ s of the invocation were left$/,
    );
    expect(retry.results.map((r) => [r.clusterId, r.outcome])).toEqual([
      ['late-a', 'duplicate'],
      ['late-b', 'sent'],
    ]);
    expect(notices('late-a')).toHaveLength(1);
    expect(notices('late-b')).toHaveLength(1);
  });

  it('cuts a send’s deadline to what the invocation has left, less the margin for the ledger writes', async () => {
    // Prepare: a mailer that records the deadline each send was given.
    const given: Array<number | undefined> = [];
    const { handler } = await fleet({
      clusters: ['cut-a'],
      mailers: () => ({
        forConfig: async () => ({
          send: async (message, options = {}) => {
            given.push(options.deadlineMs);
            return { messageId: '<cut@test>', accepted: message.to, rejected: [], destination: 'test' };
          },
        }),
      }),
    });
    const context = (leftMs: number) => ({
      ...localContext('daily-notice'),
      getRemainingTimeInMillis: () => leftMs,
    });

    // Act: plenty of time, then a forced run with 45 s left.
    await handler({}, context(290_000));
    await handler({ force: true }, context(45_000));

    // Assess
    expect(given).toEqual([SEND_DEADLINE_MS, 45_000 - SEND_FINISH_MARGIN_MS]);
  });

  it('serves a bounded number of clusters at once, and reports them in cluster order', async () => {
    // Prepare: sends that take a moment, counted while in flight; the later clusters are quicker.
    let inFlight = 0;
    let most = 0;
    const clusters = ['pool-a', 'pool-b', 'pool-c', 'pool-d', 'pool-e', 'pool-f'];
    const { service } = await fleet({
      clusters,
      concurrency: 2,
      mailers: () => ({
        forConfig: async (_config, { clusterId }) => ({
          send: async (message) => {
            inFlight++;
            most = Math.max(most, inFlight);
            await new Promise((resolve) => setTimeout(resolve, 60 - 10 * clusters.indexOf(clusterId)));
            inFlight--;
            return {
              messageId: `<${clusterId}@test>`,
              accepted: message.to,
              rejected: [],
              destination: 'test',
            };
          },
        }),
      }),
    });

    // Act
    const run = await service.run();

    // Assess
    expect(most).toBe(2);
    expect(run.results.map((r) => [r.clusterId, r.outcome, r.messageId])).toEqual(
      clusters.map((id) => [id, 'sent', `<${id}@test>`]),
    );
  });
});
