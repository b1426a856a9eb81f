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

/** The Exchange Online resource an app-only token is issued for (SMTP.SendAsApp). */
export const MICROSOFT_APP_ONLY_SCOPES: readonly string[] = ['https://outlook.office365.com/.default'];

// ------------------------------------------------------------------ relay presets

/** The relays the admin page offers to fill host, port and encryption for ("custom" fills nothing). */
export const RELAY_PRESET_IDS = ['exchange-online', 'gmail-starttls', 'gmail-tls', 'amazon-ses'] as const;
export type RelayPresetId = (typeof RELAY_PRESET_IDS)[number];

export interface RelayPreset {
  id: RelayPresetId;
  label: string;
  /** The relay's host; `{region}` stands for the AWS region the admin chooses. */
  host: string;
  port: number;
  encryption: SmtpEncryption;
}

/**
 * The presets in the order the page lists them. Their limits are not repeated here: the
 * relay-limits rules below (relayLimitsPreset) give them by host, as delivery applies them.
 */
export const RELAY_PRESETS: readonly RelayPreset[] = [
  {
    id: 'exchange-online',
    label: 'Exchange Online',
    host: 'smtp.office365.com',
    port: 587,
    encryption: 'starttls',
  },
  {
    id: 'gmail-starttls',
    label: 'Gmail / Google Workspace (587, STARTTLS)',
    host: 'smtp.gmail.com',
    port: 587,
    encryption: 'starttls',
  },
  {
    id: 'gmail-tls',
    label: 'Gmail / Google Workspace (465, TLS)',
    host: 'smtp.gmail.com',
    port: 465,
    encryption: 'tls',
  },
  // The Amazon SES SMTP interface: one endpoint per region (AWS General Reference, "Amazon SES
  // endpoints and quotas"); STARTTLS on 587.
  {
    id: 'amazon-ses',
    label: 'Amazon SES SMTP interface',
    host: 'email-smtp.{region}.amazonaws.com',
    port: 587,
    encryption: 'starttls',
  },
];

/** Regions the page offers for the Amazon SES SMTP interface. */
export const SES_SMTP_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-north-1',
  'eu-south-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'sa-east-1',
] as const;

export const DEFAULT_SES_SMTP_REGION = 'us-east-1';

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/** Host, port and encryption of a preset (the SES host for `region`), or undefined for an unknown id or region. */
export function relayPreset(
  id: string,
  region: string = DEFAULT_SES_SMTP_REGION,
): { host: string; port: number; encryption: SmtpEncryption } | undefined {
  const preset = RELAY_PRESETS.find((candidate) => candidate.id === id);
  if (!preset) return undefined;
  if (preset.host.includes('{region}') && !REGION.test(region)) return undefined;
  return { host: preset.host.replace('{region}', region), port: preset.port, encryption: preset.encryption };
}

/**
 * The preset a relay matches (host case-insensitive; port and encryption too where `exact`), with
 * the region of an SES host.
 */
export function matchRelayPreset(
  relay: { host: string; port?: number; encryption?: SmtpEncryption },
  exact = true,
): { id: RelayPresetId; region?: string } | undefined {
  const host = relay.host.trim().toLowerCase().replace(/\.$/, '');
  for (const preset of RELAY_PRESETS) {
    if (exact && (relay.port !== preset.port || relay.encryption !== preset.encryption)) continue;
    const [before, after] = preset.host.split('{region}');
    if (after === undefined) {
      if (host === preset.host) return { id: preset.id };
      continue;
    }
    const region =
      host.startsWith(before ?? '') && host.endsWith(after)
        ? host.slice((before ?? '').length, host.length - after.length)
        : '';
    if (REGION.test(region)) return { id: preset.id, region };
  }
  return undefined;
}

const presetRelay = (id: RelayPresetId) => {
  const relay = relayPreset(id);
  if (!relay) throw new Error(`No relay preset ${id}`);
  return relay;
};

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
        relay: presetRelay('exchange-online'),
      };
    case 'google':
      return {
        authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
        tokenEndpoint: 'https://oauth2.googleapis.com/token',
        scopes: ['https://mail.google.com/'],
        relay: presetRelay('gmail-starttls'),
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
