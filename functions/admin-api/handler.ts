// Lambda entry of the admin API: the composition root for AWS.
import { awsService } from '../adapters/aws/aws-adapters.js';
import { EmailConfigService } from '../core/config/email-config-service.js';
import { redirectUriFor } from '../core/oauth/oauth-flow.js';
import { jwtAuthorizerAuthenticator } from '../shared/auth.js';
import { parseEnv } from '../shared/env.js';
import { adminPageAssets } from './admin-page-assets.js';
import { adminPageRoutes } from './admin-page-routes.js';
import { createAdminApiHandler } from './app.js';
import { catalogRoutes } from './catalog-routes.js';
import { AdminApiEnvSchema } from './env.js';
import { awsOAuthRoutes } from './oauth-composition.js';

const env = parseEnv(AdminApiEnvSchema, process.env, 'admin-api');
const { log, clock, store, mailers, ledger } = awsService(env);
const baseUrl = env.PUBLIC_BASE_URL.replace(/\/$/, '');
const pageRoutes = env.ADMIN_PAGE_CLIENT_ID
  ? adminPageRoutes({
      assets: adminPageAssets,
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
  service: new EmailConfigService({ store, mailers, clock, log }),
  authenticator: jwtAuthorizerAuthenticator,
  log,
  extraRoutes: [
    ...catalogRoutes(ledger),
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
