import { isIP } from 'node:net';
import { z } from 'zod';
import type { FieldIssue } from './errors.js';
import { CONTROL_CHARACTER_MESSAGE, hasControlCharacters } from './header-safety.js';

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

export const ClusterIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

export const DEFAULT_CLUSTER_ID = 'default';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** Why `value` is not a plain `local@domain` address, or undefined when it is one. */
export function addressProblem(value: string): string | undefined {
  if (hasControlCharacters(value)) return CONTROL_CHARACTER_MESSAGE;
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (at < 1 || value.length > 254 || local.length > 64 || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) {
    return `"${value}" is not an email address like name@example.com`;
  }
  return undefined;
}

export interface Mailbox {
  name?: string;
  address: string;
}

/** Parses `addr@example.com` or `Display Name <addr@example.com>` (quotes around the name allowed). */
export function parseMailbox(value: string): Mailbox | string {
  if (hasControlCharacters(value)) return CONTROL_CHARACTER_MESSAGE;
  const trimmed = value.trim();
  const named = /^(.*?)\s*<([^<>]*)>$/.exec(trimmed);
  if (!named) {
    return addressProblem(trimmed) ?? { address: trimmed };
  }
  const rawName = (named[1] ?? '').trim();
  const address = (named[2] ?? '').trim();
  const name = rawName.replace(/^"(.*)"$/, '$1').trim();
  if (/["<>\\]/.test(name)) return 'the display name must not contain quotes, angle brackets or backslashes';
  const problem = addressProblem(address);
  if (problem) return problem;
  return name ? { name, address } : { address };
}

export function formatMailbox(mailbox: Mailbox): string {
  return mailbox.name ? `"${mailbox.name}" <${mailbox.address}>` : mailbox.address;
}

/** One line of printable text, trimmed; control characters are rejected, not stripped. */
const singleLine = (max: number) =>
  z
    .string()
    .refine((s) => !hasControlCharacters(s), CONTROL_CHARACTER_MESSAGE)
    .transform((s) => s.trim())
    .pipe(z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`));

export const EmailAddressSchema = z.string().transform((value, ctx) => {
  const trimmed = hasControlCharacters(value) ? value : value.trim();
  const problem = addressProblem(trimmed);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return trimmed;
});

export const SenderSchema = z.string({ error: 'must be an email address' }).transform((value, ctx) => {
  const parsed = parseMailbox(value);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return formatMailbox(parsed);
});

const MAX_CONTACTS = 50;

/** Space-separated (the seed's form; commas tolerated) or an array; normalized to a deduplicated array. */
export const AdminContactsSchema = z
  .union([z.string(), z.array(z.string())], {
    error: 'must be email addresses separated by spaces, or an array of addresses',
  })
  .transform((value, ctx) => {
    if (typeof value === 'string' && hasControlCharacters(value)) {
      ctx.addIssue({ code: 'custom', message: CONTROL_CHARACTER_MESSAGE });
      return z.NEVER;
    }
    return typeof value === 'string' ? value.split(/[ ,;]+/).filter(Boolean) : value;
  })
  .pipe(
    z
      .array(EmailAddressSchema)
      .min(1, 'at least one admin contact address is required')
      .max(MAX_CONTACTS, `at most ${MAX_CONTACTS} addresses`),
  )
  .transform((addresses) => {
    const seen = new Set<string>();
    return addresses.filter((a) => {
      const key = a.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  });

const HostSchema = z.string({ error: 'must be a hostname or an IP address' }).transform((value, ctx) => {
  const host = value.trim().replace(/^\[(.*)\]$/, '$1');
  if (hasControlCharacters(value) || !(HOSTNAME.test(host) || isIP(host) !== 0)) {
    ctx.addIssue({ code: 'custom', message: 'must be a hostname or an IP address' });
    return z.NEVER;
  }
  return host;
});

const PORT_MESSAGE = 'must be between 1 and 65535';
export const PortSchema = z.preprocess(
  (v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v),
  z
    .number({ error: 'must be a port number between 1 and 65535' })
    .int('must be a whole number')
    .min(1, PORT_MESSAGE)
    .max(65535, PORT_MESSAGE),
);

const isLoopbackHost = (hostname: string) =>
  hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/** HTTPS, except on loopback (local development and tests against a mock provider). */
const EndpointUrlSchema = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    ctx.addIssue({ code: 'custom', message: 'must be an https:// URL' });
    return z.NEVER;
  }
  if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'must not contain credentials' });
    return z.NEVER;
  }
  return url.toString();
});

const ScopesSchema = z
  .union([z.string(), z.array(z.string())], { error: 'must be scopes separated by spaces, or an array' })
  .transform((v) => (typeof v === 'string' ? v.split(/ +/) : v).map((s) => s.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'is not a valid OAuth scope'))
      .min(1, 'at least one scope is required'),
  );

const SecretSchema = z
  .string()
  .max(4096, 'must be at most 4096 characters')
  .refine((s) => !/[\r\n\0]/.test(s), 'must not contain line breaks')
  // An empty secret means "keep the stored one", as on the seed's page.
  .transform((s) => (s === '' ? undefined : s))
  .optional();

// Read-only fields that GET returns; a client may send the document back unchanged.
const readOnly = { passwordSet: z.unknown().optional(), clientSecretSet: z.unknown().optional() };

// ---------------------------------------------------------------------------------------------
// OAuth2 provider presets
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// The configuration document
// ---------------------------------------------------------------------------------------------

export const SMTP_ENCRYPTIONS = ['tls', 'starttls', 'none'] as const;
export type SmtpEncryption = (typeof SMTP_ENCRYPTIONS)[number];

const AuthNoneSchema = z.strictObject({ type: z.literal('none'), ...readOnly });

const AuthPasswordSchema = z.strictObject({
  type: z.literal('password'),
  username: singleLine(256),
  password: SecretSchema,
  ...readOnly,
});

const AuthOAuth2Schema = z
  .strictObject({
    type: z.literal('oauth2'),
    provider: z.enum(OAUTH_PROVIDERS, { error: 'must be one of microsoft, google, custom' }),
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/, 'must be a tenant ID, a domain, "organizations" or "common"')
      .optional(),
    clientId: singleLine(256),
    clientSecret: SecretSchema,
    scopes: ScopesSchema.optional(),
    authorizationEndpoint: EndpointUrlSchema.optional(),
    tokenEndpoint: EndpointUrlSchema.optional(),
    /** The mailbox that authenticates (XOAUTH2 user); defaults to the authorized account, then the sender. */
    user: EmailAddressSchema.optional(),
    ...readOnly,
  })
  .transform((auth, ctx) => {
    const tenant = auth.provider === 'microsoft' ? (auth.tenant ?? MICROSOFT_DEFAULT_TENANT) : auth.tenant;
    const preset = oauthPreset(auth.provider, tenant);
    const resolved = {
      ...auth,
      tenant,
      scopes: auth.scopes ?? preset?.scopes,
      authorizationEndpoint: auth.authorizationEndpoint ?? preset?.authorizationEndpoint,
      tokenEndpoint: auth.tokenEndpoint ?? preset?.tokenEndpoint,
    };
    for (const field of ['scopes', 'authorizationEndpoint', 'tokenEndpoint'] as const) {
      if (resolved[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'is required for the custom provider' });
      }
    }
    if (resolved.tenant === undefined) delete resolved.tenant;
    return resolved as typeof resolved & {
      scopes: string[];
      authorizationEndpoint: string;
      tokenEndpoint: string;
    };
  });

const AuthSchema = z.discriminatedUnion('type', [AuthNoneSchema, AuthPasswordSchema, AuthOAuth2Schema], {
  error: 'must be one of none, password, oauth2',
});

export const SmtpSettingsSchema = z.strictObject({
  host: HostSchema,
  port: PortSchema,
  encryption: z.enum(SMTP_ENCRYPTIONS, { error: 'must be one of tls, starttls, none' }),
  verifyCertificate: z.boolean({ error: 'must be true or false' }).default(true),
  auth: AuthSchema.default({ type: 'none' }),
});

export const DEFAULT_REPEAT_INTERVAL_MINUTES = 240;

const configShape = {
  sender: SenderSchema,
  transport: z.enum(['smtp', 'ses'], { error: 'must be "smtp" or "ses"' }).default('smtp'),
  smtp: SmtpSettingsSchema.optional(),
  adminContacts: AdminContactsSchema,
  dailyNotice: z.boolean({ error: 'must be true or false' }).default(true),
  language: z.enum(['en', 'de'], { error: 'must be "en" or "de"' }).default('en'),
  /** Repeats of one condition from one appliance inside this window are folded (0 = never fold). */
  repeatIntervalMinutes: z
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 10080 (one week)')
    .max(10080, 'must be between 0 and 10080 (one week)')
    .default(DEFAULT_REPEAT_INTERVAL_MINUTES),
};

function checkTransport(config: { transport: string; smtp?: unknown }, ctx: z.RefinementCtx): void {
  if (config.transport === 'smtp' && config.smtp === undefined) {
    ctx.addIssue({ code: 'custom', path: ['smtp'], message: 'is required when transport is "smtp"' });
  }
  if (config.transport === 'ses' && config.smtp !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['smtp'], message: 'must be absent when transport is "ses"' });
  }
}

function stripReadOnly<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (key, v) => (key in readOnly ? undefined : v))) as T;
}

/** The canonical configuration, as stored (secrets included when set). */
export const EmailConfigSchema = z
  .strictObject(configShape)
  .superRefine(checkTransport)
  .transform(stripReadOnly);
export type EmailConfig = z.output<typeof EmailConfigSchema>;
export type SmtpSettings = NonNullable<EmailConfig['smtp']>;
export type SmtpAuth = SmtpSettings['auth'];
export type OAuth2Auth = Extract<SmtpAuth, { type: 'oauth2' }>;

/**
 * The body of `PUT /email-config`: the canonical shape, plus the read-only fields that GET
 * returns (ignored), so a document fetched with GET can be edited and sent back as it is.
 */
export const EmailConfigInputSchema = z
  .strictObject({
    ...configShape,
    clusterId: z.unknown().optional(),
    updatedAt: z.unknown().optional(),
    oauth: z.unknown().optional(),
  })
  .superRefine(checkTransport)
  .transform(
    ({ clusterId: _c, updatedAt: _u, oauth: _o, ...config }) => stripReadOnly(config) as EmailConfig,
  );

// ---------------------------------------------------------------------------------------------
// The stored document: the admin's configuration plus state the service keeps about it
// ---------------------------------------------------------------------------------------------

export const STORED_SCHEMA_VERSION = 1;

export const OAUTH_GRANT_STATUSES = ['authorized', 'needs-authorization'] as const;
export type OAuthGrantStatus = (typeof OAUTH_GRANT_STATUSES)[number];

/**
 * What the OAuth2 redirect flow left behind: the refresh token (a secret, never returned) and
 * what an admin needs to see. `binding` records the client the grant belongs to, so a save
 * that switches to another app registration or tenant drops a grant that can no longer work.
 */
export const OAuthGrantSchema = z.object({
  status: z.enum(OAUTH_GRANT_STATUSES),
  /** Absent once the provider refused it (`invalid_grant`): it is of no use any more. */
  refreshToken: z.string().min(1).optional(),
  authorizedAt: z.iso.datetime(),
  /** The mailbox that signed in, from the id token (display only). */
  authorizedAs: z.string().optional(),
  lastRefreshAt: z.iso.datetime().optional(),
  lastError: z.string().optional(),
  lastErrorAt: z.iso.datetime().optional(),
  binding: z.object({
    provider: z.enum(OAUTH_PROVIDERS),
    tenant: z.string().optional(),
    clientId: z.string(),
    tokenEndpoint: z.string(),
  }),
});
export type OAuthGrant = z.output<typeof OAuthGrantSchema>;
export type OAuthGrantBinding = OAuthGrant['binding'];

export const StoredEmailConfigSchema = z.object({
  schemaVersion: z.literal(STORED_SCHEMA_VERSION),
  clusterId: ClusterIdSchema,
  updatedAt: z.iso.datetime(),
  config: EmailConfigSchema,
  /** Present after an admin authorized OAuth2 for this configuration. */
  oauth: OAuthGrantSchema.optional(),
});
export type StoredEmailConfig = z.output<typeof StoredEmailConfigSchema>;

/** The fields a grant is bound to: a refresh token is issued to one client at one token endpoint. */
export function oauthBindingOf(auth: OAuth2Auth): OAuthGrantBinding {
  return {
    provider: auth.provider,
    ...(auth.tenant !== undefined ? { tenant: auth.tenant } : {}),
    clientId: auth.clientId,
    tokenEndpoint: auth.tokenEndpoint,
  };
}

/** The stored grant still belongs to this configuration (same provider, tenant, client and token endpoint). */
export function grantMatches(grant: OAuthGrant, config: EmailConfig): boolean {
  const auth = config.smtp?.auth;
  if (config.transport !== 'smtp' || auth?.type !== 'oauth2') return false;
  const binding = oauthBindingOf(auth);
  return (
    grant.binding.provider === binding.provider &&
    grant.binding.tenant === binding.tenant &&
    grant.binding.clientId === binding.clientId &&
    grant.binding.tokenEndpoint === binding.tokenEndpoint
  );
}

/** The grant a save keeps: the previous one while it still belongs to the new configuration. */
export function keepOAuthGrant(
  config: EmailConfig,
  previous: StoredEmailConfig | undefined,
): OAuthGrant | undefined {
  const grant = previous?.oauth;
  return grant && grantMatches(grant, config) ? grant : undefined;
}

// ---------------------------------------------------------------------------------------------
// Secrets: write-only
// ---------------------------------------------------------------------------------------------

/** A save that leaves a secret out keeps the stored one (for the same kind of authentication). */
export function keepStoredSecrets(input: EmailConfig, previous: EmailConfig | undefined): EmailConfig {
  const auth = input.smtp?.auth;
  const before = previous?.smtp?.auth;
  if (!auth || !before || auth.type !== before.type) return input;
  if (auth.type === 'password' && before.type === 'password' && auth.password === undefined) {
    return withAuth(input, { ...auth, password: before.password });
  }
  if (auth.type === 'oauth2' && before.type === 'oauth2' && auth.clientSecret === undefined) {
    return withAuth(input, { ...auth, clientSecret: before.clientSecret });
  }
  return input;
}

function withAuth(config: EmailConfig, auth: SmtpAuth): EmailConfig {
  if (!config.smtp) return config;
  return { ...config, smtp: { ...config.smtp, auth } };
}

/** Secrets a configuration cannot work without, after the stored ones were merged in. */
export function missingSecrets(config: EmailConfig): FieldIssue[] {
  const auth = config.smtp?.auth;
  if (auth?.type === 'password' && !auth.password) {
    return [{ path: 'smtp.auth.password', message: 'is required (no password is stored yet)' }];
  }
  if (auth?.type === 'oauth2' && !auth.clientSecret) {
    return [{ path: 'smtp.auth.clientSecret', message: 'is required (no client secret is stored yet)' }];
  }
  return [];
}

/**
 * Every secret value of a configuration (or of a stored document, which adds the OAuth2
 * refresh token), for redaction of transcripts and messages.
 */
export function secretsOf(configOrDocument: EmailConfig | StoredEmailConfig | undefined): string[] {
  if (configOrDocument && 'config' in configOrDocument) {
    const refreshToken = configOrDocument.oauth?.refreshToken;
    return [...secretsOf(configOrDocument.config), ...(refreshToken ? [refreshToken] : [])];
  }
  const auth = configOrDocument?.smtp?.auth;
  if (auth?.type === 'password') return auth.password ? [auth.password] : [];
  if (auth?.type === 'oauth2') return auth.clientSecret ? [auth.clientSecret] : [];
  return [];
}

/**
 * What GET returns: secrets replaced by `passwordSet` / `clientSecretSet`, and for OAuth2 the
 * grant's status (never a token).
 */
export function toPublicConfig(stored: StoredEmailConfig): Record<string, unknown> {
  const { config } = stored;
  const smtp = config.smtp && { ...config.smtp, auth: publicAuth(config.smtp.auth) };
  const oauth =
    config.transport === 'smtp' && config.smtp?.auth.type === 'oauth2' ? publicOAuth(stored) : undefined;
  return {
    clusterId: stored.clusterId,
    ...config,
    ...(smtp ? { smtp } : {}),
    ...(oauth ? { oauth } : {}),
    updatedAt: stored.updatedAt,
  };
}

export interface PublicOAuthStatus {
  status: OAuthGrantStatus;
  authorizedAt?: string;
  authorizedAs?: string;
  lastRefreshAt?: string;
  lastError?: string;
  lastErrorAt?: string;
}

function publicOAuth(stored: StoredEmailConfig): PublicOAuthStatus {
  const grant = stored.oauth && grantMatches(stored.oauth, stored.config) ? stored.oauth : undefined;
  if (!grant) return { status: 'needs-authorization' };
  // Listed field by field: a field added to the grant later stays private until it is added here.
  const { status, authorizedAt, authorizedAs, lastRefreshAt, lastError, lastErrorAt } = grant;
  return {
    status: status === 'authorized' && grant.refreshToken ? 'authorized' : 'needs-authorization',
    authorizedAt,
    ...(authorizedAs !== undefined ? { authorizedAs } : {}),
    ...(lastRefreshAt !== undefined ? { lastRefreshAt } : {}),
    ...(lastError !== undefined ? { lastError } : {}),
    ...(lastErrorAt !== undefined ? { lastErrorAt } : {}),
  };
}

function publicAuth(auth: SmtpAuth): Record<string, unknown> {
  switch (auth.type) {
    case 'none':
      return auth;
    case 'password': {
      const { password, ...rest } = auth;
      return { ...rest, passwordSet: Boolean(password) };
    }
    case 'oauth2': {
      const { clientSecret, ...rest } = auth;
      return { ...rest, clientSecretSet: Boolean(clientSecret) };
    }
  }
}
