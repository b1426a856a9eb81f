import type { OAuth2Auth } from '../config/email-config.js';

// The ports of the OAuth2 redirect flow. Adapters: a DynamoDB and an SQLite state store, and a
// token client over fetch. Core never imports them.

/** What `GET /oauth/authorize` keeps server-side until the provider redirects back. */
export interface OAuthStateRecord {
  /** The `state` parameter: at least 128 random bits, base64url; the record's key. */
  state: string;
  /** The cluster the authorization was started for; the callback works on this cluster only. */
  clusterId: string;
  /** PKCE (RFC 7636): sent with the code exchange, never to the browser. */
  codeVerifier: string;
  /** The exact redirect URI of the authorization request, repeated in the code exchange. */
  redirectUri: string;
  /** The client the authorization request named: a save in between makes the state useless. */
  clientId: string;
  tokenEndpoint: string;
  /** Who clicked Authorize (the admin API principal), for the log. */
  startedBy?: string;
  createdAt: string;
  /** Epoch milliseconds; after this the state is refused even if a store still holds it. */
  expiresAt: number;
}

export interface OAuthStateStore {
  put(record: OAuthStateRecord): Promise<void>;
  /**
   * Removes the record and returns it, atomically: of two concurrent takes of one state, at
   * most one gets the record, so a replayed callback finds nothing. Undefined when unknown.
   */
  take(state: string): Promise<OAuthStateRecord | undefined>;
}

/** A token endpoint's successful answer (RFC 6749 section 5.1), tokens as received. */
export interface TokenSet {
  accessToken: string;
  /** Seconds, when the provider said. */
  expiresIn?: number;
  /** Present on the code exchange (with `offline_access` / `access_type=offline`) and on rotation. */
  refreshToken?: string;
  /** Seconds the refresh token lives, when the provider says (`refresh_token_expires_in`: Google in Testing mode). */
  refreshTokenExpiresIn?: number;
  idToken?: string;
  scope?: string;
}

export interface ClientCredentials {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
}

export interface CodeExchange extends ClientCredentials {
  code: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface RefreshRequest extends ClientCredentials {
  refreshToken: string;
  /** Sent when set (Microsoft needs the resource scope to issue an access token for it). */
  scopes?: string[];
}

/** The client-credentials grant (RFC 6749 section 4.4): app-only, no user, no refresh token. */
export interface ClientCredentialsRequest {
  tokenEndpoint: string;
  clientId: string;
  scopes: string[];
  /** Exactly one of the two: the secret (`client_secret_post`) or a signed JWT (RFC 7523). */
  clientSecret?: string;
  clientAssertion?: string;
}

/** The JWT bearer grant (RFC 7523 section 2.1): a Google service account's signed assertion, no client authentication. */
export interface JwtBearerRequest {
  tokenEndpoint: string;
  assertion: string;
}

export interface TokenClient {
  /** Throws TokenEndpointError. */
  jwtBearer(request: JwtBearerRequest): Promise<TokenSet>;
  /** Throws TokenEndpointError. */
  clientCredentials(request: ClientCredentialsRequest): Promise<TokenSet>;
  /** Throws TokenEndpointError. */
  exchangeCode(request: CodeExchange): Promise<TokenSet>;
  /** Throws TokenEndpointError. */
  refresh(request: RefreshRequest): Promise<TokenSet>;
}

export type TokenEndpointFailure =
  /** The endpoint answered with an OAuth error (RFC 6749 section 5.2), e.g. `invalid_grant`. */
  | { kind: 'oauth-error'; status: number; error: string; description?: string }
  /** Not reachable, timed out, 5xx, or an answer that is not a token response: worth a retry. */
  | { kind: 'unavailable'; status?: number; reason: string; detail: string }
  /** A 2xx or 4xx answer we cannot use (no access token, not JSON): a misconfigured endpoint. */
  | { kind: 'bad-response'; status: number; detail: string };

/** A failed token request; the message never holds a token, a code or a secret. */
export class TokenEndpointError extends Error {
  override readonly name = 'TokenEndpointError';
  constructor(
    readonly failure: TokenEndpointFailure,
    readonly endpoint: string,
  ) {
    super(describeTokenFailure(failure, endpoint));
  }
}

export function describeTokenFailure(failure: TokenEndpointFailure, endpoint: string): string {
  const where = endpointForDisplay(endpoint);
  switch (failure.kind) {
    case 'oauth-error':
      return `The token endpoint ${where} answered ${failure.status} ${failure.error}${
        failure.description ? `: ${failure.description}` : ''
      }`;
    case 'unavailable':
      return `The token endpoint ${where} is not available (${failure.reason}): ${failure.detail}`;
    case 'bad-response':
      return `The token endpoint ${where} answered ${failure.status} with something that is not a token response: ${failure.detail}`;
  }
}

/** Scheme, host and path: a token endpoint URL carries no secret, but a query could. */
export function endpointForDisplay(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.origin}${url.pathname}`;
  } catch {
    return 'the configured token endpoint';
  }
}

/** Where the mailer gets XOAUTH2 credentials; implemented by OAuthTokenProvider. */
export interface AccessTokenSource {
  /** Throws DeliveryError (stage `auth`) when no access token can be had. */
  /**
   * `candidate`: an authentication not saved yet (the test email of a form or of a save), used
   * only by the flows without a grant (app-only, a service account), whose token needs nothing
   * stored; the other flows always use the stored configuration and its grant.
   */
  accessTokenFor(clusterId: string, candidate?: OAuth2Auth): Promise<{ user: string; accessToken: string }>;
  /** Forgets a cached access token, e.g. after the relay rejected it. */
  invalidate(clusterId: string): void;
  /** App-only tokens for `transport: "graph"` (a failure is a DeliveryError at stage `token`). */
  readonly graphTokens?: AppOnlyTokenSource;
}

/** Client-credentials tokens per cluster, cached in memory (AppOnlyTokens). */
export interface AppOnlyTokenSource {
  accessToken(
    clusterId: string,
    credential: import('./app-only-tokens.js').AppOnlyCredential,
  ): Promise<string>;
  invalidate(clusterId: string): void;
}
