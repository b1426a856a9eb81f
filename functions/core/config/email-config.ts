import * as z from 'zod';
import { ExpiryDateSchema } from '../credentials/credential-expiry.js';
import { alwaysRefusedHostProblem } from '../mail/relay-address-policy.js';
import { ClientCertificateSchema } from './client-certificate.js';
import {
  AdminContactsSchema,
  EmailAddressSchema,
  EndpointUrlSchema,
  HostSchema,
  PortSchema,
  readOnly,
  ScopesSchema,
  SecretSchema,
  SenderSchema,
  singleLine,
  wholeNumber,
} from './field-schemas.js';
import { graphEndpointOf, graphTokenEndpointOf, MULTI_TENANT_ALIASES } from './graph-endpoints.js';
import {
  MICROSOFT_APP_ONLY_SCOPES,
  MICROSOFT_DEFAULT_TENANT,
  OAUTH_PROVIDERS,
  oauthPreset,
  SMTP_ENCRYPTIONS,
} from './presets.js';
import { ServiceAccountKeySchema } from './service-account-key.js';

// The configuration document an admin writes: one schema for the API body, the stored
// document and the local file.

const AuthNoneSchema = z.strictObject({ type: z.literal('none'), ...readOnly });

const AuthPasswordSchema = z.strictObject({
  type: z.literal('password'),
  username: singleLine(256),
  password: SecretSchema,
  /** When the password stops working (credential health warns ahead of it). */
  passwordExpiresAt: ExpiryDateSchema.optional(),
  ...readOnly,
});

/**
 * `authorization-code` (the default): delegated, with an Authorize step; `client-credentials`:
 * app-only (Microsoft); `service-account`: a Google service account with domain-wide delegation.
 */
export const OAUTH_FLOWS = ['authorization-code', 'client-credentials', 'service-account'] as const;

/** The flows without a grant to authorize: the token comes from the saved credentials alone. */
export const hasNoGrant = (auth: { flow?: string | undefined }) =>
  auth.flow === 'client-credentials' || auth.flow === 'service-account';

export { MICROSOFT_APP_ONLY_SCOPES } from './presets.js';

const AuthOAuth2Schema = z
  .strictObject({
    type: z.literal('oauth2'),
    /** Absent: `authorization-code`. */
    flow: z
      .enum(OAUTH_FLOWS, { error: 'must be "authorization-code", "client-credentials" or "service-account"' })
      .optional(),
    provider: z.enum(OAUTH_PROVIDERS, { error: 'must be one of microsoft, google, custom' }),
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/, 'must be a tenant ID, a domain, "organizations" or "common"')
      .optional(),
    /** Required, except for flow `service-account` (the key's client_id). */
    clientId: singleLine(256).optional(),
    clientSecret: SecretSchema,
    /** Flow `service-account` only: the service account's JSON key (write-only private key). */
    serviceAccountKey: ServiceAccountKeySchema.optional(),
    /** Client-credentials flow only: authenticate with a certificate (a private-key JWT assertion) instead of the secret. */
    clientCertificate: ClientCertificateSchema.optional(),
    /** When the client secret expires, as the provider shows it (credential health warns ahead of it). */
    clientSecretExpiresAt: ExpiryDateSchema.optional(),
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
    const appOnly = auth.flow === 'client-credentials';
    const serviceAccount = auth.flow === 'service-account';
    const resolved = {
      ...auth,
      // A service account's client ID is its key's (checked in checkServiceAccount).
      clientId:
        auth.clientId ?? auth.serviceAccountKey?.client_id ?? auth.serviceAccountKey?.client_email ?? '',
      tenant,
      scopes:
        auth.scopes ??
        (appOnly && auth.provider === 'microsoft' ? [...MICROSOFT_APP_ONLY_SCOPES] : preset?.scopes),
      // App-only has no Authorize step: the authorization endpoint is never used.
      authorizationEndpoint: auth.authorizationEndpoint ?? preset?.authorizationEndpoint,
      tokenEndpoint:
        auth.tokenEndpoint ??
        (serviceAccount ? auth.serviceAccountKey?.token_uri : undefined) ??
        preset?.tokenEndpoint,
    };
    if (serviceAccount) checkServiceAccount(auth, ctx);
    else {
      if (auth.clientId === undefined)
        ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'is required' });
      if (auth.serviceAccountKey !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['serviceAccountKey'],
          message:
            'is for flow "service-account" only (a Google service account with domain-wide delegation)',
        });
      }
    }
    if (appOnly) checkAppOnly(auth, ctx);
    else if (auth.clientCertificate !== undefined && !serviceAccount) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientCertificate'],
        message:
          'is for flow "client-credentials" only: the delegated flow authenticates with the client secret',
      });
    }
    for (const field of ['scopes', 'authorizationEndpoint', 'tokenEndpoint'] as const) {
      if (field === 'authorizationEndpoint' && appOnly) continue;
      if (resolved[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'is required for the custom provider' });
      }
    }
    if (resolved.tenant === undefined) delete resolved.tenant;
    // Checked above; only an app-only custom client may lack the authorization endpoint, and it
    // is never used for that flow (Authorize is refused).
    return resolved as typeof resolved & {
      scopes: string[];
      authorizationEndpoint: string;
      tokenEndpoint: string;
    };
  });

function checkAppOnly(
  auth: {
    provider: string;
    user?: string | undefined;
    clientSecret?: string | undefined;
    clientCertificate?: unknown;
  },
  ctx: z.RefinementCtx,
): void {
  if (auth.provider === 'google') {
    ctx.addIssue({
      code: 'custom',
      path: ['flow'],
      message:
        'Google has no client-credentials grant for Gmail: use "authorization-code" (a service account is another flow)',
    });
  }
  if (auth.user === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['user'],
      message: 'is required for flow "client-credentials": the mailbox the app sends from (XOAUTH2 user)',
    });
  }
}

function checkServiceAccount(
  auth: {
    provider: string;
    clientId?: string | undefined;
    user?: string | undefined;
    clientSecret?: string | undefined;
    clientSecretExpiresAt?: unknown;
    clientCertificate?: unknown;
    serviceAccountKey?: { client_id?: string | undefined } | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (auth.provider !== 'google') {
    issue(
      'flow',
      'is for provider "google" only: a service account with domain-wide delegation is Google Workspace’s',
    );
  }
  if (auth.user === undefined) {
    issue(
      'user',
      'is required for flow "service-account": the Google Workspace mailbox the service account sends as (the token’s subject, and the XOAUTH2 user)',
    );
  }
  if (auth.serviceAccountKey === undefined) {
    issue(
      'serviceAccountKey',
      'is required for flow "service-account": the service account’s JSON key (IAM & Admin > Service accounts > Keys > Add key > JSON)',
    );
  }
  const keyClientId = auth.serviceAccountKey?.client_id;
  if (auth.clientId !== undefined && keyClientId !== undefined && auth.clientId !== keyClientId) {
    issue('clientId', `must be the service account key’s client_id (${keyClientId}), or left out`);
  }
  const unused = 'is not used by flow "service-account": the service account’s key signs the token request';
  if (auth.clientSecret !== undefined) issue('clientSecret', unused);
  if (auth.clientSecretExpiresAt !== undefined) issue('clientSecretExpiresAt', unused);
  if (auth.clientCertificate !== undefined) issue('clientCertificate', unused);
}

const AuthSchema = z.discriminatedUnion('type', [AuthNoneSchema, AuthPasswordSchema, AuthOAuth2Schema], {
  error: 'must be one of none, password, oauth2',
});

export const RELAY_LIMIT_BOUNDS = {
  maxConnections: { min: 1, max: 20 },
  messagesPerMinute: { min: 1, max: 10_000 },
} as const;

/**
 * The admin's override of the relay's limits; a field left out comes from the host's preset
 * (presets.ts), and without a preset it is not limited. `{}` is the same as leaving it out.
 */
const RelayLimitsSchema = z
  .strictObject(
    {
      maxConnections: wholeNumber(
        RELAY_LIMIT_BOUNDS.maxConnections.min,
        RELAY_LIMIT_BOUNDS.maxConnections.max,
        'connections',
        `between ${RELAY_LIMIT_BOUNDS.maxConnections.min} and ${RELAY_LIMIT_BOUNDS.maxConnections.max} connections`,
      ).optional(),
      messagesPerMinute: wholeNumber(
        RELAY_LIMIT_BOUNDS.messagesPerMinute.min,
        RELAY_LIMIT_BOUNDS.messagesPerMinute.max,
        'messages per minute',
        `between ${RELAY_LIMIT_BOUNDS.messagesPerMinute.min} and ${RELAY_LIMIT_BOUNDS.messagesPerMinute.max} messages per minute`,
      ).optional(),
    },
    { error: 'must be an object like { "maxConnections": 3, "messagesPerMinute": 30 }' },
  )
  .transform((limits) => (Object.keys(limits).length > 0 ? limits : undefined));

// GET adds the limits in effect (smtp.effectiveLimits); a document sent back with it is accepted.
const smtpReadOnly = { effectiveLimits: z.unknown().optional() };

/**
 * Credentials travel in clear over `encryption: "none"`: a save is refused unless the admin says
 * so. Checked on what is written (the API body), not on what is read: a document stored before
 * the rule still loads, so its alerts still go out, and its test email warns.
 */
function checkCredentialsInClear(
  config: { smtp?: { encryption: string; auth: { type: string }; allowInsecureAuth?: boolean | undefined } },
  ctx: z.RefinementCtx,
): void {
  const smtp = config.smtp;
  if (!smtp || smtp.encryption !== 'none' || smtp.auth.type === 'none' || smtp.allowInsecureAuth === true)
    return;
  const what = smtp.auth.type === 'password' ? 'the password' : 'the OAuth2 access token';
  ctx.addIssue({
    code: 'custom',
    path: ['smtp', 'encryption'],
    message: `"none" would send ${what} in clear text: use "starttls" or "tls", or set smtp.allowInsecureAuth to true for a relay on a trusted network without TLS`,
  });
}

export const SmtpSettingsSchema = z.strictObject({
  host: HostSchema,
  port: PortSchema,
  encryption: z.enum(SMTP_ENCRYPTIONS, { error: 'must be one of tls, starttls, none' }),
  verifyCertificate: z.boolean({ error: 'must be true or false' }).default(true),
  auth: AuthSchema.default({ type: 'none' }),
  limits: RelayLimitsSchema.optional(),
  /**
   * Lets a password or an OAuth2 token go over `encryption: "none"` (a relay on a trusted
   * network that offers no TLS). Off unless set: without it such a configuration is refused.
   */
  allowInsecureAuth: z.boolean({ error: 'must be true or false' }).optional(),
  ...smtpReadOnly,
});

/**
 * `transport: "graph"`: Microsoft Graph sendMail with an app-only token (the Mail.Send
 * application permission), for tenants where SMTP AUTH is off. The client secret and the
 * certificate's private key are write-only, as for app-only SMTP.
 */
export const GraphSettingsSchema = z
  .strictObject({
    /** The mailbox the app sends as (`POST /users/{mailbox}/sendMail`). */
    mailbox: EmailAddressSchema,
    tenant: z
      .string({ error: 'is required: the directory (tenant) ID or a domain of the tenant' })
      .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/, 'must be a tenant ID or a domain of the tenant')
      .refine(
        (tenant) => !(MULTI_TENANT_ALIASES as readonly string[]).includes(tenant.toLowerCase()),
        'must name the tenant (its ID or domain): an app-only token is issued by one tenant, so "common", "organizations" and "consumers" cannot be used',
      ),
    clientId: singleLine(256),
    clientSecret: SecretSchema,
    /** When the client secret expires, as Entra ID shows it (credential health warns ahead of it). */
    clientSecretExpiresAt: ExpiryDateSchema.optional(),
    /** Authenticate with a certificate (a private-key JWT assertion) instead of the secret. */
    clientCertificate: ClientCertificateSchema.optional(),
    /** Graph's base URL: https://graph.microsoft.com by default; a national cloud's otherwise. */
    endpoint: EndpointUrlSchema.optional(),
    /** The tenant's token endpoint at the login host of the endpoint's cloud by default. */
    tokenEndpoint: EndpointUrlSchema.optional(),
    limits: RelayLimitsSchema.optional(),
    ...readOnly,
    ...smtpReadOnly,
  })
  .transform((graph) => {
    const endpoint = graphEndpointOf(graph.endpoint);
    return {
      ...graph,
      endpoint,
      tokenEndpoint: graph.tokenEndpoint ?? graphTokenEndpointOf(endpoint, graph.tenant),
    };
  });

export { graphLimitsOf } from './graph-endpoints.js';

export const DEFAULT_REPEAT_INTERVAL_MINUTES = 240;

export const DEFAULT_GROUPING = { waitSeconds: 30, intervalMinutes: 5 } as const;

/** How events of one cluster are gathered into one email. Absent: the defaults. */
const GroupingSchema = z.strictObject(
  {
    /** Events of a cluster within this many seconds of the first go into one email (0 = one email per event). */
    waitSeconds: wholeNumber(0, 600, 'seconds', 'between 0 and 600 seconds (10 minutes)').default(
      DEFAULT_GROUPING.waitSeconds,
    ),
    /** Later events go into the next email, at most one per this many minutes. */
    intervalMinutes: wholeNumber(1, 1440, 'minutes', 'between 1 and 1440 minutes (one day)').default(
      DEFAULT_GROUPING.intervalMinutes,
    ),
  },
  { error: 'must be an object like { "waitSeconds": 30, "intervalMinutes": 5 }' },
);

const configShape = {
  sender: SenderSchema,
  transport: z.enum(['smtp', 'ses', 'graph'], { error: 'must be "smtp", "ses" or "graph"' }).default('smtp'),
  smtp: SmtpSettingsSchema.optional(),
  graph: GraphSettingsSchema.optional(),
  adminContacts: AdminContactsSchema,
  dailyNotice: z.boolean({ error: 'must be true or false' }).default(true),
  language: z.enum(['en', 'de'], { error: 'must be "en" or "de"' }).default('en'),
  /** Repeats of one condition from one appliance inside this window are folded (0 = never fold). */
  repeatIntervalMinutes: wholeNumber(0, 10080, 'minutes', 'between 0 and 10080 (one week)').default(
    DEFAULT_REPEAT_INTERVAL_MINUTES,
  ),
  grouping: GroupingSchema.prefault({}),
};

/**
 * An address literal that can never be a relay (link-local, the metadata service, ...) is
 * refused at save; a name is judged when it is connected to (it resolves then). Input only: a
 * stored document stays readable.
 */
function checkRelayHost(config: { smtp?: { host: string } | undefined }, ctx: z.RefinementCtx): void {
  const problem = config.smtp ? alwaysRefusedHostProblem(config.smtp.host) : undefined;
  if (problem) ctx.addIssue({ code: 'custom', path: ['smtp', 'host'], message: problem });
}

/** The same for Graph's endpoints: a link-local or metadata address never serves Graph or a token. */
function checkGraphHosts(
  config: { graph?: { endpoint: string; tokenEndpoint: string } | undefined },
  ctx: z.RefinementCtx,
): void {
  if (!config.graph) return;
  for (const field of ['endpoint', 'tokenEndpoint'] as const) {
    // With other issues in the block, the value may not be the parsed one: only a URL is judged.
    let host: string | undefined;
    try {
      host = new URL(String(config.graph[field])).hostname.replace(/^\[|\]$/g, '');
    } catch {
      continue;
    }
    if (host && alwaysRefusedHostProblem(host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['graph', field],
        message: `${host} is a link-local, metadata or otherwise reserved address, never Microsoft Graph or a token endpoint`,
      });
    }
  }
}

function checkTransport(
  config: { transport: string; smtp?: unknown; graph?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (config.transport === 'smtp' && config.smtp === undefined) {
    ctx.addIssue({ code: 'custom', path: ['smtp'], message: 'is required when transport is "smtp"' });
  }
  if (config.transport !== 'smtp' && config.smtp !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['smtp'],
      message: `must be absent when transport is "${config.transport}"`,
    });
  }
  if (config.transport === 'graph' && config.graph === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['graph'],
      message:
        'is required when transport is "graph": { "mailbox", "tenant", "clientId", "clientSecret" or "clientCertificate" }',
    });
  }
  if (config.transport !== 'graph' && config.graph !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['graph'],
      message: `must be absent when transport is "${config.transport}"`,
    });
  }
}

function stripReadOnly<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (key, v) => (key in readOnly || key in smtpReadOnly ? undefined : v)),
  ) as T;
}

/** The canonical configuration, as stored (secrets included when set). */
export const EmailConfigSchema = z
  .strictObject(configShape)
  .superRefine(checkTransport)
  .transform(stripReadOnly);
export type EmailConfig = z.output<typeof EmailConfigSchema>;
export type SmtpSettings = NonNullable<EmailConfig['smtp']>;
export type SmtpAuth = SmtpSettings['auth'];
export type Grouping = EmailConfig['grouping'];
export type OAuth2Auth = Extract<SmtpAuth, { type: 'oauth2' }>;
export type GraphSettings = NonNullable<EmailConfig['graph']>;

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
    version: z.unknown().optional(),
    credentialHealth: z.unknown().optional(),
  })
  .superRefine(checkTransport)
  .superRefine(checkCredentialsInClear)
  .superRefine(checkRelayHost)
  .superRefine(checkGraphHosts)
  .transform(
    ({ clusterId: _c, updatedAt: _u, oauth: _o, version: _v, credentialHealth: _h, ...config }) =>
      stripReadOnly(config) as EmailConfig,
  );
