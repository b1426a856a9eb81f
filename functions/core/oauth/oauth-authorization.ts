// The two halves of the OAuth2 redirect flow: "Authorize" (state + PKCE, the provider URL) and
// the callback (one-time state, code exchange, the refresh token stored in the grant store).

import { NotFoundError } from '../../kernel/field-issues.js';
import { type Language, redact } from '../../kernel/text.js';
import type { ConfigStore } from '../config/config-store.js';
import type { EmailConfig, OAuth2Auth } from '../config/email-config.js';
import { secretsOf } from '../config/secrets.js';
import { type OAuthGrant, oauthBindingOf } from '../config/stored-config.js';
import type { Clock, Log } from '../ports.js';
import { type GrantStore, updateGrant } from './grant-store.js';
import {
  buildAuthorizationUrl,
  mailboxFromIdToken,
  pkceChallenge,
  randomUrlSafe,
  STATE_TTL_MS,
} from './oauth-flow.js';
import { type OAuthStateStore, type TokenClient, TokenEndpointError } from './oauth-ports.js';

export interface OAuthAuthorizationDeps {
  store: ConfigStore;
  grants: GrantStore;
  states: OAuthStateStore;
  tokens: TokenClient;
  clock: Clock;
  log: Log;
  /** `${PUBLIC_BASE_URL}/login/smtp-verification/`: identical in the request and the exchange. */
  redirectUri: string;
  stateTtlMs?: number;
}

/** The configuration cannot start an OAuth2 authorization (not oauth2, or SES): a 409. */
export class OAuthNotApplicableError extends Error {
  override readonly name = 'OAuthNotApplicableError';
}

export interface AuthorizationStart {
  url: string;
  redirectUri: string;
  /** When the state stops being accepted (ISO). */
  expiresAt: string;
}

/** The parameters the provider sends back (all optional: anyone can call the public route). */
export interface CallbackParams {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
}

interface CallbackBase {
  clusterId?: string;
  /** The configured language of the cluster, when the state named one. */
  language?: Language;
  /** Who clicked Authorize (the state's `startedBy`), for the audit trail. */
  startedBy?: string;
}

export type CallbackOutcome = CallbackBase &
  (
    | { kind: 'authorized'; clusterId: string; authorizedAs?: string; user?: string }
    /** Missing, unknown (forged or already used) or expired: no token request was made. */
    | { kind: 'invalid-state'; reason: 'missing' | 'unknown' | 'expired' }
    | { kind: 'provider-error'; clusterId: string; error: string; description?: string }
    /** The configuration was deleted or changed (another client, or not OAuth2) since Authorize. */
    | { kind: 'configuration-changed'; clusterId: string }
    | { kind: 'no-refresh-token'; clusterId: string; provider: OAuth2Auth['provider'] }
    | { kind: 'exchange-failed'; clusterId: string; message: string; transient: boolean }
  );

const STATE_SHAPE = /^[A-Za-z0-9_-]{22,256}$/;
const MAX_PARAM_LENGTH = 4096;

/** The use cases behind `GET /oauth/authorize` and `GET /login/smtp-verification/`. */
export class OAuthAuthorizationService {
  private readonly stateTtlMs: number;

  constructor(private readonly deps: OAuthAuthorizationDeps) {
    this.stateTtlMs = deps.stateTtlMs ?? STATE_TTL_MS;
  }

  get redirectUri(): string {
    return this.deps.redirectUri;
  }

  /** A one-time state and PKCE verifier kept server-side, and the provider URL to send the admin to. */
  async start(clusterId: string, startedBy?: string): Promise<AuthorizationStart> {
    const document = await this.deps.store.get(clusterId);
    if (!document) throw new NotFoundError(`Cluster "${clusterId}" has no email configuration`);
    const auth = oauthAuthOf(document.config);
    if (!auth) {
      throw new OAuthNotApplicableError(
        `Cluster "${clusterId}" does not use OAuth2: set smtp.auth.type to "oauth2" (with provider, clientId and clientSecret) and save the configuration before authorizing`,
      );
    }
    if (auth.flow === 'service-account') {
      throw new OAuthNotApplicableError(
        `Cluster "${clusterId}" uses a Google service account (flow "service-account"): it needs no Authorize step; send a test email to check the token and the mailbox`,
      );
    }
    if (auth.flow === 'client-credentials') {
      throw new OAuthNotApplicableError(
        `Cluster "${clusterId}" uses the app-only flow (client-credentials): it needs no Authorize step; send a test email to check the token and the mailbox`,
      );
    }
    const now = this.deps.clock();
    const state = randomUrlSafe(32);
    const codeVerifier = randomUrlSafe(32);
    const expiresAt = now.getTime() + this.stateTtlMs;
    await this.deps.states.put({
      state,
      clusterId,
      codeVerifier,
      redirectUri: this.deps.redirectUri,
      clientId: auth.clientId,
      tokenEndpoint: auth.tokenEndpoint,
      ...(startedBy ? { startedBy } : {}),
      createdAt: now.toISOString(),
      expiresAt,
    });
    const url = buildAuthorizationUrl(auth, {
      state,
      codeChallenge: pkceChallenge(codeVerifier),
      redirectUri: this.deps.redirectUri,
    });
    this.deps.log.info('OAuth2 authorization started', { clusterId, provider: auth.provider, startedBy });
    return { url, redirectUri: this.deps.redirectUri, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Decides what the callback does; makes a token request only for a valid, fresh, unused state. */
  async complete(params: CallbackParams): Promise<CallbackOutcome> {
    const state = params.state;
    if (!state) return { kind: 'invalid-state', reason: 'missing' };
    // A value we never issue cannot be a state of ours: no store lookup for it.
    if (!STATE_SHAPE.test(state)) return { kind: 'invalid-state', reason: 'unknown' };
    // Taken (deleted) before anything else: whatever happens next, this state is used up.
    const record = await this.deps.states.take(state);
    if (!record) {
      this.deps.log.warn('OAuth2 callback with an unknown or already used state');
      return { kind: 'invalid-state', reason: 'unknown' };
    }
    const { clusterId } = record;
    const now = this.deps.clock();
    const document = await this.deps.store.get(clusterId);
    const language = document?.config.language;
    const base = {
      clusterId,
      ...(language ? { language } : {}),
      ...(record.startedBy ? { startedBy: record.startedBy } : {}),
    };
    if (record.expiresAt <= now.getTime()) {
      this.deps.log.warn('OAuth2 callback with an expired state', { clusterId });
      return { ...base, kind: 'invalid-state', reason: 'expired' };
    }
    if (params.error !== undefined) {
      const error = clip(params.error, 100);
      this.deps.log.warn('OAuth2 provider returned an error', { clusterId, error });
      return {
        ...base,
        kind: 'provider-error',
        error,
        ...(params.error_description ? { description: clip(params.error_description, 1000) } : {}),
      };
    }
    const code = params.code;
    if (!code || code.length > MAX_PARAM_LENGTH) {
      return {
        ...base,
        kind: 'provider-error',
        error: 'invalid_request',
        description: 'no authorization code',
      };
    }
    const auth = document && oauthAuthOf(document.config);
    if (
      !auth ||
      auth.clientId !== record.clientId ||
      auth.tokenEndpoint !== record.tokenEndpoint ||
      !auth.clientSecret
    ) {
      return { ...base, kind: 'configuration-changed' };
    }

    let tokens: Awaited<ReturnType<TokenClient['exchangeCode']>>;
    try {
      tokens = await this.deps.tokens.exchangeCode({
        tokenEndpoint: auth.tokenEndpoint,
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        code,
        codeVerifier: record.codeVerifier,
        redirectUri: record.redirectUri,
      });
    } catch (error) {
      if (!(error instanceof TokenEndpointError)) throw error;
      const message = redact(error.message, [...secretsOf(document.config), code, record.codeVerifier]);
      this.deps.log.warn('OAuth2 code exchange failed', {
        clusterId,
        kind: error.failure.kind,
        ...(error.failure.kind === 'oauth-error' ? { error: error.failure.error } : {}),
        status: error.failure.status,
      });
      return { ...base, kind: 'exchange-failed', message, transient: error.failure.kind === 'unavailable' };
    }
    if (!tokens.refreshToken) {
      this.deps.log.warn('OAuth2 code exchange returned no refresh token', { clusterId });
      return { ...base, kind: 'no-refresh-token', provider: auth.provider };
    }

    const authorizedAs = mailboxFromIdToken(tokens.idToken);
    // Read again: an admin may have saved while the exchange ran; the grant goes onto the newest document.
    const latest = await this.deps.store.get(clusterId);
    const latestAuth = latest && oauthAuthOf(latest.config);
    if (
      !latest ||
      !latestAuth ||
      latestAuth.clientId !== auth.clientId ||
      latestAuth.tokenEndpoint !== auth.tokenEndpoint
    ) {
      return { ...base, kind: 'configuration-changed' };
    }
    const authorizedAt = this.deps.clock();
    const grant: OAuthGrant = {
      status: 'authorized',
      refreshToken: tokens.refreshToken,
      authorizedAt: authorizedAt.toISOString(),
      ...(tokens.refreshTokenExpiresIn
        ? {
            refreshTokenExpiresAt: new Date(
              authorizedAt.getTime() + tokens.refreshTokenExpiresIn * 1000,
            ).toISOString(),
          }
        : {}),
      ...(authorizedAs ? { authorizedAs } : {}),
      binding: oauthBindingOf(latestAuth),
    };
    // The new authorization replaces whatever grant is stored, also one a refresh wrote meanwhile;
    // the configuration is not written at all.
    await updateGrant(this.deps.grants, clusterId, await this.deps.grants.get(clusterId), () => grant);
    this.deps.log.info('OAuth2 authorized', {
      clusterId,
      provider: latestAuth.provider,
      authorizedAs,
      startedBy: record.startedBy,
    });
    const user = latestAuth.user ?? authorizedAs;
    return {
      ...base,
      kind: 'authorized',
      ...(authorizedAs ? { authorizedAs } : {}),
      ...(user ? { user } : {}),
    };
  }
}

export function oauthAuthOf(config: EmailConfig): OAuth2Auth | undefined {
  const auth = config.smtp?.auth;
  return config.transport === 'smtp' && auth?.type === 'oauth2' ? auth : undefined;
}

function clip(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}
