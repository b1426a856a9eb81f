import { z } from 'zod';
import { OAuthEnvShape } from '../adapters/oauth-composition.js';
import { ServiceEnvShape } from '../shared/service-env.js';

/** The admin API function's environment; lib/ types the construct's `environment` from it. */
export const AdminApiEnvSchema = z.object({
  ...ServiceEnvShape,
  ...OAuthEnvShape,
  /**
   * The admin page's sign-in (authorization code + PKCE): the public app client and either the
   * issuer (discovery) or both endpoints. Without a client id the page is not served.
   */
  ADMIN_PAGE_CLIENT_ID: z.string().min(1).optional(),
  ADMIN_PAGE_ISSUER: z.url().optional(),
  ADMIN_PAGE_AUTHORIZATION_ENDPOINT: z.url().optional(),
  ADMIN_PAGE_TOKEN_ENDPOINT: z.url().optional(),
});
export type AdminApiEnv = z.output<typeof AdminApiEnvSchema>;
