// App-only access tokens (the client-credentials grant, Microsoft's SMTP.SendAsApp; the JWT
// bearer grant of a Google service account with domain-wide delegation): fetched when needed,
// cached in memory until shortly before they expire, never stored. No grant, no Authorize step:
// the client's secret or certificate, or the service account's key, is all it takes.

import { createHash } from 'node:crypto';
import { redact } from '../../kernel/text.js';
import type { OAuth2Auth } from '../config/email-config.js';
import { DeliveryError, type DeliveryStage } from '../mail/mailer.js';
import type { Clock, Log } from '../ports.js';
import { clientAssertion } from './client-assertion.js';
import { jwtBearerAssertion } from './jwt-bearer-assertion.js';
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
 * What the grants need: an app-only or service-account `smtp.auth` (OAuth2Auth) and the `graph`
 * block (client credentials, for Graph's scope) both provide it.
 */
export interface AppOnlyCredential {
  tokenEndpoint: string;
  clientId: string;
  scopes: string[];
  clientSecret?: string | undefined;
  clientCertificate?: { privateKeyPem?: string | undefined; certificatePem: string } | undefined;
  /** The mailbox the token is used for (part of the cache key; the service account's `sub`). */
  user?: string | undefined;
  flow?: OAuth2Auth['flow'];
  serviceAccountKey?: OAuth2Auth['serviceAccountKey'];
}

/** A grant's token, and what its log line says (never a secret). */
interface Granted {
  tokens: TokenSet;
  logged: { message: string; fields: Record<string, unknown> };
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
    // Shared only by requests for the same credentials: a test of an unsaved candidate never
    // gets the token of the saved configuration, nor the other way round.
    const flight = `${clusterId}\0${key}`;
    const pending = this.inFlight.get(flight);
    if (pending) return (await pending).accessToken;
    const started = this.fetch(clusterId, auth, key);
    const forget = () => {
      if (this.inFlight.get(flight) === started) this.inFlight.delete(flight);
    };
    started.then(forget, forget);
    this.inFlight.set(flight, started);
    return (await started).accessToken;
  }

  invalidate(clusterId: string): void {
    this.cache.delete(clusterId);
  }

  private async fetch(clusterId: string, auth: AppOnlyCredential, key: string): Promise<Cached> {
    const started = this.deps.clock();
    // What a grant puts here is redacted from the token endpoint's error messages.
    const secrets: string[] = [];
    let granted: Granted;
    try {
      granted =
        auth.flow === 'service-account'
          ? await this.serviceAccountGrant(auth, started, secrets)
          : await this.clientCredentialsGrant(auth, started, secrets);
    } catch (error) {
      this.cache.delete(clusterId);
      if (!(error instanceof TokenEndpointError)) throw error;
      throw this.failed(clusterId, error, redact(error.message, secrets.filter(Boolean)), auth);
    }
    const { tokens, logged } = granted;
    const entry = this.cached(tokens, started, key);
    this.cache.set(clusterId, entry);
    this.deps.log.info(logged.message, { clusterId, ...logged.fields, expiresInSeconds: tokens.expiresIn });
    return entry;
  }

  /** The client-credentials grant, with the client secret or a certificate's client assertion. */
  private async clientCredentialsGrant(
    auth: AppOnlyCredential,
    now: Date,
    secrets: string[],
  ): Promise<Granted> {
    const certificate = auth.clientCertificate;
    secrets.push(auth.clientSecret ?? '', certificate?.privateKeyPem ?? '');
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
        now,
      });
    if (assertion) secrets.push(assertion);
    const tokens = await this.deps.tokens.clientCredentials({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: auth.clientId,
      scopes: auth.scopes,
      ...(assertion ? { clientAssertion: assertion } : { clientSecret: auth.clientSecret ?? '' }),
    });
    return {
      tokens,
      logged: {
        message: 'OAuth2 app-only access token fetched',
        fields: { clientAuthentication: certificate ? 'certificate' : 'secret' },
      },
    };
  }

  /** The JWT bearer grant: the service account asks for a token for the mailbox (`sub`) it impersonates. */
  private async serviceAccountGrant(auth: AppOnlyCredential, now: Date, secrets: string[]): Promise<Granted> {
    const serviceAccount = auth.serviceAccountKey;
    secrets.push(serviceAccount?.private_key ?? '');
    if (!serviceAccount?.private_key) {
      throw authError(
        'OAUTH_INVALID_CLIENT',
        'No private key is stored for the service account: save its JSON key (serviceAccountKey)',
        false,
        this.stage,
      );
    }
    if (!auth.user) {
      throw authError(
        'OAUTH_INVALID_CLIENT',
        'No mailbox (user) is configured for the service account',
        false,
        this.stage,
      );
    }
    const assertion = jwtBearerAssertion({
      issuer: serviceAccount.client_email,
      subject: auth.user,
      scopes: auth.scopes,
      audience: auth.tokenEndpoint,
      privateKeyPem: serviceAccount.private_key,
      keyId: serviceAccount.private_key_id,
      now,
    });
    secrets.push(assertion);
    const tokens = await this.deps.tokens.jwtBearer({ tokenEndpoint: auth.tokenEndpoint, assertion });
    return {
      tokens,
      logged: {
        message: 'OAuth2 service account access token fetched',
        fields: { serviceAccount: serviceAccount.client_email, keyId: serviceAccount.private_key_id },
      },
    };
  }

  private cached(tokens: TokenSet, started: Date, key: string): Cached {
    const lifetimeMs = (tokens.expiresIn ?? this.deps.defaultLifetimeS) * 1000;
    return {
      accessToken: tokens.accessToken,
      refreshAtMs: started.getTime() + lifetimeMs - Math.min(this.deps.marginMs, lifetimeMs / 2),
      key,
    };
  }

  private failed(
    clusterId: string,
    error: TokenEndpointError,
    message: string,
    auth?: AppOnlyCredential,
  ): DeliveryError {
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
    this.deps.log.warn(
      `OAuth2 ${auth?.flow === 'service-account' ? 'service account (JWT bearer)' : 'client-credentials'} grant refused`,
      {
        clusterId,
        error: failure.error,
        status: failure.status,
        ...(aadsts ? { aadsts } : {}),
      },
    );
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
        // A service account's token is for its key and the mailbox it impersonates (auth.user above).
        auth.flow,
        auth.serviceAccountKey?.client_email,
        auth.serviceAccountKey?.private_key_id,
        auth.serviceAccountKey?.private_key,
      ]),
    )
    .digest('base64url');
}
