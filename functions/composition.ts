// The one composition root: every service is assembled here, from adapters that
// `awsAdapters(env)` (Lambda) or `localAdapters(options)` (the embedded runtime) construct, or
// that a test builds. The two deployments differ only in what they pass in.
import type { Logger } from '@aws-lambda-powertools/logger';
import { type AuditLog, InMemoryAuditLog, LoggedAuditLog } from './core/audit/audit-log.js';
import type { ConfigHistory } from './core/config/config-history.js';
import type { ConfigStore } from './core/config/config-store.js';
import { EmailConfigService } from './core/config/email-config-service.js';
import { DailyNoticeService } from './core/daily-notice/daily-notice-service.js';
import { FleetOverviewService } from './core/fleet/fleet-overview-service.js';
import type { EgressMode } from './core/mail/diagnostics.js';
import type { MailerFactory } from './core/mail/mailer.js';
import type { RelayGate } from './core/mail/relay-gate.js';
import type { DeliveryLedger, GroupLedger } from './core/notify/delivery-ledger.js';
import { NotifyService } from './core/notify/notify-service.js';
import type { GrantStore } from './core/oauth/grant-store.js';
import { OAuthAuthorizationService } from './core/oauth/oauth-authorization.js';
import { redirectUriFor } from './core/oauth/oauth-flow.js';
import type { AccessTokenSource, OAuthStateStore, TokenClient } from './core/oauth/oauth-ports.js';
import { OAuthTokenProvider } from './core/oauth/oauth-token-provider.js';
import type { Clock } from './core/ports.js';

/** What a deployment provides: the only things that differ between AWS, one machine and a test. */
export interface Adapters {
  log: Logger;
  clock: Clock;
  store: ConfigStore;
  /** Every saved configuration version, and each cluster's last test email. */
  history: ConfigHistory;
  /** The OAuth2 grants (refresh tokens), apart from the configurations, with versioned writes. */
  grants: GrantStore;
  /** The delivery log, with the group emails' state. */
  ledger: DeliveryLedger & GroupLedger;
  /** Pending OAuth2 authorizations (one-time state and PKCE verifier). */
  oauthStates: OAuthStateStore;
  /** The OAuth2 token endpoint client. */
  tokenClient: TokenClient;
  /**
   * The relays' limits (connections, messages per minute, back-off) as every process shares
   * them: DynamoDB for the Lambdas, the embedded database locally. Without it, SMTP is unpaced.
   */
  relayGate?: RelayGate;
  /**
   * The audit trail (SQLite locally, the ledger's table in AWS). Without it (tests), one in
   * memory; every entry is logged either way.
   */
  audit?: AuditLog;
  /** The mailers for each transport, given where XOAUTH2 access tokens come from and the relay gate. */
  mailers(oauthTokens: AccessTokenSource, relayGate?: RelayGate): MailerFactory;
}

/** Settings from each deployment's environment schema; the same names in AWS and locally. */
export interface ServiceSettings {
  /** How long a claim on an event id keeps redeliveries out (`EVENT_LEASE_SECONDS`; the notify default otherwise). */
  eventLeaseMs?: number;
  /**
   * Attempts before an event is dead-lettered: the queue's maxReceiveCount. The retry policy's
   * by default; the embedded runtime may set fewer (`eventDeliveryAttempts`).
   */
  eventDeliveryAttempts?: number;
  /**
   * Where browsers reach the API (`PUBLIC_BASE_URL`): the OAuth2 redirect flow needs it, and every
   * email links the cluster's admin page from it (no link without it).
   */
  publicBaseUrl?: string;
  /** Where connections leave from (`EGRESS_MODE`): the diagnostics' port 25 advice depends on it. */
  egress?: EgressMode;
  /**
   * Days ahead of a credential's expiry that its health says `expiring` and the first warning
   * email goes out (DEFAULT_CREDENTIAL_WARNING_DAYS, 14, when absent); later warnings at 3 and 1 days.
   */
  credentialWarningDays?: number;
}

export interface Services {
  log: Logger;
  clock: Clock;
  emailConfig: EmailConfigService;
  /** Every cluster with its health (`GET /clusters`). */
  fleet: FleetOverviewService;
  notify: NotifyService;
  dailyNotice: DailyNoticeService;
  /** The delivery log, as the admin API reads it. */
  deliveries: DeliveryLedger;
  /** Who did what and when: `audit.record({ actor, action, clusterId, detail })`; also logged. */
  audit: AuditLog;
  /** The OAuth2 redirect flow; built on first use, and only where `publicBaseUrl` is set. */
  readonly oauthAuthorization: OAuthAuthorizationService;
}

export function buildServices(adapters: Adapters, settings: ServiceSettings): Services {
  const { log, clock, store, grants, ledger, history } = adapters;
  const oauthTokens = new OAuthTokenProvider({ store, grants, clock, log, tokens: adapters.tokenClient });
  const mailers = adapters.mailers(oauthTokens, adapters.relayGate);
  let oauthAuthorization: OAuthAuthorizationService | undefined;
  // What the mail-sending services share: the port 25 advice and the admin page link.
  const mailSettings = {
    ...(settings.egress ? { egress: settings.egress } : {}),
    ...(settings.publicBaseUrl ? { publicBaseUrl: settings.publicBaseUrl } : {}),
  };
  const credentialWarnings =
    settings.credentialWarningDays !== undefined
      ? { credentialWarningDays: settings.credentialWarningDays }
      : {};
  const emailConfig = new EmailConfigService({
    ...credentialWarnings,
    store,
    grants,
    history,
    mailers,
    clock,
    log,
    deliveries: ledger,
    ...mailSettings,
  });
  return {
    log,
    clock,
    emailConfig,
    fleet: new FleetOverviewService({ store, emailConfig, ledger, clock, log, ...credentialWarnings }),
    notify: new NotifyService({
      store,
      mailers,
      ledger,
      clock,
      log,
      ...mailSettings,
      ...(settings.eventLeaseMs !== undefined ? { leaseMs: settings.eventLeaseMs } : {}),
      ...(settings.eventDeliveryAttempts !== undefined
        ? { maxAttempts: settings.eventDeliveryAttempts }
        : {}),
    }),
    dailyNotice: new DailyNoticeService({
      store,
      mailers,
      ledger,
      clock,
      log,
      grants,
      ...mailSettings,
      ...credentialWarnings,
    }),
    deliveries: ledger,
    audit: new LoggedAuditLog(adapters.audit ?? new InMemoryAuditLog(clock), log),
    get oauthAuthorization() {
      if (!settings.publicBaseUrl) {
        throw new Error('buildServices: the OAuth2 redirect flow needs publicBaseUrl (PUBLIC_BASE_URL)');
      }
      oauthAuthorization ??= new OAuthAuthorizationService({
        store,
        grants,
        states: adapters.oauthStates,
        tokens: adapters.tokenClient,
        clock,
        log,
        redirectUri: redirectUriFor(settings.publicBaseUrl),
      });
      return oauthAuthorization;
    },
  };
}
