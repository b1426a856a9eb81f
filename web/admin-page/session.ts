// The admin's sign-in: the bearer token in sessionStorage (this tab only, never localStorage),
// and in oidc mode the authorization code flow with PKCE against the API's issuer.
import type { OidcAuth } from './api-client.js';
import { isRecord, messageOf, status } from './dom.js';
import { t } from './i18n.js';

const TOKEN_KEY = 'appliance-notifier.token';
const OIDC_KEY = 'appliance-notifier.oidc';
/** A token this close to its expiry is not used any more (ms). */
const EXPIRY_MARGIN_MS = 30_000;
/** How long the provider may take to send the admin back (ms). */
const SIGN_IN_TIMEOUT_MS = 600_000;

export interface StoredToken {
  value: string;
  expiresAt?: number;
  who?: string;
}

/** A sign-in started here: what the answer from the provider must match. */
interface PendingSignIn {
  state: string;
  verifier: string;
  tokenEndpoint: string;
  at: number;
}

/** What a token endpoint answers (RFC 6749 section 5). */
interface TokenResponse {
  access_token?: string;
  id_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

interface OidcDiscovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

export function readJson(storage: Storage, key: string): unknown {
  try {
    return JSON.parse(storage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

export function readToken(): StoredToken | null {
  const token = readJson(sessionStorage, TOKEN_KEY);
  if (!isRecord(token) || typeof token.value !== 'string' || !token.value) return null;
  const expiresAt = typeof token.expiresAt === 'number' ? token.expiresAt : undefined;
  if (expiresAt && expiresAt < Date.now() + EXPIRY_MARGIN_MS) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return {
    value: token.value,
    ...(expiresAt ? { expiresAt } : {}),
    ...(typeof token.who === 'string' ? { who: token.who } : {}),
  };
}

export function storeToken(value: string, expiresIn?: number, who?: string): void {
  sessionStorage.setItem(
    TOKEN_KEY,
    JSON.stringify({
      value,
      ...(expiresIn ? { expiresAt: Date.now() + Number(expiresIn) * 1000 } : {}),
      ...(who ? { who } : {}),
    }),
  );
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const randomString = (n: number): string => base64url(crypto.getRandomValues(new Uint8Array(n)));

async function oidcEndpoints(
  auth: OidcAuth,
): Promise<{ authorizationEndpoint: string; tokenEndpoint: string }> {
  if (auth.authorizationEndpoint && auth.tokenEndpoint) {
    return { authorizationEndpoint: auth.authorizationEndpoint, tokenEndpoint: auth.tokenEndpoint };
  }
  const response = await fetch(`${auth.issuer}/.well-known/openid-configuration`, { credentials: 'omit' });
  const discovery: OidcDiscovery = await response.json();
  return { authorizationEndpoint: discovery.authorization_endpoint, tokenEndpoint: discovery.token_endpoint };
}

/** Sends the browser to the provider's sign-in; comes back to the page with ?code&state. */
export async function signInWithOidc(auth: OidcAuth): Promise<void> {
  try {
    const endpoints = await oidcEndpoints(auth);
    const verifier = randomString(32);
    const challenge = base64url(
      new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
    );
    const oauthState = randomString(16);
    const pending: PendingSignIn = {
      state: oauthState,
      verifier,
      tokenEndpoint: endpoints.tokenEndpoint,
      at: Date.now(),
    };
    sessionStorage.setItem(OIDC_KEY, JSON.stringify(pending));
    const url = new URL(endpoints.authorizationEndpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', auth.clientId);
    url.searchParams.set('redirect_uri', auth.redirectUri);
    url.searchParams.set('scope', auth.scopes.join(' '));
    url.searchParams.set('state', oauthState);
    url.searchParams.set('code_challenge', challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    status('sign-in-status', t('signIn.redirecting'));
    location.assign(url.toString());
  } catch (error) {
    status('sign-in-status', t('signIn.couldNotStart', { error: messageOf(error) }), 'bad');
  }
}

const isPendingSignIn = (data: unknown): data is PendingSignIn =>
  isRecord(data) &&
  typeof data.state === 'string' &&
  typeof data.verifier === 'string' &&
  typeof data.tokenEndpoint === 'string' &&
  typeof data.at === 'number';

/** The JWT's claims, unverified: only to show who signed in (the API verifies the token). */
function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1];
  if (payload === undefined) return {};
  try {
    const claims: unknown = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    return isRecord(claims) ? claims : {};
  } catch {
    return {};
  }
}

/**
 * Back from the identity provider with ?code&state: exchanges the code (PKCE) for the API's
 * token and stores it. Returns what went wrong, or undefined (also when this is no such return).
 */
export async function completeOidc(auth: OidcAuth): Promise<string | undefined> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return undefined;
  const pending = readJson(sessionStorage, OIDC_KEY);
  sessionStorage.removeItem(OIDC_KEY);
  history.replaceState(null, '', location.pathname);
  const error = params.get('error');
  if (error) {
    const description = params.get('error_description');
    return t('signIn.failed', { error: `${error}${description ? ` (${description})` : ''}` });
  }
  if (
    !isPendingSignIn(pending) ||
    pending.state !== params.get('state') ||
    Date.now() - pending.at > SIGN_IN_TIMEOUT_MS
  ) {
    return t('signIn.unexpected');
  }
  try {
    const response = await fetch(pending.tokenEndpoint, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: params.get('code') ?? '',
        redirect_uri: auth.redirectUri,
        client_id: auth.clientId,
        code_verifier: pending.verifier,
      }).toString(),
    });
    const tokens: TokenResponse = await response.json();
    const bearer = tokens[auth.bearer || 'access_token'];
    if (!response.ok || !bearer) {
      throw new Error(tokens.error_description || tokens.error || `HTTP ${response.status}`);
    }
    const claims = claimsOf(tokens.id_token || bearer);
    const who = [claims.email, claims.preferred_username, claims.username, claims.sub].find(
      (claim): claim is string => typeof claim === 'string' && claim !== '',
    );
    storeToken(bearer, tokens.expires_in, who);
    return undefined;
  } catch (error) {
    return t('signIn.tokenFailed', { error: messageOf(error) });
  }
}
