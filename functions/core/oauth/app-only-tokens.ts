// App-only access tokens (the client-credentials grant, Microsoft's SMTP.SendAsApp): fetched
// when needed, cached in memory until shortly before they expire, never stored. No grant, no
// Authorize step: the client's secret or certificate is all it takes.

import { createHash } from 'node:crypto';
import { redact } from '../../kernel/text.js';
import { DeliveryError, type DeliveryStage } from '../mail/mailer.js';
import type { Clock, Log } from '../ports.js';
import { clientAssertion } from './client-assertion.js';
import { type TokenClient, TokenEndpointError, type TokenSet } from './oauth-ports.js';

export interface AppOnlyTokensDeps {
  tokens: TokenClient;
  clock: Clock;
  log: Log;
  marginMs: number;
  defaultLifetimeS: number;
  /** The stage a failed token request is reported at: `auth` for SMTP (the default), `token` for Graph. */
  stage?: DeliveryStage;
}

/**
 * What the client-credentials grant needs: an app-only `smtp.auth` (OAuth2Auth) and the `graph`
 * block both provide it.
 */
export interface AppOnlyCredential {
  tokenEndpoint: string;
  clientId: string;
  scopes: string[];
  clientSecret?: string | undefined;
  clientCertificate?: { privateKeyPem?: string | undefined; certificatePem: string } | undefined;
  /** The mailbox the token is used for (part of the cache key). */
  user?: string | undefined;
}

interface Cached {
  accessToken: string;
  refreshAtMs: number;
  /** A hash of everything the token depends on: another client, secret, key or mailbox makes it stale. */
  key: string;
}

/** The AADSTS code in an Entra ID error description, e.g. `AADSTS7000215`. */
export function aadstsCode(text: string): string | undefined {
  return /\bAADSTS\d{5,8}\b/.exec(text)?.[0];
}

export class AppOnlyTokens {
  private readonly cache = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<Cached>>();

  constructor(private readonly deps: AppOnlyTokensDeps) {}

  private get stage(): DeliveryStage {
    return this.deps.stage ?? 'auth';
  }

  async accessToken(clusterId: string, auth: AppOnlyCredential): Promise<string> {
    const key = credentialKey(auth);
    const cached = this.cache.get(clusterId);
    if (cached && cached.key === key && this.deps.clock().getTime() < cached.refreshAtMs)
      return cached.accessToken;
    const pending = this.inFlight.get(clusterId);
    if (pending) return (await pending).accessToken;
    const started = this.fetch(clusterId, auth, key);
    const forget = () => {
      if (this.inFlight.get(clusterId) === started) this.inFlight.delete(clusterId);
    };
    started.then(forget, forget);
    this.inFlight.set(clusterId, started);
    return (await started).accessToken;
  }

  invalidate(clusterId: string): void {
    this.cache.delete(clusterId);
  }

  private async fetch(clusterId: string, auth: AppOnlyCredential, key: string): Promise<Cached> {
    const started = this.deps.clock();
    const certificate = auth.clientCertificate;
    const secrets = [auth.clientSecret ?? '', certificate?.privateKeyPem ?? ''];
    let tokens: TokenSet;
    try {
      if (certificate && !certificate.privateKeyPem) {
        throw authError(
          'OAUTH_INVALID_CLIENT',
          'No private key is stored for the client certificate: save clientCertificate.privateKeyPem',
          false,
          this.stage,
        );
      }
      if (!certificate && !auth.clientSecret) {
        throw authError(
          'OAUTH_INVALID_CLIENT',
          'No client secret or client certificate is stored',
          false,
          this.stage,
        );
      }
      const assertion =
        certificate?.privateKeyPem &&
        clientAssertion({
          clientId: auth.clientId,
          tokenEndpoint: auth.tokenEndpoint,
          privateKeyPem: certificate.privateKeyPem,
          certificatePem: certificate.certificatePem,
          now: started,
        });
      if (assertion) secrets.push(assertion);
      tokens = await this.deps.tokens.clientCredentials({
        tokenEndpoint: auth.tokenEndpoint,
        clientId: auth.clientId,
        scopes: auth.scopes,
        ...(assertion ? { clientAssertion: assertion } : { clientSecret: auth.clientSecret ?? '' }),
      });
    } catch (error) {
      this.cache.delete(clusterId);
      if (!(error instanceof TokenEndpointError)) throw error;
      throw this.failed(clusterId, error, redact(error.message, secrets.filter(Boolean)));
    }
    const lifetimeMs = (tokens.expiresIn ?? this.deps.defaultLifetimeS) * 1000;
    const entry: Cached = {
      accessToken: tokens.accessToken,
      refreshAtMs: started.getTime() + lifetimeMs - Math.min(this.deps.marginMs, lifetimeMs / 2),
      key,
    };
    this.cache.set(clusterId, entry);
    this.deps.log.info('OAuth2 app-only access token fetched', {
      clusterId,
      clientAuthentication: certificate ? 'certificate' : 'secret',
      expiresInSeconds: tokens.expiresIn,
    });
    return entry;
  }

  private failed(clusterId: string, error: TokenEndpointError, message: string): DeliveryError {
    const { failure } = error;
    if (failure.kind === 'unavailable') {
      this.deps.log.warn('OAuth2 token endpoint unavailable', { clusterId, reason: failure.reason });
      return authError('OAUTH_TOKEN_ENDPOINT_UNAVAILABLE', message, true, this.stage);
    }
    if (failure.kind === 'bad-response') {
      this.deps.log.warn('OAuth2 token endpoint gave an unusable answer', {
        clusterId,
        status: failure.status,
      });
      return authError('OAUTH_TOKEN_ENDPOINT_BAD_RESPONSE', message, false, this.stage);
    }
    const aadsts = aadstsCode(failure.description ?? '');
    this.deps.log.warn('OAuth2 client-credentials grant refused', {
      clusterId,
      error: failure.error,
      status: failure.status,
      ...(aadsts ? { aadsts } : {}),
    });
    const reason =
      failure.error === 'invalid_client' || failure.error === 'unauthorized_client'
        ? 'OAUTH_INVALID_CLIENT'
        : failure.error === 'invalid_scope'
          ? 'OAUTH_INVALID_SCOPE'
          : 'OAUTH_TOKEN_ERROR';
    return authError(reason, message, failure.status === 429, this.stage);
  }
}

function authError(
  reason: string,
  message: string,
  transient = false,
  stage: DeliveryStage = 'auth',
): DeliveryError {
  return new DeliveryError({ stage, transient, reason, message });
}

function credentialKey(auth: AppOnlyCredential): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        auth.tokenEndpoint,
        auth.clientId,
        auth.user,
        auth.scopes,
        auth.clientSecret,
        auth.clientCertificate?.privateKeyPem,
        auth.clientCertificate?.certificatePem,
      ]),
    )
    .digest('base64url');
}
