// The admin API's JSON as the page sees it: the wire format of what toPublicConfig, the test
// email and the delivery log send. Declared here because the domain's own types live in modules
// that import zod and Node built-ins, which the page cannot load; test/unit/admin-page-api-types
// checks that the domain's values satisfy these types, so the two cannot drift apart.
import type {
  EffectiveRelayLimits,
  OAuthProvider,
  RelayLimits,
  SmtpEncryption,
} from '../../functions/core/config/presets.js';
import type { DeliveryStage } from '../../functions/core/mail/delivery-stages.js';

/** `/admin/config.json`, written by adminPageHandlers. */
export type PageAuth =
  | { mode: 'token' }
  | {
      mode: 'oidc';
      clientId: string;
      redirectUri: string;
      issuer?: string;
      authorizationEndpoint?: string;
      tokenEndpoint?: string;
      scopes: string[];
      bearer: 'access_token' | 'id_token';
    };
export type OidcAuth = Extract<PageAuth, { mode: 'oidc' }>;

export interface PageConfig {
  auth: PageAuth;
  smtpRedirectUri?: string;
}

/** An SMTP authentication as GET returns it: secrets replaced by whether they are set. */
export type PublicSmtpAuth =
  | { type: 'none' }
  | { type: 'password'; username: string; passwordSet: boolean; passwordExpiresAt?: string }
  | {
      type: 'oauth2';
      provider: OAuthProvider;
      tenant?: string;
      clientId: string;
      /** Absent: `authorization-code`. */
      flow?: OAuthFlow;
      clientSecretSet: boolean;
      clientSecretExpiresAt?: string;
      /** App-only with a certificate: the certificate and its facts, the private key only as `privateKeySet`. */
      clientCertificate?: PublicClientCertificate;
      /** Flow `service-account`: the key's facts. */
      serviceAccountKey?: PublicServiceAccountKey;
      scopes: string[];
      authorizationEndpoint: string;
      tokenEndpoint: string;
      user?: string;
    };

export type OAuthFlow = 'authorization-code' | 'client-credentials' | 'service-account';

/** A Google service account key as GET shows it: never the private key. */
export interface PublicServiceAccountKey {
  clientEmail: string;
  clientId?: string;
  privateKeyId: string;
  projectId?: string;
  privateKeySet: boolean;
}

/** `credentialHealth` of GET and of the fleet overview: how long the credentials still work. */
export interface CredentialHealth {
  status: 'ok' | 'expiring' | 'expired' | 'failing';
  credential?: 'client-secret' | 'client-certificate' | 'password' | 'refresh-token' | 'service-account-key';
  expiresAt?: string;
  daysLeft?: number;
  /** One English sentence; the page says it in its own language from the fields above. */
  detail: string;
}

export interface PublicOAuthStatus {
  status: 'authorized' | 'needs-authorization' | 'app-only' | 'service-account';
  authorizedAt?: string;
  authorizedAs?: string;
  lastRefreshAt?: string;
  lastError?: string;
  lastErrorAt?: string;
}

/** A client certificate as GET shows it: the private key only as `privateKeySet`. */
export interface PublicClientCertificate {
  certificatePem: string;
  privateKeySet: boolean;
  thumbprint?: string;
  subject?: string;
  notBefore?: string;
  notAfter?: string;
}

/** `graph` of GET for `transport: "graph"` (Microsoft Graph sendMail, app-only). */
export interface PublicGraphSettings {
  mailbox: string;
  tenant: string;
  clientId: string;
  clientSecretSet: boolean;
  clientSecretExpiresAt?: string;
  clientCertificate?: PublicClientCertificate;
  endpoint?: string;
  tokenEndpoint?: string;
  /** What the admin set through the API (the page has no field for it); GET also shows `effectiveLimits`. */
  limits?: { maxConnections?: number; messagesPerMinute?: number };
}

/** `GET /clusters/{clusterId}/email-config`. */
export interface PublicEmailConfig {
  clusterId: string;
  sender: string;
  transport: 'smtp' | 'ses' | 'graph';
  graph?: PublicGraphSettings;
  smtp?: {
    host: string;
    port: number;
    encryption: SmtpEncryption;
    verifyCertificate: boolean;
    /** Credentials over `encryption: none`, allowed explicitly (the test email then warns). */
    allowInsecureAuth?: boolean;
    auth: PublicSmtpAuth;
    /** What the admin set; a field left out comes from the host's preset. */
    limits?: RelayLimits;
    /** Read-only: the limits in effect and where they come from. */
    effectiveLimits: EffectiveRelayLimits;
  };
  adminContacts: string[];
  dailyNotice: boolean;
  language: 'en' | 'de';
  repeatIntervalMinutes: number;
  grouping: { waitSeconds: number; intervalMinutes: number };
  oauth?: PublicOAuthStatus;
  credentialHealth?: CredentialHealth;
  updatedAt?: string;
}

/** `POST .../email-config/test`, and `testEmail` of a PUT with `?sendTestEmail=true`. */
export interface TestEmailResult {
  ok: boolean;
  stage?: DeliveryStage;
  code?: number;
  enhancedCode?: string;
  message?: string;
  hint?: string;
  transcript?: string[];
  transient?: boolean;
  recipients: string[];
  durationMs: number;
  at: string;
  /** What an admin must know even when it went out (credentials over an unencrypted relay, the outbox). */
  warnings?: string[];
}

/** `PUT /clusters/{clusterId}/email-config`. */
export interface SaveResponse {
  config: PublicEmailConfig;
  testEmail?: TestEmailResult;
  version?: number;
}

/** The 422 of a save with `saveOnlyIfDelivered=true` whose test email failed: nothing was stored. */
export interface NotDeliveredBody {
  error: string;
  testEmail: TestEmailResult;
}

/** The 412 of a save, restore or delete whose If-Match is not the current version: nothing changed. */
export interface PreconditionFailedBody {
  error: string;
  /** The version that is current now, or null when the configuration was deleted. */
  current: {
    version: number;
    etag: string;
    savedAt?: string;
    savedBy?: string;
    restoredFrom?: number;
    config: PublicEmailConfig;
  } | null;
}

/** What is kept of a test email (per version, and the cluster's last). */
export interface TestEmailSummary {
  ok: boolean;
  stage?: DeliveryStage;
  message?: string;
  at: string;
  of:
    | { version: number; unsaved?: never; stored?: never }
    | { unsaved: true; version?: never; stored?: never }
    | { stored: true; version?: never; unsaved?: never };
}

/** `GET /clusters/{clusterId}/email-config/versions`: newest first. */
export interface ConfigVersionsResponse {
  clusterId: string;
  currentVersion?: number;
  lastTestEmail?: TestEmailSummary;
  items: Array<{
    version: number;
    savedAt: string;
    savedBy: string;
    restoredFrom?: number;
    config: PublicEmailConfig;
    testEmail?: TestEmailSummary;
  }>;
}

/** `POST /clusters/{clusterId}/email-config/versions/{n}/restore`. */
export interface RestoreResponse {
  config: PublicEmailConfig;
  version: number;
  restoredFrom: number;
}

export type HealthLevel = 'failing' | 'warning' | 'ok';

/** One finding of a cluster's health, for the page to say in its language. */
export interface HealthFinding {
  code: string;
  count?: number;
  stage?: string;
}

/** One cluster of `GET /clusters` (an unreadable one has only id, health and problems). */
export interface ClusterHealthItem {
  clusterId: string;
  health: HealthLevel;
  /** The same findings as English sentences. */
  problems: string[];
  findings?: HealthFinding[];
  transport?: 'smtp' | 'ses' | 'graph';
  relay?: string;
  smtp?: { host: string; port: number; encryption: SmtpEncryption };
  lastTestEmail?: TestEmailSummary;
  lastDelivery?: { eventId: string; condition: string; outcome: string; at: string; reason?: string };
  last24h?: { sent: number; failed: number; throttled: number };
  pendingRetries?: number;
  oauth?: PublicOAuthStatus;
  dailyNotice?: { enabled: boolean; lastSentAt?: string; lastOutcome?: string };
  updatedAt?: string;
}

export interface FleetOverviewResponse {
  generatedAt: string;
  items: ClusterHealthItem[];
}

/** One condition of `GET /conditions`. */
export interface ConditionSummary {
  id: string;
  severity: 'critical' | 'warning';
  title: { en: string; de: string };
}

/** One entry of `GET /clusters/{clusterId}/deliveries`. */
export interface DeliveryRecord {
  eventId: string;
  condition: string;
  outcome: string;
  reason?: string;
  recipients: string[];
  /** Refused for now (4xx): retried for them only. */
  pendingRecipients?: string[];
  /** Refused for good (5xx). */
  refusedRecipients?: string[];
  /** When this outcome was recorded. */
  at: string;
  /** When the event arrived: its place in the log (newest first). */
  receivedAt: string;
  /** The event's own time, as the appliance reported it (clamped to the arrival when implausible). */
  eventTime: string;
  appliance?: string;
}

export interface DeliveriesResponse {
  items: Array<DeliveryRecord & { title?: string; severity?: 'critical' | 'warning' }>;
  nextCursor?: string;
}

/** `POST /clusters/{clusterId}/deliveries/{eventId}/replay`. */
export interface ReplayResponse {
  eventId: string;
  ok: boolean;
  outcome: string;
  error?: string;
  status?: string;
  record?: DeliveryRecord;
}

/** `GET /clusters/{clusterId}/oauth/authorize?format=json`. */
export interface AuthorizeResponse {
  url?: string;
}

export interface FieldIssue {
  path: string;
  message: string;
}

/** What every error answer carries (400s add the field issues). */
export interface ApiErrorBody {
  error?: string;
  issues?: FieldIssue[];
}
