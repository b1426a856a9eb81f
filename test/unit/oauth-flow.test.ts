import { describe, expect, it } from '@jest/globals';
import { EmailConfigSchema } from '../../functions/core/config/email-config.js';
import { toPublicConfig } from '../../functions/core/config/public-config.js';
import { secretsOf } from '../../functions/core/config/secrets.js';
import {
  grantMatches,
  type OAuthGrant,
  type StoredEmailConfig,
} from '../../functions/core/config/stored-config.js';
import { hintFor } from '../../functions/core/mail/diagnostics.js';
import type { DeliveryFailure } from '../../functions/core/mail/mailer.js';
import {
  buildAuthorizationUrl,
  mailboxFromIdToken,
  pkceChallenge,
  randomUrlSafe,
  redirectUriFor,
} from '../../functions/core/oauth/oauth-flow.js';
import { authorizedGrant } from '../support/config-fixtures.js';

const REFRESH_TOKEN = '0.AXoA-refresh-token-value-that-must-stay-private';

function configWith(auth: Record<string, unknown>) {
  return EmailConfigSchema.parse({
    sender: 'alerts@example.com',
    smtp: {
      host: 'smtp.office365.com',
      port: 587,
      encryption: 'starttls',
      auth: { type: 'oauth2', ...auth },
    },
    adminContacts: 'ops@example.com',
  });
}

const microsoft = configWith({
  provider: 'microsoft',
  tenant: 'contoso.onmicrosoft.com',
  clientId: 'app',
  clientSecret: 's3cret-value',
});
const google = configWith({
  provider: 'google',
  clientId: 'app.apps.googleusercontent.com',
  clientSecret: 's3cret-value',
});

function oauthOf(config: ReturnType<typeof configWith>) {
  const auth = config.smtp?.auth;
  if (auth?.type !== 'oauth2') throw new Error('not oauth2');
  return auth;
}

const grant: OAuthGrant = authorizedGrant(REFRESH_TOKEN);

const stored = (config = microsoft): StoredEmailConfig => ({
  schemaVersion: 1,
  clusterId: 'eu-prod-1',
  updatedAt: '2026-11-28T18:00:00.000Z',
  config,
  oauth: grant,
});

describe('PKCE and state', () => {
  it('computes the S256 challenge of RFC 7636 appendix B', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('makes random base64url values of at least 128 bits', () => {
    const values = new Set(Array.from({ length: 100 }, () => randomUrlSafe()));

    expect(values.size).toBe(100);
    for (const value of values) expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => randomUrlSafe(8)).toThrow(/128 bits/);
  });

  it('builds the redirect URI from PUBLIC_BASE_URL, with or without a trailing slash or a stage path', () => {
    expect(redirectUriFor('http://localhost:3000')).toBe('http://localhost:3000/login/smtp-verification/');
    expect(redirectUriFor('https://abc.execute-api.eu-west-1.amazonaws.com/')).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com/login/smtp-verification/',
    );
    expect(redirectUriFor('https://api.example.com/prod')).toBe(
      'https://api.example.com/prod/login/smtp-verification/',
    );
  });
});

describe('the authorization URL', () => {
  const request = {
    state: 'state-value',
    codeChallenge: 'challenge',
    redirectUri: 'https://api.example.com/login/smtp-verification/',
  };

  it('for Microsoft: the tenant endpoint, the SMTP scope with offline_access, account selection', () => {
    const url = new URL(buildAuthorizationUrl(oauthOf(microsoft), request));

    expect(url.origin + url.pathname).toBe(
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
    );
    expect(url.searchParams.get('scope')).toBe(
      'https://outlook.office.com/SMTP.Send offline_access openid email',
    );
    expect(url.searchParams.get('prompt')).toBe('select_account');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('access_type')).toBeNull();
  });

  it('for Google: offline access and consent, so that a refresh token comes back', () => {
    const url = new URL(buildAuthorizationUrl(oauthOf(google), request));

    expect(url.origin + url.pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('prompt')).toBe('consent');
    expect(url.searchParams.get('scope')).toBe('https://mail.google.com/ openid email');
  });

  it('hints the configured mailbox to the provider', () => {
    const auth = oauthOf(configWith({ provider: 'microsoft', clientId: 'app', user: 'alerts@example.com' }));

    const url = new URL(buildAuthorizationUrl(auth, request));

    expect(url.searchParams.get('login_hint')).toBe('alerts@example.com');
    expect(url.searchParams.get('prompt')).toBeNull();
  });
});

describe('the id token', () => {
  const jwt = (claims: Record<string, unknown>) =>
    `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.signature`;

  it('names the mailbox from email, preferred_username or upn', () => {
    expect(mailboxFromIdToken(jwt({ email: 'a@example.com', preferred_username: 'b@example.com' }))).toBe(
      'a@example.com',
    );
    expect(mailboxFromIdToken(jwt({ preferred_username: 'b@example.com' }))).toBe('b@example.com');
    expect(mailboxFromIdToken(jwt({ upn: 'c@example.com' }))).toBe('c@example.com');
  });

  it('ignores what is not a mailbox, and garbage', () => {
    expect(mailboxFromIdToken(jwt({ email: '<script>@x', sub: 'x' }))).toBeUndefined();
    expect(mailboxFromIdToken('not-a-jwt')).toBeUndefined();
    expect(mailboxFromIdToken(undefined)).toBeUndefined();
  });
});

describe('the stored grant', () => {
  it('is shown without the refresh token', () => {
    const view = toPublicConfig(stored());

    expect(view.oauth).toEqual({
      status: 'authorized',
      authorizedAt: grant.authorizedAt,
      authorizedAs: 'alerts@example.com',
    });
    expect(JSON.stringify(view)).not.toContain(REFRESH_TOKEN);
    expect(JSON.stringify(view)).not.toContain('s3cret-value');
  });

  it('is a secret for redaction', () => {
    expect(secretsOf(stored())).toEqual(['s3cret-value', REFRESH_TOKEN]);
  });

  it('belongs to the same client with a new secret, not to another client, tenant or provider (a save drops it then)', () => {
    const newSecret = configWith({
      provider: 'microsoft',
      tenant: 'contoso.onmicrosoft.com',
      clientId: 'app',
      clientSecret: 'another',
    });
    const otherClient = configWith({
      provider: 'microsoft',
      tenant: 'contoso.onmicrosoft.com',
      clientId: 'other',
    });
    const otherTenant = configWith({
      provider: 'microsoft',
      tenant: 'fabrikam.onmicrosoft.com',
      clientId: 'app',
    });

    expect(grantMatches(grant, newSecret)).toBe(true);
    expect(grantMatches(grant, otherClient)).toBe(false);
    expect(grantMatches(grant, otherTenant)).toBe(false);
    expect(grantMatches(grant, google)).toBe(false);
  });
});

describe('hints', () => {
  const failure = (reason: string, transient = false): DeliveryFailure => ({
    stage: 'auth',
    reason,
    transient,
    message: 'x',
  });

  it.each([
    ['OAUTH_INVALID_GRANT', microsoft, /invalid_grant.*Microsoft Entra ID revokes.*click Authorize again/s],
    ['OAUTH_INVALID_GRANT', google, /invalid_grant.*"Testing" status.*click Authorize again/s],
    ['OAUTH_NEEDS_AUTHORIZATION', microsoft, /click Authorize again/],
    ['OAUTH_NOT_AUTHORIZED', microsoft, /nobody has authorized it yet: click Authorize/],
    ['OAUTH_INVALID_CLIENT', microsoft, /client secret.*24 months/],
    ['OAUTH_TOKEN_ENDPOINT_UNAVAILABLE', google, /could not be reached.*retried/],
  ])('%s (%#)', (reason, config, expected) => {
    expect(hintFor(failure(reason), config)).toMatch(expected);
  });
});
