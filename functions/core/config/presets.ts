// Provider presets: plain data with no imports, shared by the config schema and the admin page.

export const SMTP_ENCRYPTIONS = ['tls', 'starttls', 'none'] as const;
export type SmtpEncryption = (typeof SMTP_ENCRYPTIONS)[number];

export const OAUTH_PROVIDERS = ['microsoft', 'google', 'custom'] as const;
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];

export interface OAuthPreset {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  scopes: string[];
  relay: { host: string; port: number; encryption: SmtpEncryption };
}

export const MICROSOFT_DEFAULT_TENANT = 'organizations';

export function oauthPreset(
  provider: OAuthProvider,
  tenant = MICROSOFT_DEFAULT_TENANT,
): OAuthPreset | undefined {
  switch (provider) {
    case 'microsoft':
      return {
        authorizationEndpoint: `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0/authorize`,
        tokenEndpoint: `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0/token`,
        scopes: ['https://outlook.office.com/SMTP.Send', 'offline_access'],
        relay: { host: 'smtp.office365.com', port: 587, encryption: 'starttls' },
      };
    case 'google':
      return {
        authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
        tokenEndpoint: 'https://oauth2.googleapis.com/token',
        scopes: ['https://mail.google.com/'],
        relay: { host: 'smtp.gmail.com', port: 587, encryption: 'starttls' },
      };
    case 'custom':
      return undefined;
  }
}

// ------------------------------------------------------------------ relay limits

/** What a relay allows one sender identity: concurrent connections and a sending rate. */
export interface RelayLimits {
  maxConnections?: number;
  messagesPerMinute?: number;
}

export const RELAY_LIMITS_PRESET_IDS = ['exchange-online', 'gmail', 'google-workspace-relay'] as const;
export type RelayLimitsPresetId = (typeof RELAY_LIMITS_PRESET_IDS)[number];

export interface RelayLimitsPreset {
  id: RelayLimitsPresetId;
  /** How the admin page names it: "Exchange Online preset: …". */
  label: string;
  maxConnections: number;
  messagesPerMinute: number;
}

interface PresetRule extends RelayLimitsPreset {
  /** Exact host names (lower case). */
  hosts: readonly string[];
  /** Host name suffixes, each matching only with at least one label in front ("x.<suffix>"). */
  suffixes?: readonly string[];
}

const RELAY_LIMITS_PRESETS: readonly PresetRule[] = [
  {
    // Microsoft documents these for SMTP AUTH client submission: 3 concurrent connections and
    // 30 messages per minute per mailbox, beyond which the relay answers
    // `432 4.3.2 Concurrent connections limit exceeded` (Exchange Online limits, "Sending limits").
    // A tenant's own endpoint, <tenant>.mail.protection.outlook.com (connectors, direct send),
    // gets the same numbers: the cautious choice for the same service.
    id: 'exchange-online',
    label: 'Exchange Online',
    maxConnections: 3,
    messagesPerMinute: 30,
    hosts: ['smtp.office365.com'],
    suffixes: ['mail.protection.outlook.com'],
  },
  {
    // Google publishes daily quotas for smtp.gmail.com, not a rate or a session count: a Google
    // Workspace user sends at most 2,000 messages a day (500 in a trial), at most 100 recipients
    // per message over SMTP (support.google.com/a/answer/166852, "Gmail sending limits in Google
    // Workspace"); a personal account about 500 a day. So conservative numbers: 2 sessions and
    // 20 messages a minute, below the 30 Exchange Online documents, so that a storm does not look
    // like a bulk sender and grouping, not the relay, decides how much goes out.
    id: 'gmail',
    label: 'Gmail',
    maxConnections: 2,
    messagesPerMinute: 20,
    hosts: ['smtp.gmail.com'],
  },
  {
    // The Google Workspace SMTP relay service has its own quotas (support.google.com/a/answer/166852
    // points to "sending limits for the SMTP relay service": 10,000 recipients per user in 24
    // hours) and an unpublished peak rate per customer, answered with `450 4.2.1 Peak SMTP relay
    // limit exceeded for this customer` (knowledge.workspace.google.com, "Gmail SMTP errors and
    // codes"). No session or per-minute figure is published: 3 sessions and 30 messages a minute
    // stay far inside the daily quota and match the pacing Exchange Online documents.
    id: 'google-workspace-relay',
    label: 'Google Workspace SMTP relay',
    maxConnections: 3,
    messagesPerMinute: 30,
    hosts: ['smtp-relay.gmail.com'],
  },
];

/** The preset for a relay host (case-insensitive, a trailing dot ignored), if it has one. */
export function relayLimitsPreset(host: string): RelayLimitsPreset | undefined {
  const name = host.trim().toLowerCase().replace(/\.$/, '');
  const rule = RELAY_LIMITS_PRESETS.find(
    (candidate) =>
      candidate.hosts.includes(name) ||
      (candidate.suffixes ?? []).some(
        (suffix) => name.endsWith(`.${suffix}`) && name.length > suffix.length + 1,
      ),
  );
  if (!rule) return undefined;
  const { id, label, maxConnections, messagesPerMinute } = rule;
  return { id, label, maxConnections, messagesPerMinute };
}

export type RelayLimitsSource = 'configured' | `preset:${RelayLimitsPresetId}` | 'none';

/** The limits delivery keeps to; a field that is absent is not limited. */
export interface EffectiveRelayLimits extends RelayLimits {
  /**
   * `configured`: the admin set at least one field (a field left out comes from the host's
   * preset, if any); `preset:<id>`: the host's preset; `none`: no limits.
   */
  source: RelayLimitsSource;
}

/**
 * The limits for a relay: the admin's `smtp.limits` where given (each field on its own), else the
 * preset for the host, else none.
 */
export function effectiveRelayLimits(smtp: {
  host: string;
  limits?: RelayLimits | undefined;
}): EffectiveRelayLimits {
  const preset = relayLimitsPreset(smtp.host);
  const configured = smtp.limits ?? {};
  const maxConnections = configured.maxConnections ?? preset?.maxConnections;
  const messagesPerMinute = configured.messagesPerMinute ?? preset?.messagesPerMinute;
  const source: RelayLimitsSource =
    configured.maxConnections !== undefined || configured.messagesPerMinute !== undefined
      ? 'configured'
      : preset
        ? `preset:${preset.id}`
        : 'none';
  return {
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    ...(messagesPerMinute !== undefined ? { messagesPerMinute } : {}),
    source,
  };
}
