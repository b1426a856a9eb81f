import type { SmtpAuth } from './email-config.js';
import { grantMatches, type OAuthGrantStatus, type StoredEmailConfig } from './stored-config.js';

/**
 * What GET returns: secrets replaced by `passwordSet` / `clientSecretSet`, and for OAuth2 the
 * grant's status (never a token).
 */
export function toPublicConfig(stored: StoredEmailConfig): Record<string, unknown> {
  const { config } = stored;
  const smtp = config.smtp && { ...config.smtp, auth: publicAuth(config.smtp.auth) };
  const oauth =
    config.transport === 'smtp' && config.smtp?.auth.type === 'oauth2' ? publicOAuth(stored) : undefined;
  return {
    clusterId: stored.clusterId,
    ...config,
    ...(smtp ? { smtp } : {}),
    ...(oauth ? { oauth } : {}),
    updatedAt: stored.updatedAt,
  };
}

export interface PublicOAuthStatus {
  status: OAuthGrantStatus;
  authorizedAt?: string;
  authorizedAs?: string;
  lastRefreshAt?: string;
  lastError?: string;
  lastErrorAt?: string;
}

function publicOAuth(stored: StoredEmailConfig): PublicOAuthStatus {
  const grant = stored.oauth && grantMatches(stored.oauth, stored.config) ? stored.oauth : undefined;
  if (!grant) return { status: 'needs-authorization' };
  // Listed field by field: a field added to the grant later stays private until it is added here.
  const { status, authorizedAt, authorizedAs, lastRefreshAt, lastError, lastErrorAt } = grant;
  return {
    status: status === 'authorized' && grant.refreshToken ? 'authorized' : 'needs-authorization',
    authorizedAt,
    ...(authorizedAs !== undefined ? { authorizedAs } : {}),
    ...(lastRefreshAt !== undefined ? { lastRefreshAt } : {}),
    ...(lastError !== undefined ? { lastError } : {}),
    ...(lastErrorAt !== undefined ? { lastErrorAt } : {}),
  };
}

function publicAuth(auth: SmtpAuth): Record<string, unknown> {
  switch (auth.type) {
    case 'none':
      return auth;
    case 'password': {
      const { password, ...rest } = auth;
      return { ...rest, passwordSet: Boolean(password) };
    }
    case 'oauth2': {
      const { clientSecret, ...rest } = auth;
      return { ...rest, clientSecretSet: Boolean(clientSecret) };
    }
  }
}
