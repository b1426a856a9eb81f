// The pieces of the OAuth2 authorization code flow with PKCE (RFC 6749, RFC 7636, RFC 9700)
// that need no I/O: random values, the authorization URL, and reading the id token.
import { createHash, randomBytes } from 'node:crypto';
import { OAUTH_REDIRECT_PATH } from '../../kernel/public-paths.js';
import type { OAuth2Auth } from '../config/email-config.js';

/** 10 minutes: enough to sign in with multi-factor authentication, short enough for RFC 9700. */
export const STATE_TTL_MS = 10 * 60 * 1000;

/** `bytes` random bytes, base64url: 32 bytes = 256 bits (RFC 7636 asks for 32 octets for the verifier). */
export function randomUrlSafe(bytes = 32): string {
  if (bytes < 16) throw new Error('randomUrlSafe: at least 16 bytes (128 bits)');
  return randomBytes(bytes).toString('base64url');
}

/** RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier))). */
export function pkceChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

/** `${publicBaseUrl}/login/smtp-verification/`, exactly as registered with the provider. */
export function redirectUriFor(publicBaseUrl: string): string {
  const url = new URL(publicBaseUrl);
  if (url.search || url.hash) throw new Error('PUBLIC_BASE_URL must not have a query or a fragment');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}${OAUTH_REDIRECT_PATH}`;
}

/**
 * Scopes that let the id token name the mailbox that signed in. Microsoft and Google accept
 * the OpenID Connect scopes next to the mail scope, and the consent screen only adds "view
 * your email address"; a custom provider gets exactly the configured scopes.
 */
const IDENTITY_SCOPES = ['openid', 'email'];

export function authorizationScopes(auth: OAuth2Auth): string[] {
  if (auth.provider === 'custom') return auth.scopes;
  return [...auth.scopes, ...IDENTITY_SCOPES.filter((scope) => !auth.scopes.includes(scope))];
}

export interface AuthorizationRequest {
  state: string;
  codeChallenge: string;
  redirectUri: string;
}

/** The provider's authorization endpoint with every parameter the flow needs. */
export function buildAuthorizationUrl(auth: OAuth2Auth, request: AuthorizationRequest): string {
  if (!auth.authorizationEndpoint)
    throw new Error('buildAuthorizationUrl: no authorization endpoint (app-only flow)');
  const url = new URL(auth.authorizationEndpoint);
  const params = url.searchParams;
  params.set('client_id', auth.clientId);
  params.set('response_type', 'code');
  params.set('redirect_uri', request.redirectUri);
  params.set('scope', authorizationScopes(auth).join(' '));
  params.set('state', request.state);
  params.set('code_challenge', request.codeChallenge);
  params.set('code_challenge_method', 'S256');
  if (auth.provider === 'google') {
    // Without both, Google returns a refresh token only on the very first consent.
    params.set('access_type', 'offline');
    params.set('prompt', 'consent');
  }
  if (auth.provider === 'microsoft' && !auth.user) {
    // The admin's browser is often signed in as the admin, not as the sending mailbox.
    params.set('prompt', 'select_account');
  }
  if (auth.user) params.set('login_hint', auth.user);
  return url.toString();
}

/**
 * The mailbox an id token names, for display ("authorized as"). The payload is decoded
 * WITHOUT verifying the signature: acceptable only because the token came straight from the
 * token endpoint over TLS in the response to our own authenticated request, and because the
 * value is only shown and used as the default XOAUTH2 user (the relay checks the access token
 * itself). Never use it for an authorization decision.
 */
export function mailboxFromIdToken(idToken: string | undefined): string | undefined {
  if (!idToken) return undefined;
  const payload = idToken.split('.')[1];
  if (!payload) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null) return undefined;
  const record = claims as Record<string, unknown>;
  for (const claim of ['email', 'preferred_username', 'upn']) {
    const value = record[claim];
    if (typeof value === 'string' && /^[^\s@<>"]{1,64}@[^\s@<>"]{1,255}$/.test(value)) return value;
  }
  return undefined;
}
