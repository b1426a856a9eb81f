// XOAUTH2 access tokens for the SMTP relay, from the refresh token the redirect flow stored.
// Our own provider, not nodemailer's built-in refresher: that one keeps the first refresh
// token forever and drops the rotated ones Microsoft returns.

import { redact } from '../../kernel/text.js';
import type { ConfigStore } from '../config/config-store.js';
import { type EmailConfig, hasNoGrant, type OAuth2Auth } from '../config/email-config.js';
import { parseMailbox } from '../config/field-schemas.js';
import { grantMatches, type OAuthGrant } from '../config/stored-config.js';
import { DeliveryError } from '../mail/mailer.js';
import type { Clock, Log } from '../ports.js';
import { AppOnlyTokens } from './app-only-tokens.js';
import { currentGrant, type GrantStore, updateGrant, type VersionedGrant } from './grant-store.js';
import { oauthAuthOf } from './oauth-authorization.js';
import {
  type AccessTokenSource,
  type TokenClient,
  TokenEndpointError,
  type TokenSet,
} from './oauth-ports.js';

export interface OAuthTokenProviderDeps {
  store: ConfigStore;
  grants: GrantStore;
  tokens: TokenClient;
  clock: Clock;
  log: Log;
  /** Refresh this long before the access token expires (default 5 minutes; at most half its lifetime). */
  refreshMarginMs?: number;
}

/** Reasons in DeliveryFailure.reason; diagnostics turns them into hints. */
export const OAUTH_REASONS = {
  notAuthorized: 'OAUTH_NOT_AUTHORIZED',
  needsAuthorization: 'OAUTH_NEEDS_AUTHORIZATION',
  invalidGrant: 'OAUTH_INVALID_GRANT',
  invalidClient: 'OAUTH_INVALID_CLIENT',
  invalidScope: 'OAUTH_INVALID_SCOPE',
  tokenError: 'OAUTH_TOKEN_ERROR',
  endpointUnavailable: 'OAUTH_TOKEN_ENDPOINT_UNAVAILABLE',
  badResponse: 'OAUTH_TOKEN_ENDPOINT_BAD_RESPONSE',
} as const;

/** Used when the token endpoint does not say how long the access token lives. */
const DEFAULT_LIFETIME_S = 3600;
const DEFAULT_MARGIN_MS = 5 * 60 * 1000;

interface CachedToken {
  accessToken: string;
  refreshAtMs: number;
  /** The grant the token came from: a new authorization or another client makes it stale. */
  grantKey: string;
}

/**
 * Access tokens per cluster, cached in memory until shortly before they expire; refreshed with
 * the stored refresh token; concurrent refreshes for one cluster in this process share one
 * request. The grant store is written only when something an admin or the next refresh needs
 * changed (a rotated refresh token, a new error, recovery from one), with a write conditional
 * on the version read: never the configuration, so a refresh cannot undo an admin's save.
 */
export class OAuthTokenProvider implements AccessTokenSource {
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<CachedToken>>();
  private readonly marginMs: number;
  private readonly appOnly: AppOnlyTokens;
  /** transport "graph": the same grant, for Graph's scope, failing at stage `token`. */
  readonly graphTokens: AppOnlyTokens;

  constructor(private readonly deps: OAuthTokenProviderDeps) {
    this.marginMs = deps.refreshMarginMs ?? DEFAULT_MARGIN_MS;
    this.appOnly = new AppOnlyTokens({
      tokens: deps.tokens,
      clock: deps.clock,
      log: deps.log,
      marginMs: this.marginMs,
      defaultLifetimeS: DEFAULT_LIFETIME_S,
    });
    this.graphTokens = new AppOnlyTokens({
      tokens: deps.tokens,
      clock: deps.clock,
      log: deps.log,
      marginMs: this.marginMs,
      defaultLifetimeS: DEFAULT_LIFETIME_S,
      stage: 'token',
    });
  }

  async accessTokenFor(
    clusterId: string,
    candidate?: OAuth2Auth,
  ): Promise<{ user: string; accessToken: string }> {
    if (candidate && hasNoGrant(candidate) && candidate.user) {
      return { user: candidate.user, accessToken: await this.appOnly.accessToken(clusterId, candidate) };
    }
    const document = await this.deps.store.get(clusterId);
    const auth = document && oauthAuthOf(document.config);
    if (!document || !auth) {
      throw authError(OAUTH_REASONS.notAuthorized, `Cluster "${clusterId}" is not configured for OAuth2`);
    }
    if (hasNoGrant(auth)) {
      // App-only or a service account: the schema requires the mailbox; the grant store is not involved.
      const user = xoauth2User(auth, undefined, document.config);
      return { user, accessToken: await this.appOnly.accessToken(clusterId, auth) };
    }
    const current = await currentGrant(this.deps.grants, clusterId, document);
    const grant = current && grantMatches(current.grant, document.config) ? current.grant : undefined;
    if (!current || !grant) {
      throw authError(
        OAUTH_REASONS.notAuthorized,
        'OAuth2 is configured but not authorized yet: no refresh token is stored for this cluster',
      );
    }
    if (grant.status !== 'authorized' || !grant.refreshToken) {
      throw authError(
        OAUTH_REASONS.needsAuthorization,
        `OAuth2 needs to be authorized again${grant.lastError ? `: ${grant.lastError}` : ''}`,
      );
    }
    const user = xoauth2User(auth, grant, document.config);
    const key = grantKey(grant);
    const cached = this.cache.get(clusterId);
    if (cached && cached.grantKey === key && this.deps.clock().getTime() < cached.refreshAtMs) {
      return { user, accessToken: cached.accessToken };
    }
    const fresh = await this.refreshOnce(clusterId, auth, current);
    return { user, accessToken: fresh.accessToken };
  }

  invalidate(clusterId: string): void {
    this.cache.delete(clusterId);
    this.appOnly.invalidate(clusterId);
    this.graphTokens.invalidate(clusterId);
  }

  private refreshOnce(clusterId: string, auth: OAuth2Auth, current: VersionedGrant): Promise<CachedToken> {
    const pending = this.inFlight.get(clusterId);
    if (pending) return pending;
    const started = this.refresh(clusterId, auth, current);
    const forget = () => {
      if (this.inFlight.get(clusterId) === started) this.inFlight.delete(clusterId);
    };
    started.then(forget, forget);
    this.inFlight.set(clusterId, started);
    return started;
  }

  private async refresh(clusterId: string, auth: OAuth2Auth, current: VersionedGrant): Promise<CachedToken> {
    const { grant } = current;
    const refreshToken = grant.refreshToken ?? '';
    const secrets = [auth.clientSecret ?? '', refreshToken];
    const started = this.deps.clock();
    let tokens: TokenSet;
    try {
      tokens = await this.deps.tokens.refresh({
        tokenEndpoint: auth.tokenEndpoint,
        clientId: auth.clientId,
        clientSecret: auth.clientSecret ?? '',
        refreshToken,
        // Google issues the token for the granted scopes; Microsoft needs the resource scope named.
        ...(auth.provider === 'google' ? {} : { scopes: auth.scopes }),
      });
    } catch (error) {
      this.cache.delete(clusterId);
      if (!(error instanceof TokenEndpointError)) throw error;
      throw await this.failed(clusterId, current, error, redact(error.message, secrets));
    }

    const lifetimeMs = (tokens.expiresIn ?? DEFAULT_LIFETIME_S) * 1000;
    const entry: CachedToken = {
      accessToken: tokens.accessToken,
      refreshAtMs: started.getTime() + lifetimeMs - Math.min(this.marginMs, lifetimeMs / 2),
      grantKey: grantKey(grant),
    };
    this.cache.set(clusterId, entry);
    const rotated = tokens.refreshToken !== undefined && tokens.refreshToken !== refreshToken;
    this.deps.log.info('OAuth2 access token refreshed', {
      clusterId,
      rotated,
      expiresInSeconds: tokens.expiresIn,
    });
    // Written only when it changed something: a rotated token, or an error that no longer holds.
    if (rotated || grant.lastError !== undefined || grant.status !== 'authorized') {
      await this.recordRefresh(clusterId, current, refreshToken, {
        ...(rotated && tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
        ...(rotated && tokens.refreshTokenExpiresIn
          ? {
              refreshTokenExpiresAt: new Date(
                started.getTime() + tokens.refreshTokenExpiresIn * 1000,
              ).toISOString(),
            }
          : {}),
        lastRefreshAt: started.toISOString(),
      });
    }
    return entry;
  }

  /** Turns a token endpoint failure into a DeliveryError, and remembers it on the grant when an admin must act. */
  private async failed(
    clusterId: string,
    current: VersionedGrant,
    error: TokenEndpointError,
    message: string,
  ): Promise<DeliveryError> {
    const { failure } = error;
    if (failure.kind === 'unavailable') {
      this.deps.log.warn('OAuth2 token endpoint unavailable', { clusterId, reason: failure.reason });
      return authError(OAUTH_REASONS.endpointUnavailable, message, true);
    }
    if (failure.kind === 'bad-response') {
      this.deps.log.warn('OAuth2 token endpoint gave an unusable answer', {
        clusterId,
        status: failure.status,
      });
      await this.recordFailure(clusterId, current, message, false);
      return authError(OAUTH_REASONS.badResponse, message);
    }
    this.deps.log.warn('OAuth2 refresh refused', { clusterId, error: failure.error, status: failure.status });
    if (failure.error === 'invalid_grant') {
      const lastError = `The provider refused the stored refresh token (${message}); click Authorize again`;
      await this.recordFailure(clusterId, current, lastError, true);
      return authError(OAUTH_REASONS.invalidGrant, message);
    }
    await this.recordFailure(clusterId, current, message, false);
    const reason =
      failure.error === 'invalid_client' || failure.error === 'unauthorized_client'
        ? OAUTH_REASONS.invalidClient
        : failure.error === 'invalid_scope'
          ? OAUTH_REASONS.invalidScope
          : OAUTH_REASONS.tokenError;
    // 4xx other than these (e.g. 429 throttling from the endpoint) may pass.
    return authError(reason, message, failure.status === 429);
  }

  private async recordRefresh(
    clusterId: string,
    read: VersionedGrant,
    usedRefreshToken: string,
    changes: Partial<OAuthGrant>,
  ): Promise<void> {
    await this.updateGrant(clusterId, read, usedRefreshToken, (grant) => {
      const { lastError: _e, lastErrorAt: _a, ...rest } = grant;
      return { ...rest, ...changes, status: 'authorized' };
    });
  }

  private async recordFailure(
    clusterId: string,
    read: VersionedGrant,
    lastError: string,
    needsAuthorization: boolean,
  ): Promise<void> {
    const lastErrorAt = this.deps.clock().toISOString();
    await this.updateGrant(clusterId, read, read.grant.refreshToken ?? '', (grant) => {
      // The same error again is no news: no write for every event that meets it.
      if (!needsAuthorization)
        return grant.lastError === lastError ? undefined : { ...grant, lastError, lastErrorAt };
      // A refused refresh token is of no further use: it leaves the store with the status change.
      const { refreshToken: _r, ...rest } = grant;
      return { ...rest, status: 'needs-authorization', lastError, lastErrorAt };
    });
  }

  /**
   * A conditional write of the grant read, re-read after a conflict, and only while the stored
   * grant is still the one that holds `usedRefreshToken`: an admin who authorized again, or
   * another process that stored a rotated token meanwhile, keeps what they wrote. A failed write
   * is logged, not thrown: the access token in hand is still good.
   */
  private async updateGrant(
    clusterId: string,
    read: VersionedGrant,
    usedRefreshToken: string,
    change: (grant: OAuthGrant) => OAuthGrant | undefined,
  ): Promise<void> {
    try {
      await updateGrant(this.deps.grants, clusterId, read, (grant) =>
        grant && grant.refreshToken === usedRefreshToken ? change(grant) : undefined,
      );
    } catch (error) {
      this.deps.log.error('Could not store the OAuth2 grant state', {
        clusterId,
        error: error instanceof Error ? error.name : 'unknown',
      });
    }
  }
}

function authError(reason: string, message: string, transient = false): DeliveryError {
  return new DeliveryError({ stage: 'auth', transient, reason, message });
}

function grantKey(grant: OAuthGrant): string {
  const { binding } = grant;
  return JSON.stringify([
    binding.provider,
    binding.tenant,
    binding.clientId,
    binding.tokenEndpoint,
    grant.authorizedAt,
  ]);
}

/** The XOAUTH2 user: the configured mailbox, else the one that authorized, else the sender. */
export function xoauth2User(auth: OAuth2Auth, grant: OAuthGrant | undefined, config: EmailConfig): string {
  if (auth.user) return auth.user;
  if (grant?.authorizedAs) return grant.authorizedAs;
  const sender = parseMailbox(config.sender);
  return typeof sender === 'string' ? config.sender : sender.address;
}
