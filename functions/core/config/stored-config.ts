import * as z from 'zod';
import { ClusterIdSchema } from '../../kernel/cluster-id-schema.js';
import { type EmailConfig, EmailConfigSchema, type OAuth2Auth } from './email-config.js';
import { OAUTH_PROVIDERS } from './presets.js';

// The stored document: the admin's configuration plus state the service keeps about it.

export const STORED_SCHEMA_VERSION = 1;

export const OAUTH_GRANT_STATUSES = ['authorized', 'needs-authorization'] as const;
export type OAuthGrantStatus = (typeof OAUTH_GRANT_STATUSES)[number];

/**
 * What the OAuth2 redirect flow left behind: the refresh token (a secret, never returned) and
 * what an admin needs to see. `binding` records the client the grant belongs to, so a save
 * that switches to another app registration or tenant drops a grant that can no longer work.
 */
export const OAuthGrantSchema = z.object({
  status: z.enum(OAUTH_GRANT_STATUSES),
  /** Absent once the provider refused it (`invalid_grant`): it is of no use any more. */
  refreshToken: z.string().min(1).optional(),
  authorizedAt: z.iso.datetime(),
  /** The mailbox that signed in, from the id token (display only). */
  authorizedAs: z.string().optional(),
  lastRefreshAt: z.iso.datetime().optional(),
  /** When the refresh token ends, from the provider's `refresh_token_expires_in` (credential health). */
  refreshTokenExpiresAt: z.iso.datetime().optional(),
  lastError: z.string().optional(),
  lastErrorAt: z.iso.datetime().optional(),
  binding: z.object({
    provider: z.enum(OAUTH_PROVIDERS),
    tenant: z.string().optional(),
    clientId: z.string(),
    tokenEndpoint: z.string(),
  }),
});
export type OAuthGrant = z.output<typeof OAuthGrantSchema>;
export type OAuthGrantBinding = OAuthGrant['binding'];

export const StoredEmailConfigSchema = z.object({
  schemaVersion: z.literal(STORED_SCHEMA_VERSION),
  clusterId: ClusterIdSchema,
  updatedAt: z.iso.datetime(),
  config: EmailConfigSchema,
  /**
   * The OAuth2 grant, in a document as the services hand it out (EmailConfigService.get adds
   * the grant store's). Stores never write it: it lives in the GrantStore. A document stored by
   * a version before that may still carry it; the first read moves it (currentGrant).
   */
  oauth: OAuthGrantSchema.optional(),
});
export type StoredEmailConfig = z.output<typeof StoredEmailConfigSchema>;

/** The fields a grant is bound to: a refresh token is issued to one client at one token endpoint. */
export function oauthBindingOf(auth: OAuth2Auth): OAuthGrantBinding {
  return {
    provider: auth.provider,
    ...(auth.tenant !== undefined ? { tenant: auth.tenant } : {}),
    clientId: auth.clientId,
    tokenEndpoint: auth.tokenEndpoint,
  };
}

/** The stored grant still belongs to this configuration (same provider, tenant, client and token endpoint). */
export function grantMatches(grant: OAuthGrant, config: EmailConfig): boolean {
  const auth = config.smtp?.auth;
  if (config.transport !== 'smtp' || auth?.type !== 'oauth2') return false;
  const binding = oauthBindingOf(auth);
  return (
    grant.binding.provider === binding.provider &&
    grant.binding.tenant === binding.tenant &&
    grant.binding.clientId === binding.clientId &&
    grant.binding.tokenEndpoint === binding.tokenEndpoint
  );
}
