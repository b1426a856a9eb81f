// Lambda entry of the admin API: the composition root for AWS.
import { awsConfigStore, awsLedger, awsMailers } from '../adapters/aws-composition.js';
import { oauthTokenProvider } from '../adapters/oauth-composition.js';
import { EmailConfigService } from '../core/email-config-service.js';
import { jwtAuthorizerAuthenticator } from '../shared/auth.js';
import { parseEnv } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';
import { createAdminApiHandler } from './app.js';
import { catalogRoutes } from './catalog-routes.js';
import { AdminApiEnvSchema } from './env.js';
import { awsOAuthRoutes } from './oauth-composition.js';

const env = parseEnv(AdminApiEnvSchema, process.env, 'admin-api');
const log = createLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL });
const clock = () => new Date();
// One store instance for the services and the token provider, so the SSM cache sees rotated tokens.
const store = awsConfigStore(env);
const oauthTokens = oauthTokenProvider({ store, clock, log });

export const handler = createAdminApiHandler({
  service: new EmailConfigService({ store, mailers: awsMailers(env, { oauthTokens }), clock, log }),
  authenticator: jwtAuthorizerAuthenticator,
  log,
  extraRoutes: [
    ...catalogRoutes(awsLedger(env)),
    ...awsOAuthRoutes({
      store,
      tableName: env.LEDGER_TABLE_NAME,
      publicBaseUrl: env.PUBLIC_BASE_URL,
      clock,
      log,
    }),
  ],
});
