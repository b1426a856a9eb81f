// Lambda entry of the admin API: the composition root for AWS.
import { awsConfigStore, awsLedger, awsMailers } from '../adapters/aws-composition.js';
import { EmailConfigService } from '../core/email-config-service.js';
import { jwtAuthorizerAuthenticator } from '../shared/auth.js';
import { parseEnv } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';
import { createAdminApiHandler } from './app.js';
import { catalogRoutes } from './catalog-routes.js';
import { AdminApiEnvSchema } from './env.js';

const env = parseEnv(AdminApiEnvSchema, process.env, 'admin-api');
const log = createLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL });
const store = awsConfigStore(env);

export const handler = createAdminApiHandler({
  service: new EmailConfigService({ store, mailers: awsMailers(env), clock: () => new Date(), log }),
  authenticator: jwtAuthorizerAuthenticator,
  log,
  extraRoutes: catalogRoutes(awsLedger(env)),
});
