// Lambda entry of the admin API: the composition root for AWS.
import { awsConfigStore, awsLedger, awsMailers } from '../adapters/aws-composition.js';
import { oauthTokenProvider } from '../adapters/oauth-composition.js';
import { EmailConfigService } from '../core/email-config-service.js';
import { redirectUriFor } from '../core/oauth-flow.js';
import { jwtAuthorizerAuthenticator } from '../shared/auth.js';
import { parseEnv } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';
import { adminPageRoutes } from './admin-page-routes.js';
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
const baseUrl = env.PUBLIC_BASE_URL.replace(/\/$/, '');
const pageRoutes = env.ADMIN_PAGE_CLIENT_ID
  ? adminPageRoutes({
      auth: {
        mode: 'oidc',
        clientId: env.ADMIN_PAGE_CLIENT_ID,
        redirectUri: `${baseUrl}/admin/`,
        ...(env.ADMIN_PAGE_ISSUER ? { issuer: env.ADMIN_PAGE_ISSUER } : {}),
        ...(env.ADMIN_PAGE_AUTHORIZATION_ENDPOINT
          ? { authorizationEndpoint: env.ADMIN_PAGE_AUTHORIZATION_ENDPOINT }
          : {}),
        ...(env.ADMIN_PAGE_TOKEN_ENDPOINT ? { tokenEndpoint: env.ADMIN_PAGE_TOKEN_ENDPOINT } : {}),
      },
      smtpRedirectUri: redirectUriFor(baseUrl),
    })
  : [];

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
    ...pageRoutes,
  ],
});
