import { type EmailConfig, EmailConfigSchema } from '../../functions/core/config/email-config.js';
import {
  type OAuthGrant,
  type StoredEmailConfig,
  StoredEmailConfigSchema,
} from '../../functions/core/config/stored-config.js';

/** A relay configuration with password authentication, as the API would store it. */
export function passwordConfig(options: { password: string } & Record<string, unknown>): EmailConfig {
  const { password, ...overrides } = options;
  return EmailConfigSchema.parse({
    sender: 'appliance@example.com',
    transport: 'smtp',
    smtp: {
      host: 'smtp.example.com',
      port: 587,
      encryption: 'starttls',
      auth: { type: 'password', username: 'relay@example.com', password },
    },
    adminContacts: 'ops@example.com oncall@example.com',
    ...overrides,
  });
}

/** The stored document around a configuration. */
export function storedConfig(clusterId: string, config: EmailConfig): StoredEmailConfig {
  return StoredEmailConfigSchema.parse({
    schemaVersion: 1,
    clusterId,
    updatedAt: '2025-01-02T03:04:05.000Z',
    config,
  });
}

/**
 * The `smtp` block of a Microsoft 365 relay with OAuth2 (client credentials), as the API takes
 * it; `auth` overrides or adds auth fields, and a field given as undefined is left out.
 */
export function microsoftOAuthSmtp(auth: { clientSecret: string } & Record<string, unknown>) {
  const merged: Record<string, unknown> = {
    type: 'oauth2',
    provider: 'microsoft',
    tenant: 'contoso.onmicrosoft.com',
    clientId: 'app',
    ...auth,
  };
  return {
    host: 'smtp.office365.com',
    port: 587,
    encryption: 'starttls',
    auth: Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)),
  };
}

/**
 * A relay configuration with OAuth2 on Microsoft 365, as the API would store it: `auth` as for
 * `microsoftOAuthSmtp`, `smtp` adds fields to the smtp block, the rest overrides the top level.
 */
export function microsoftOAuthConfig(
  options: {
    auth: { clientSecret: string } & Record<string, unknown>;
    smtp?: Record<string, unknown>;
  } & Record<string, unknown>,
): EmailConfig {
  const { auth, smtp, ...overrides } = options;
  return EmailConfigSchema.parse({
    sender: 'appliance@example.com',
    smtp: { ...microsoftOAuthSmtp(auth), ...smtp },
    adminContacts: 'ops@example.com',
    ...overrides,
  });
}

/** An authorized OAuth2 grant of the Microsoft 365 relay of `microsoftOAuthSmtp`. */
export function authorizedGrant(refreshToken: string, overrides: Partial<OAuthGrant> = {}): OAuthGrant {
  return {
    status: 'authorized',
    refreshToken,
    authorizedAt: '2026-11-28T18:00:00.000Z',
    authorizedAs: 'alerts@example.com',
    binding: {
      provider: 'microsoft',
      tenant: 'contoso.onmicrosoft.com',
      clientId: 'app',
      tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
    },
    ...overrides,
  };
}
