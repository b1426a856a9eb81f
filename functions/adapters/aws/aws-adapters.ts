// The AWS adapters every function composes, built once per execution environment (module
// scope), so SDK clients and the configuration cache survive warm invocations.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { z } from 'zod';
import type { AccessTokenSource } from '../../core/oauth/oauth-ports.js';
import type { Clock } from '../../core/ports.js';
import { createLogger } from '../../shared/logger.js';
import type {
  ConfigStoreEnvShape,
  LedgerEnvShape,
  MailEnvShape,
  ServiceEnvShape,
} from '../../shared/service-env.js';
import { TransportMailerFactory } from '../mailer-factory.js';
import { oauthTokenProvider } from '../oauth-composition.js';
import { DynamoDbLedger } from './dynamodb-ledger.js';
import { SsmConfigStore } from './ssm-config-store.js';

type Env<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;

export function awsConfigStore(env: Env<typeof ConfigStoreEnvShape>): SsmConfigStore {
  return new SsmConfigStore({
    client: new SSMClient({}),
    parameterPrefix: env.CONFIG_PARAMETER_PREFIX,
    kmsKeyId: env.CONFIG_KMS_KEY_ID,
    cacheTtlMs: env.CONFIG_CACHE_TTL_SECONDS * 1000,
  });
}

/** SES code and its SDK client load on first use: an SMTP-only deployment never pays for them. */
export function awsMailers(
  env: Env<typeof MailEnvShape>,
  extra: { oauthTokens?: AccessTokenSource } = {},
): TransportMailerFactory {
  return new TransportMailerFactory({
    ...(extra.oauthTokens ? { oauthTokens: extra.oauthTokens } : {}),
    ses: async () => {
      const [{ SESClient }, { SesMailer }] = await Promise.all([
        import('@aws-sdk/client-ses'),
        import('./ses-mailer.js'),
      ]);
      return new SesMailer({
        client: new SESClient({}),
        ...(env.SES_CONFIGURATION_SET ? { configurationSetName: env.SES_CONFIGURATION_SET } : {}),
      });
    },
  });
}

export function awsLedger(env: Env<typeof LedgerEnvShape>): DynamoDbLedger {
  // Its own client: the document client wrapper writes settings onto the client's config.
  return new DynamoDbLedger({ client: new DynamoDBClient({}), tableName: env.LEDGER_TABLE_NAME });
}

/**
 * What every function is built from in AWS: its logger, the clock, the configuration store, the
 * mailers (with OAuth2 access tokens) and the delivery log. One store instance serves the
 * services and the token provider, so the SSM cache sees rotated refresh tokens.
 */
export function awsService(env: Env<typeof ServiceEnvShape>) {
  const log = createLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL });
  const clock: Clock = () => new Date();
  const store = awsConfigStore(env);
  const oauthTokens = oauthTokenProvider({ store, clock, log });
  return { log, clock, store, mailers: awsMailers(env, { oauthTokens }), ledger: awsLedger(env) };
}
