// The AWS adapters, built once per execution environment (module scope), so SDK clients and the
// configuration cache survive warm invocations. The only place in the Lambdas that constructs
// SDK clients, stores and mailers.

import type { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { z } from 'zod';
import type { Adapters } from '../../composition.js';
import { deployedRelayPolicy } from '../../core/mail/relay-address-policy.js';
import type { EventQueue } from '../../core/notify/event-queue.js';
import type { EventReplayer } from '../../core/notify/event-replayer.js';
import type { OAuthStateStore } from '../../core/oauth/oauth-ports.js';
import { createLogger } from '../../shared/logger.js';
import type { ServiceEnvShape } from '../../shared/service-env.js';
import { traced } from '../../shared/tracer.js';
import { TransportMailerFactory } from '../mailer-factory.js';
import { FetchTokenClient } from '../oauth-token-client.js';
import { DynamoDbAuditLog } from './dynamodb-audit-log.js';
import { DynamoDbConfigHistory } from './dynamodb-config-history.js';
import { DynamoDbGrantStore } from './dynamodb-grant-store.js';
import { DynamoDbLedger } from './dynamodb-ledger.js';
import { DynamoDbRelayGate } from './dynamodb-relay-gate.js';
import { SsmConfigStore } from './ssm-config-store.js';

export type ServiceEnv = z.output<z.ZodObject<typeof ServiceEnvShape>>;

/**
 * `tracer`: every SDK client is wrapped by it (X-Ray subsegments per call); the tracer is a
 * no-op outside Lambda (functions/shared/tracer.ts).
 */
export function awsAdapters(env: ServiceEnv, options: { tracer?: Tracer } = {}): Adapters {
  const { tracer } = options;
  const log = createLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL });
  const store = new SsmConfigStore({
    client: traced(tracer, new SSMClient({})),
    parameterPrefix: env.CONFIG_PARAMETER_PREFIX,
    kmsKeyId: env.CONFIG_KMS_KEY_ID,
    cacheTtlMs: env.CONFIG_CACHE_TTL_SECONDS * 1000,
  });
  return {
    log,
    clock: () => new Date(),
    store,
    // The configuration history in the ledger's table (`CONFIGV#<clusterId>`): conditional puts
    // number the versions, which SSM's parameter history cannot do for us.
    history: new DynamoDbConfigHistory({
      client: traced(tracer, new DynamoDBClient({})),
      tableName: env.LEDGER_TABLE_NAME,
    }),
    // The audit trail in the ledger's table (`AUDIT#<clusterId>`), with its TTL.
    audit: new DynamoDbAuditLog({
      client: traced(tracer, new DynamoDBClient({})),
      tableName: env.LEDGER_TABLE_NAME,
    }),
    // The OAuth2 grants in the ledger's table: DynamoDB has the conditional write SSM lacks.
    grants: new DynamoDbGrantStore({ client: new DynamoDBClient({}), tableName: env.LEDGER_TABLE_NAME }),
    // Its own client: the document client wrapper of the OAuth state store writes settings onto
    // the client's config.
    ledger: new DynamoDbLedger({
      client: traced(tracer, new DynamoDBClient({})),
      tableName: env.LEDGER_TABLE_NAME,
    }),
    oauthStates: lazyOAuthStateStore(async () => {
      const { DynamoDbOAuthStateStore } = await import('./oauth-dynamodb-state-store.js');
      return new DynamoDbOAuthStateStore({
        client: traced(tracer, new DynamoDBClient({})),
        tableName: env.LEDGER_TABLE_NAME,
      });
    }),
    tokenClient: new FetchTokenClient(),
    // The relays' limits in the ledger's table (`RELAY#<identity>`), shared by every Lambda.
    relayGate: new DynamoDbRelayGate({
      client: traced(tracer, new DynamoDBClient({})),
      tableName: env.LEDGER_TABLE_NAME,
    }),
    // SES code and its SDK client load on first use: an SMTP-only deployment never pays for them.
    mailers: (oauthTokens, relayGate) =>
      new TransportMailerFactory({
        oauthTokens,
        ...(relayGate ? { relayGate } : {}),
        // Public relays only, and the private ones the deployment allows.
        relayAddresses: deployedRelayPolicy({
          cidrs: env.RELAY_ALLOWED_CIDRS,
          hosts: env.RELAY_ALLOWED_HOSTS,
        }),
        ses: async () => {
          const [{ SESClient }, { SesMailer }] = await Promise.all([
            import('@aws-sdk/client-ses'),
            import('./ses-mailer.js'),
          ]);
          return new SesMailer({
            client: traced(tracer, new SESClient({})),
            ...(env.SES_CONFIGURATION_SET ? { configurationSetName: env.SES_CONFIGURATION_SET } : {}),
          });
        },
      }),
  };
}

/**
 * The SQS queue in front of notify (only the notify function consumes one). Notify calls it only
 * for a record that failed, so the SQS client and its adapter load on first use (one client per
 * execution environment), as the SES transport does: a cold start does not parse them.
 */
export function awsEventQueue(
  env: { EVENT_QUEUE_URL: string; EVENT_DLQ_URL: string },
  options: { tracer?: Tracer } = {},
): EventQueue {
  let queue: Promise<EventQueue> | undefined;
  const load = async (): Promise<EventQueue> => {
    const [{ SQSClient }, { SqsEventQueue }] = await Promise.all([
      import('@aws-sdk/client-sqs'),
      import('./sqs-event-queue.js'),
    ]);
    return new SqsEventQueue({
      client: traced(options.tracer, new SQSClient({})),
      queueUrl: env.EVENT_QUEUE_URL,
      deadLetterQueueUrl: env.EVENT_DLQ_URL,
    });
  };
  const get = () => {
    queue ??= load().catch((error: unknown) => {
      queue = undefined;
      throw error;
    });
    return queue;
  };
  return {
    retryLater: async (receiptHandle, delaySeconds) => (await get()).retryLater(receiptHandle, delaySeconds),
    deadLetter: async (message, reason) => (await get()).deadLetter(message, reason),
  };
}

/**
 * The admin API's replay of a failed event: SendMessage to the event queue. Loaded on first use,
 * as the event queue is: a replay is rare, and a cold start does not parse the SQS client.
 */
export function awsEventReplayer(
  env: { EVENT_QUEUE_URL: string },
  options: { tracer?: Tracer } = {},
): EventReplayer {
  let replayer: Promise<EventReplayer> | undefined;
  const get = () => {
    replayer ??= Promise.all([import('@aws-sdk/client-sqs'), import('./sqs-event-replayer.js')]).then(
      ([{ SQSClient }, { SqsEventReplayer }]) =>
        new SqsEventReplayer({
          client: traced(options.tracer, new SQSClient({})),
          queueUrl: env.EVENT_QUEUE_URL,
        }),
      (error: unknown) => {
        replayer = undefined;
        throw error;
      },
    );
    return replayer;
  };
  return { replay: async (event) => (await get()).replay(event) };
}

/** Only the admin API's OAuth routes use the state store: the other functions never load it. */
function lazyOAuthStateStore(load: () => Promise<OAuthStateStore>): OAuthStateStore {
  let store: Promise<OAuthStateStore> | undefined;
  const get = () => {
    store ??= load();
    return store;
  };
  return {
    put: async (record) => (await get()).put(record),
    take: async (state) => (await get()).take(state),
  };
}
