// The response bodies of the admin API, for its OpenAPI document. The handlers build these
// bodies from the domain's types (PublicEmailConfig, TestEmailResult, DeliveryRecord, ...);
// these schemas name their fields for API clients. Objects are loose: a field added to a body
// later does not make the document wrong.
import * as z from 'zod';
import { SEVERITIES } from '../../events/catalog.js';
import { OAUTH_PROVIDERS, SMTP_ENCRYPTIONS } from '../core/config/presets.js';
import { OAUTH_GRANT_STATUSES } from '../core/config/stored-config.js';
import { CREDENTIAL_HEALTH_STATUSES, CREDENTIAL_KINDS } from '../core/credentials/credential-health.js';
import { HEALTH_FINDING_CODES } from '../core/fleet/cluster-health.js';
import { DELIVERY_STAGES } from '../core/mail/delivery-stages.js';
import { OUTCOMES } from '../core/notify/delivery-ledger.js';

/** `{ path, message }`: functions/kernel/field-issues.ts. */
export const FieldIssueSchema = z.object({
  path: z.string().describe('Dotted path of the offending field, e.g. `smtp.port` or `adminContacts.1`'),
  message: z.string(),
});

/** Every error answer (functions/shared/http.ts `jsonErrorHandler`). */
export const ErrorBodySchema = z.looseObject({
  error: z.string().describe('What is wrong, for a person to read'),
  issues: z.array(FieldIssueSchema).optional().describe('One entry per invalid field (400)'),
});

/** 413: the stored configuration would be over its size limit. */
export const ConfigTooLargeBodySchema = z.looseObject({
  error: z.string(),
  bytes: z.number().int(),
  limitBytes: z.number().int(),
});

/** 500: the details are in the log, under this request id. */
export const InternalErrorBodySchema = z.looseObject({
  error: z.literal('Internal error'),
  requestId: z.string().optional(),
});

const Iso = z.string().describe('ISO 8601 time');

export const TestEmailResultSchema = z.looseObject({
  ok: z.boolean(),
  stage: z.enum(DELIVERY_STAGES).optional().describe('Where it failed'),
  code: z.number().int().optional().describe('The SMTP reply code'),
  enhancedCode: z.string().optional(),
  message: z.string().optional(),
  hint: z.string().optional(),
  transcript: z.array(z.string()).optional().describe('The SMTP dialogue, credentials redacted'),
  transient: z.boolean().optional(),
  messageId: z.string().optional(),
  destination: z.string().optional(),
  recipients: z.array(z.string()),
  rejected: z.array(z.string()).optional(),
  warnings: z
    .array(z.string())
    .optional()
    .describe('What the admin should know even when ok: credentials sent in clear, a message not sent'),
  delivered: z
    .boolean()
    .optional()
    .describe('false: the message was only written to the outbox (`outbox`), not sent'),
  outbox: z.string().optional().describe('The .eml file the message was written to instead of being sent'),
  durationMs: z.number(),
  at: Iso,
});

/** How long a cluster's credentials still work (functions/core/credentials/credential-health.ts). */
const CredentialHealthSchema = z
  .looseObject({
    status: z.enum(CREDENTIAL_HEALTH_STATUSES),
    credential: z.enum(CREDENTIAL_KINDS).optional().describe('Which credential the status is about'),
    expiresAt: Iso.optional().describe('When it stops working, where known'),
    daysLeft: z.number().int().optional().describe('Whole days left, rounded up (0 or less once expired)'),
    detail: z.string().describe('One English sentence: what and what to do'),
  })
  .describe(
    'The worst of the credentials: `failing` (the provider refused the grant, or for app-only, a service account and Graph the latest delivery: `invalid_grant`, `invalid_client`, `AADSTS…`), `expired`, `expiring` (within the warning days, 14 by default), `ok`',
  );

const PublicSmtpAuthSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('none') }),
  z.looseObject({
    type: z.literal('password'),
    username: z.string(),
    passwordSet: z.boolean(),
    passwordExpiresAt: z.string().optional().describe('When the password expires (ISO date), as entered'),
  }),
  z.looseObject({
    type: z.literal('oauth2'),
    provider: z.enum(OAUTH_PROVIDERS),
    clientId: z.string(),
    clientSecretSet: z.boolean(),
    flow: z.enum(['authorization-code', 'client-credentials', 'service-account']).optional(),
    serviceAccountKey: z
      .looseObject({
        clientEmail: z.string(),
        clientId: z.string().optional(),
        privateKeyId: z.string(),
        projectId: z.string().optional(),
        privateKeySet: z.boolean(),
      })
      .optional()
      .describe(
        'Flow `service-account`: what the JSON key says; the private key is never returned, only `privateKeySet`',
      ),
    clientCertificate: z
      .looseObject({
        certificatePem: z.string(),
        privateKeySet: z.boolean(),
        thumbprint: z.string().optional(),
      })
      .optional()
      .describe('App-only with a certificate: the private key is never returned, only `privateKeySet`'),
    clientSecretExpiresAt: z
      .string()
      .optional()
      .describe('When the client secret expires (ISO date), as entered: credential health warns ahead of it'),
  }),
]);

/** GET's answer and PUT's `config`: secrets replaced by `passwordSet` / `clientSecretSet`. */
export const PublicEmailConfigSchema = z.looseObject({
  clusterId: z.string(),
  sender: z.string(),
  transport: z.enum(['smtp', 'ses', 'graph']),
  smtp: z
    .looseObject({
      host: z.string(),
      port: z.number().int(),
      encryption: z.enum(SMTP_ENCRYPTIONS),
      verifyCertificate: z.boolean(),
      auth: PublicSmtpAuthSchema,
      allowInsecureAuth: z
        .boolean()
        .optional()
        .describe('Credentials may go over `encryption: "none"` (refused unless true)'),
      effectiveLimits: z.looseObject({}).describe('The relay limits delivery keeps to, and their source'),
    })
    .optional(),
  graph: z
    .looseObject({
      mailbox: z.string(),
      tenant: z.string(),
      clientId: z.string(),
      clientSecretSet: z.boolean(),
      clientSecretExpiresAt: z.string().optional(),
      clientCertificate: z
        .looseObject({
          certificatePem: z.string(),
          privateKeySet: z.boolean(),
          thumbprint: z.string().optional(),
        })
        .optional()
        .describe('The private key is never returned, only `privateKeySet`'),
      endpoint: z.string().describe('Microsoft Graph base URL (https://graph.microsoft.com by default)'),
      tokenEndpoint: z.string(),
      effectiveLimits: z
        .looseObject({ maxConnections: z.number().int(), messagesPerMinute: z.number().int() })
        .describe(
          'The per-mailbox limits sending keeps to (`graph.limits`, else 4 requests and 30 per minute)',
        ),
    })
    .optional()
    .describe(
      '`transport: "graph"`: Microsoft Graph sendMail with an app-only token; the client secret is never returned',
    ),
  adminContacts: z.array(z.string()),
  dailyNotice: z.boolean(),
  language: z.enum(['en', 'de']),
  repeatIntervalMinutes: z.number().int(),
  grouping: z.looseObject({ waitSeconds: z.number().int(), intervalMinutes: z.number().int() }),
  oauth: z
    .looseObject({ status: z.enum([...OAUTH_GRANT_STATUSES, 'app-only', 'service-account']) })
    .optional()
    .describe("For OAuth2 relays: the grant's status, never a token"),
  credentialHealth: CredentialHealthSchema.optional().describe(
    'GET only: how long the credentials still work; absent without credentials (SES, no authentication)',
  ),
  updatedAt: Iso,
  version: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'GET: the version this configuration is (0: stored before versions were kept); its `ETag` is `"v<version>"`',
    ),
});

/** 412: an `If-Match` that names another version than the current one; nothing was changed. */
export const PreconditionFailedBodySchema = z.looseObject({
  error: z.string(),
  clusterId: z.string(),
  ifMatch: z.string().describe('The `If-Match` the request sent'),
  current: z
    .looseObject({
      version: z.number().int().min(0),
      etag: z.string().describe('`"v<version>"`: send it as `If-Match` to overwrite this version'),
      savedAt: Iso.optional(),
      savedBy: z.string().optional(),
      restoredFrom: z.number().int().min(1).optional(),
      config: z.looseObject({}).describe('The current configuration as GET shows it'),
    })
    .nullable()
    .describe('The configuration that is current instead, and who saved it when; null when it was deleted'),
});

export const PutEmailConfigResultSchema = z.looseObject({
  config: PublicEmailConfigSchema,
  version: z.number().int().min(1).optional().describe('The version this save became'),
  testEmail: TestEmailResultSchema.optional().describe('With `sendTestEmail=true`'),
});

export const NotDeliveredBodySchema = z.looseObject({
  error: z.string(),
  testEmail: TestEmailResultSchema,
});

export const TestEmailSummaryBodySchema = z
  .looseObject({
    ok: z.boolean(),
    stage: z.string().optional(),
    message: z.string().optional(),
    at: Iso,
    of: z.looseObject({}).describe('`{ version }`, `{ unsaved: true }` or `{ stored: true }`'),
  })
  .describe('What is kept of a test email');

export const ConfigVersionsSchema = z.looseObject({
  clusterId: z.string(),
  currentVersion: z.number().int().min(1).optional(),
  lastTestEmail: TestEmailSummaryBodySchema.optional(),
  items: z.array(
    z.looseObject({
      version: z.number().int().min(1),
      savedAt: Iso,
      savedBy: z.string(),
      restoredFrom: z.number().int().min(1).optional(),
      config: PublicEmailConfigSchema.describe('Secrets shown as set or not set'),
      testEmail: TestEmailSummaryBodySchema.optional(),
    }),
  ),
});

export const RestoredConfigSchema = z.looseObject({
  config: PublicEmailConfigSchema,
  version: z.number().int().min(1),
  restoredFrom: z.number().int().min(1),
});

export const FleetOverviewSchema = z.looseObject({
  generatedAt: Iso,
  items: z.array(
    z.looseObject({
      clusterId: z.string(),
      health: z.enum(['failing', 'warning', 'ok']),
      problems: z.array(z.string()).describe('Why the cluster is not `ok`, in English, the worst first'),
      findings: z
        .array(
          z.looseObject({
            code: z.enum(HEALTH_FINDING_CODES),
            count: z.number().int().optional().describe('How many, for the codes that count'),
            stage: z.string().optional().describe('For `test-email-failed`: where the test email failed'),
          }),
        )
        .describe('The same findings as `problems`, in the same order, as codes a page can translate'),
      credentialHealth: CredentialHealthSchema.optional(),
    }),
  ),
});

export const DeliveryRecordSchema = z.looseObject({
  clusterId: z.string(),
  eventId: z.string(),
  condition: z.string().describe('Condition id, `daily-notice`, or `unknown`'),
  outcome: z.enum(OUTCOMES),
  reason: z.string().optional(),
  recipients: z.array(z.string()),
  messageId: z.string().optional(),
  at: Iso,
  receivedAt: Iso,
  eventTime: Iso,
  appliance: z.string().optional(),
  transient: z.boolean().optional(),
  title: z.string().optional().describe("The condition's title (English), for a condition of the catalog"),
  severity: z
    .enum(SEVERITIES)
    .optional()
    .describe("The condition's severity, for a condition of the catalog"),
});

export const DeliveriesSchema = z.looseObject({
  clusterId: z.string(),
  items: z
    .array(DeliveryRecordSchema)
    .describe('Newest arrival first; the same arrival: event id descending'),
  nextCursor: z
    .string()
    .optional()
    .describe('When more records may follow: pass it as `cursor` for the next page (opaque)'),
});

export const AuditEntrySchema = z.looseObject({
  id: z.string(),
  at: z.string().describe('When (ISO 8601)'),
  actor: z.string().describe("Who: the JWT's email or username, `admin-token`, or `admin-token:<tokenId>`"),
  action: z
    .string()
    .describe(
      'What: config.save, config.restore, config.delete, config.test-email, oauth.authorize.start, oauth.authorize.complete, delivery.replay, admin-token.create, admin-token.revoke, ...',
    ),
  clusterId: z.string(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export const AuditEntriesSchema = z.looseObject({
  clusterId: z.string(),
  items: z.array(AuditEntrySchema).describe('Newest first'),
  nextCursor: z
    .string()
    .optional()
    .describe('When older entries may follow: pass it as `cursor` for the next page (opaque)'),
});

export const ReplayResultSchema = z.looseObject({
  eventId: z.string(),
  ok: z.boolean().describe('Whether the event went through (not `failed` or `rejected`)'),
  outcome: z
    .string()
    .describe(
      "`failed` (again: for good, or for now and retried) or notify's outcome (sent, duplicate, folded, ...)",
    ),
  error: z.string().optional().describe('Why it is not ok'),
  record: DeliveryRecordSchema.optional().describe("The event's record after the replay, as GET shows it"),
});

export const ReplayQueuedSchema = z.looseObject({
  eventId: z.string(),
  ok: z.literal(false),
  outcome: z.literal('queued'),
  status: z.string().describe('What it waits for; poll `GET .../deliveries/{eventId}` for the outcome'),
});

const LocalizedText = z.looseObject({ en: z.string(), de: z.string() });

export const ConditionsSchema = z.looseObject({
  items: z.array(
    z.looseObject({
      id: z.string(),
      source: z.string(),
      detailType: z.string(),
      severity: z.enum(SEVERITIES),
      title: LocalizedText,
      description: LocalizedText,
      checks: z.looseObject({ en: z.array(z.string()), de: z.array(z.string()) }),
      supersedes: z.array(z.looseObject({ condition: z.string(), scope: z.string(), why: z.string() })),
    }),
  ),
});

export const AuthorizationStartSchema = z.looseObject({
  url: z.string().describe("The provider's authorization URL"),
  redirectUri: z.string(),
  expiresAt: Iso,
});

/** The OpenAPI document itself (GET /openapi.json): only its top level is described. */
export const OpenApiDocumentSchema = z.looseObject({ openapi: z.string(), info: z.looseObject({}) });
