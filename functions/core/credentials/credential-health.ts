// The credential health watch: how long the credentials a cluster sends with still work, from
// the expiry an admin entered next to a secret, the OAuth2 grant's age against the provider's
// limits, and the grant's last refusal. Pure: the caller reads the stores and injects the clock.

import { certificateFacts } from '../config/client-certificate.js';
import type { EmailConfig } from '../config/email-config.js';
import { grantMatches, type StoredEmailConfig } from '../config/stored-config.js';
import { expiryInstant } from './credential-expiry.js';

export const CREDENTIAL_HEALTH_STATUSES = ['ok', 'expiring', 'expired', 'failing'] as const;
export type CredentialHealthStatus = (typeof CREDENTIAL_HEALTH_STATUSES)[number];

/** Which credential a health or a warning is about. */
export const CREDENTIAL_KINDS = [
  'client-secret',
  'client-certificate',
  'password',
  'refresh-token',
  'service-account-key',
] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export interface CredentialHealth {
  status: CredentialHealthStatus;
  /** The credential the status is about (the worst of the cluster's). */
  credential?: CredentialKind;
  /** When it stops working (ISO 8601), where known. */
  expiresAt?: string;
  /** Whole days left, rounded up (0 or less once expired). */
  daysLeft?: number;
  /** One English sentence for an admin; never a secret. */
  detail: string;
}

/**
 * The days ahead of an expiry that a warning starts (the service setting; per cluster it is not
 * configurable yet). Warning emails go out at this many days, at 3 and at 1 day before, and once
 * at expiry.
 */
export const DEFAULT_CREDENTIAL_WARNING_DAYS = 14;
const LATER_THRESHOLDS = [3, 1] as const;

/**
 * How long a refresh token lives without use, by provider. Microsoft: 90 days of inactivity.
 * Google's 7 days in "Testing" apply from the consent, whatever the use, and only Google can say
 * whether the consent screen is in Testing: that comes from the token response's
 * `refresh_token_expires_in` (the grant's `refreshTokenExpiresAt`), not from a rule here.
 */
export const REFRESH_TOKEN_IDLE_DAYS: Partial<Record<string, number>> = { microsoft: 90 };

const DAY_MS = 24 * 60 * 60 * 1000;

/** What of the OAuth2 grant the watch reads (a grant that belongs to the configuration). */
export interface CredentialGrantFacts {
  status: 'authorized' | 'needs-authorization';
  authorizedAt: string;
  lastRefreshAt?: string | undefined;
  lastError?: string | undefined;
  lastErrorAt?: string | undefined;
  /** From the token response's `refresh_token_expires_in`, when the provider sent it. */
  refreshTokenExpiresAt?: string | undefined;
}

export interface CredentialHealthInput {
  config: EmailConfig;
  grant?: CredentialGrantFacts | undefined;
  /** For a configuration without a grant: the provider's refusal in its latest delivery (providerRefusal). */
  refusal?: { error: string; at: string } | undefined;
  now: Date;
  warningDays?: number;
}

/** One credential with a known end. */
export interface CredentialExpiry {
  credential: CredentialKind;
  expiresAt: Date;
  /** Why it ends then, for the detail sentence. */
  basis: 'entered' | 'idle-limit' | 'provider' | 'certificate';
}

const NAMES: Record<CredentialKind, string> = {
  'client-secret': 'The OAuth2 client secret',
  'client-certificate': 'The OAuth2 client certificate',
  password: 'The relay password',
  'refresh-token': 'The OAuth2 refresh token',
  'service-account-key': 'The Google service account key',
};

const RENEW: Record<CredentialKind, string> = {
  'client-secret':
    'create a new client secret at the provider (Entra ID: App registrations, Certificates & secrets), then save it here with its clientSecretExpiresAt',
  'client-certificate':
    'create a new certificate, upload it to the app registration (Entra ID: Certificates & secrets), then save it here with its private key',
  password: 'change the password at the relay, then save it here with its passwordExpiresAt',
  'refresh-token': 'click Authorize again',
  'service-account-key':
    'create a new JSON key for the service account in the Google Cloud console, then save it here',
};

/** The credentials of the configuration whose end is known. */
export function credentialExpiries(config: EmailConfig, grant?: CredentialGrantFacts): CredentialExpiry[] {
  if (config.transport === 'graph' && config.graph) return known(clientExpiries(config.graph));
  const auth = config.transport === 'smtp' ? config.smtp?.auth : undefined;
  const expiries: CredentialExpiry[] = [];
  if (auth?.type === 'password' && auth.passwordExpiresAt) {
    expiries.push({
      credential: 'password',
      expiresAt: expiryInstant(auth.passwordExpiresAt),
      basis: 'entered',
    });
  }
  if (auth?.type === 'oauth2') {
    expiries.push(...clientExpiries(auth));
    if (grant && grant.status === 'authorized') {
      const ends: CredentialExpiry[] = [];
      if (grant.refreshTokenExpiresAt) {
        ends.push({
          credential: 'refresh-token',
          expiresAt: new Date(grant.refreshTokenExpiresAt),
          basis: 'provider',
        });
      }
      const idleDays = REFRESH_TOKEN_IDLE_DAYS[auth.provider];
      if (idleDays !== undefined) {
        const lastUse = Date.parse(grant.lastRefreshAt ?? grant.authorizedAt);
        ends.push({
          credential: 'refresh-token',
          expiresAt: new Date(lastUse + idleDays * DAY_MS),
          basis: 'idle-limit',
        });
      }
      const first = ends.sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())[0];
      if (first) expiries.push(first);
    }
  }
  return known(expiries);
}

const known = (expiries: CredentialExpiry[]) =>
  expiries.filter((expiry) => Number.isFinite(expiry.expiresAt.getTime()));

/**
 * An OAuth2 client's own credentials (`smtp.auth`, or the `graph` block): the client secret's
 * entered expiry, and the certificate's, which is in the certificate itself (its notAfter).
 */
function clientExpiries(client: {
  clientSecretExpiresAt?: string | undefined;
  clientCertificate?: { certificatePem: string } | undefined;
}): CredentialExpiry[] {
  const expiries: CredentialExpiry[] = [];
  if (client.clientSecretExpiresAt) {
    expiries.push({
      credential: 'client-secret',
      expiresAt: expiryInstant(client.clientSecretExpiresAt),
      basis: 'entered',
    });
  }
  const certificate = client.clientCertificate?.certificatePem
    ? certificateFacts(client.clientCertificate.certificatePem)
    : undefined;
  if (certificate) {
    expiries.push({
      credential: 'client-certificate',
      expiresAt: new Date(certificate.notAfter),
      basis: 'certificate',
    });
  }
  return expiries;
}

/** Whole days left, rounded up: 14 days and a minute is 15, exactly 14 days is 14, expired is 0 or less. */
export function daysLeft(expiresAt: Date, now: Date): number {
  return Math.ceil((expiresAt.getTime() - now.getTime()) / DAY_MS);
}

/** The provider's refusal of the grant (`invalid_grant`, an Entra ID `AADSTS` code), if that is the last error. */
export function grantRefusal(grant: CredentialGrantFacts | undefined): string | undefined {
  const error = grant?.lastError;
  if (!error) return undefined;
  return /\bAADSTS\d+/.exec(error)?.[0] ?? (/\binvalid_grant\b/.test(error) ? 'invalid_grant' : undefined);
}

function dateOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function plural(days: number): string {
  return `${days} ${days === 1 ? 'day' : 'days'}`;
}

/** The health of one credential with a known end. */
export function expiryHealth(expiry: CredentialExpiry, now: Date, warningDays: number): CredentialHealth {
  const left = daysLeft(expiry.expiresAt, now);
  const name = NAMES[expiry.credential];
  const base = { credential: expiry.credential, expiresAt: expiry.expiresAt.toISOString(), daysLeft: left };
  const why =
    expiry.basis === 'idle-limit'
      ? ' (Microsoft ends a refresh token after 90 days without use; every token refresh, such as the daily notice’s, renews it)'
      : expiry.basis === 'certificate'
        ? ' (its notAfter)'
        : expiry.basis === 'provider'
          ? ' (as the provider said when it issued it, e.g. Google for an app whose consent screen is in Testing)'
          : '';
  if (expiry.expiresAt.getTime() <= now.getTime()) {
    return {
      status: 'expired',
      ...base,
      detail: `${name} expired on ${dateOf(expiry.expiresAt)}${why}: ${RENEW[expiry.credential]}`,
    };
  }
  if (left <= warningDays) {
    return {
      status: 'expiring',
      ...base,
      detail: `${name} expires in ${plural(left)}, on ${dateOf(expiry.expiresAt)}${why}: ${RENEW[expiry.credential]}`,
    };
  }
  return {
    status: 'ok',
    ...base,
    detail: `${name} expires on ${dateOf(expiry.expiresAt)} (in ${plural(left)})${why}`,
  };
}

const RANK: Record<CredentialHealthStatus, number> = { failing: 0, expired: 1, expiring: 2, ok: 3 };

/** The worst of several healths: the lowest rank, then the earliest expiry. */
function worstOf(healths: CredentialHealth[]): CredentialHealth | undefined {
  return healths.sort(
    (a, b) =>
      RANK[a.status] - RANK[b.status] || Date.parse(a.expiresAt ?? '') - Date.parse(b.expiresAt ?? ''),
  )[0];
}

/**
 * The credential a configuration without a grant signs in with (app-only SMTP, a Google
 * service account, transport graph): there is no grant to keep its last refusal, so that comes
 * from the deliveries (`refusal`). Undefined for the delegated flow and for passwords.
 */
/** Whether the credential health of this configuration reads its deliveries (it has no grant to read). */
export const healthReadsDeliveries = (config: EmailConfig): boolean =>
  unattendedCredential(config) !== undefined;

function unattendedCredential(config: EmailConfig): { kind: CredentialKind; advice: string } | undefined {
  const graph = config.transport === 'graph' ? config.graph : undefined;
  const auth = config.transport === 'smtp' ? config.smtp?.auth : undefined;
  if (auth?.type === 'oauth2' && auth.flow === 'service-account') {
    return {
      kind: 'service-account-key',
      advice:
        'check that the key is still active in the Google Cloud console and that the domain-wide delegation (client ID and scope) is in place, then send a test email',
    };
  }
  const client = graph ?? (auth?.type === 'oauth2' && auth.flow === 'client-credentials' ? auth : undefined);
  if (!client) return undefined;
  const certificate = client.clientCertificate !== undefined;
  return {
    kind: certificate ? 'client-certificate' : 'client-secret',
    advice: `check the ${certificate ? 'certificate' : 'client secret'} and the permission’s admin consent in the Entra ID app registration, then send a test email`,
  };
}

/**
 * The cluster's credential health: the worst of its credentials (a refused grant or, for a
 * configuration without a grant, a refusal in its latest delivery; then the earliest expiry).
 * Undefined where there is no credential to watch (SES, a relay without authentication).
 */
export function credentialHealth(input: CredentialHealthInput): CredentialHealth | undefined {
  const { config, grant, now } = input;
  const warningDays = input.warningDays ?? DEFAULT_CREDENTIAL_WARNING_DAYS;
  const auth = config.transport === 'smtp' ? config.smtp?.auth : undefined;
  const graph = config.transport === 'graph' ? config.graph : undefined;
  if (!graph && (!auth || auth.type === 'none')) return undefined;

  const unattended = unattendedCredential(config);
  if (unattended && input.refusal) {
    return {
      status: 'failing',
      credential: unattended.kind,
      detail: `The provider refused ${NAMES[unattended.kind].replace(/^The /, 'the ')} (${input.refusal.error}) on ${dateOf(new Date(input.refusal.at))}, and nothing has been delivered since: ${unattended.advice}`,
    };
  }
  const refusal = !unattended && auth?.type === 'oauth2' ? grantRefusal(grant) : undefined;
  if (refusal) {
    const when = grant?.lastErrorAt ? ` on ${dateOf(new Date(grant.lastErrorAt))}` : '';
    return {
      status: 'failing',
      credential: refusal === 'invalid_grant' ? 'refresh-token' : 'client-secret',
      detail: `The provider refused the OAuth2 credentials (${refusal})${when}: ${
        refusal === 'invalid_grant'
          ? 'the refresh token was revoked or expired, click Authorize again'
          : 'check the client secret and the app registration in Entra ID, then click Authorize again'
      }`,
    };
  }

  const worst = worstOf(
    credentialExpiries(config, grant).map((expiry) => expiryHealth(expiry, now, warningDays)),
  );
  if (worst) return worst;
  if (unattended?.kind === 'service-account-key') {
    return {
      status: 'ok',
      credential: 'service-account-key',
      detail:
        'A Google service account key does not expire unless an organization policy limits its lifetime; the daily notice’s token request proves it still works',
    };
  }
  return {
    status: 'ok',
    detail: graph
      ? 'No expiry is known for the Microsoft Graph client secret: enter graph.clientSecretExpiresAt to be warned before it expires'
      : auth?.type === 'password'
        ? 'No expiry is known for the relay password: enter smtp.auth.passwordExpiresAt to be warned before it expires'
        : 'No expiry is known for the OAuth2 client secret: enter smtp.auth.clientSecretExpiresAt to be warned before it expires',
  };
}

/** What a delivery says of the credentials it was sent with. */
export interface SendEvidence {
  at: string;
  ok: boolean;
  /** Why it failed (the delivery log's reason, the test email's message). */
  text?: string | undefined;
}

/** The provider's words for a refused client, key or grant: Entra ID's AADSTS code first, else OAuth2's error. */
const PROVIDER_REFUSALS = [/\bAADSTS\d{5,8}\b/, /\b(?:invalid_client|unauthorized_client|invalid_grant)\b/];

/**
 * The provider's refusal in the latest delivery, if that failed for it: what a configuration
 * without a grant has instead of the grant's last error. A later delivery that went out clears it.
 */
export function providerRefusal(evidence: SendEvidence[]): { error: string; at: string } | undefined {
  const latest = evidence
    .filter((item) => Number.isFinite(Date.parse(item.at)))
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
  if (!latest || latest.ok) return undefined;
  const text = latest.text ?? '';
  const error = PROVIDER_REFUSALS.map((pattern) => pattern.exec(text)?.[0]).find(Boolean);
  return error ? { error, at: latest.at } : undefined;
}

/**
 * The deliveries that tried the cluster's credentials: sent and failed events and daily notices,
 * and the last test email of a saved configuration (a form's test says nothing of what is stored).
 */
export function sendEvidenceOf(
  records: ReadonlyArray<{ outcome: string; at: string; reason?: string | undefined }>,
  lastTest?: { ok: boolean; at: string; message?: string | undefined; of: object },
): SendEvidence[] {
  const evidence: SendEvidence[] = records
    .filter((record) => record.outcome === 'sent' || record.outcome === 'failed')
    .map((record) => ({ at: record.at, ok: record.outcome === 'sent', text: record.reason }));
  if (lastTest && !('unsaved' in lastTest.of)) {
    evidence.push({ at: lastTest.at, ok: lastTest.ok, text: lastTest.message });
  }
  return evidence;
}

/**
 * The warning thresholds, in days before expiry, largest first: the warning days, 3 and 1,
 * and 0 (the day it expired).
 */
export function warningThresholds(warningDays = DEFAULT_CREDENTIAL_WARNING_DAYS): number[] {
  const days = new Set([warningDays, ...LATER_THRESHOLDS.filter((d) => d < warningDays), 0]);
  return [...days].sort((a, b) => b - a);
}

/** The smallest threshold the credential has reached (a warning per threshold), or undefined before the first. */
export function thresholdReached(
  left: number,
  warningDays = DEFAULT_CREDENTIAL_WARNING_DAYS,
): number | undefined {
  const reached = warningThresholds(warningDays).filter((threshold) => left <= threshold);
  return reached.length > 0 ? Math.min(...reached) : undefined;
}

/**
 * The credential health of a stored document (its grant in `oauth`, used only while it belongs
 * to the configuration), and for a configuration without a grant what its latest deliveries say
 * (sendEvidenceOf).
 */
export function credentialHealthOf(
  document: StoredEmailConfig,
  now: Date,
  warningDays?: number,
  evidence: SendEvidence[] = [],
): CredentialHealth | undefined {
  const grant = document.oauth && grantMatches(document.oauth, document.config) ? document.oauth : undefined;
  // A refusal from before the configuration was last saved was of other credentials.
  const since = Date.parse(document.updatedAt);
  const refusal = providerRefusal(evidence.filter((item) => !(Date.parse(item.at) < since)));
  return credentialHealth({
    config: document.config,
    grant,
    now,
    ...(refusal ? { refusal } : {}),
    ...(warningDays !== undefined ? { warningDays } : {}),
  });
}
