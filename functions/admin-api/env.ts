import * as z from 'zod';
import { redirectUriFor } from '../core/oauth/oauth-flow.js';
import { DEFAULT_FLEET_ADMIN_GROUP } from '../kernel/admin-groups.js';
import { ADMIN_PAGE_PATH } from '../kernel/public-paths.js';
import { EventQueueEnvShape, PublicUrlEnvShape, ServiceEnvShape } from '../shared/service-env.js';
import type { AdminPageOptions } from './admin-page-routes.js';

/** The admin API function's environment; lib/ types the construct's `environment` from it. */
export const AdminApiEnvSchema = z.object({
  ...ServiceEnvShape,
  ...PublicUrlEnvShape,
  /** A replayed event goes onto notify's queue (`POST .../deliveries/{eventId}/replay`). */
  ...EventQueueEnvShape,
  /**
   * The admin page's sign-in (authorization code + PKCE): the public app client and either the
   * issuer (discovery) or both endpoints. Without a client id the page is not served.
   */
  ADMIN_PAGE_CLIENT_ID: z.string().min(1).optional(),
  ADMIN_PAGE_ISSUER: z.url().optional(),
  ADMIN_PAGE_AUTHORIZATION_ENDPOINT: z.url().optional(),
  ADMIN_PAGE_TOKEN_ENDPOINT: z.url().optional(),
  /** The JWT group whose members administer every cluster (`cluster-<clusterId>` groups give one). */
  FLEET_ADMIN_GROUP: z.string().min(1).default(DEFAULT_FLEET_ADMIN_GROUP),
});
export type AdminApiEnv = z.output<typeof AdminApiEnvSchema>;

/**
 * The admin page's sign-in in AWS: the Cognito (or external) app client, when one is configured.
 * The assets come from the bundle (admin-page-assets), not from here: lib/ imports this module.
 */
export function adminPageOptionsOf(env: AdminApiEnv): Omit<AdminPageOptions, 'assets'> | undefined {
  if (!env.ADMIN_PAGE_CLIENT_ID) return undefined;
  const baseUrl = env.PUBLIC_BASE_URL.replace(/\/$/, '');
  return {
    auth: {
      mode: 'oidc',
      clientId: env.ADMIN_PAGE_CLIENT_ID,
      redirectUri: `${baseUrl}${ADMIN_PAGE_PATH}`,
      ...(env.ADMIN_PAGE_ISSUER ? { issuer: env.ADMIN_PAGE_ISSUER } : {}),
      ...(env.ADMIN_PAGE_AUTHORIZATION_ENDPOINT
        ? { authorizationEndpoint: env.ADMIN_PAGE_AUTHORIZATION_ENDPOINT }
        : {}),
      ...(env.ADMIN_PAGE_TOKEN_ENDPOINT ? { tokenEndpoint: env.ADMIN_PAGE_TOKEN_ENDPOINT } : {}),
    },
    smtpRedirectUri: redirectUriFor(baseUrl),
  };
}
