// Lambda entry of the admin API: the composition root for AWS, built once per execution
// environment (module scope) so clients and the configuration cache survive warm invocations.
import { SESClient } from '@aws-sdk/client-ses';
import { SSMClient } from '@aws-sdk/client-ssm';
import { TransportMailerFactory } from '../adapters/mailer-factory.js';
import { SesMailer } from '../adapters/ses-mailer.js';
import { SsmConfigStore } from '../adapters/ssm-config-store.js';
import { EmailConfigService } from '../core/email-config-service.js';
import { jwtAuthorizerAuthenticator } from '../shared/auth.js';
import { parseEnv } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';
import { createAdminApiHandler } from './app.js';
import { AdminApiEnvSchema } from './env.js';

const env = parseEnv(AdminApiEnvSchema, process.env, 'admin-api');
const log = createLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL });

const store = new SsmConfigStore({
  client: new SSMClient({}),
  parameterPrefix: env.CONFIG_PARAMETER_PREFIX,
  kmsKeyId: env.CONFIG_KMS_KEY_ID,
  cacheTtlMs: env.CONFIG_CACHE_TTL_SECONDS * 1000,
});
const mailers = new TransportMailerFactory({
  ses: () =>
    new SesMailer({
      client: new SESClient({}),
      ...(env.SES_CONFIGURATION_SET ? { configurationSetName: env.SES_CONFIGURATION_SET } : {}),
    }),
});

export const handler = createAdminApiHandler({
  service: new EmailConfigService({ store, mailers, clock: () => new Date(), log }),
  authenticator: jwtAuthorizerAuthenticator,
  log,
});
