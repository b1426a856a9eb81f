import * as z from 'zod';
import type { ServiceSettings } from '../composition.js';
import { parseAllowedRelayCidrs, parseAllowedRelayHosts } from '../core/mail/relay-address-policy.js';
import { DEFAULT_LEASE_MS } from '../core/notify/notify-service.js';

// Environment shared by the functions that read configuration, send mail and keep the
// delivery log. Each function's schema spreads what it uses; lib/ types the construct's
// `environment` from the same schemas.

export const ConfigStoreEnvShape = {
  CONFIG_PARAMETER_PREFIX: z
    .string()
    .regex(/^(\/[A-Za-z0-9_.-]+)+$/, 'must be an SSM path like /appliance-notifier/clusters'),
  CONFIG_KMS_KEY_ID: z.string().min(1, 'must name the KMS key that encrypts the SecureString parameters'),
  CONFIG_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
};

export const MailEnvShape = {
  SES_CONFIGURATION_SET: z.string().min(1).optional(),
};

export const LedgerEnvShape = {
  LEDGER_TABLE_NAME: z.string().min(3, 'must name the DynamoDB table of the delivery log'),
};

export const LoggingEnvShape = {
  POWERTOOLS_SERVICE_NAME: z.string().default('appliance-notifier'),
  POWERTOOLS_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
};

export const MetricsEnvShape = {
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).default('ApplianceNotifier'),
};

/** The notify function's setting, by the same name in AWS and in the embedded runtime. */
export const EventLeaseEnvShape = {
  /** Longer than the notify function's timeout, so a slow send is never duplicated by a redelivery. */
  EVENT_LEASE_SECONDS: z.coerce
    .number()
    .int()
    .min(30)
    .max(3600)
    .default(DEFAULT_LEASE_MS / 1000),
};

/**
 * Days ahead of a credential's expiry that its health says `expiring` and the first warning email
 * goes out (`-c credentialWarningDays`, the same name in the embedded runtime); 14 when unset.
 */
export const CredentialWarningEnvShape = {
  CREDENTIAL_WARNING_DAYS: z.coerce
    .number({ error: 'must be a whole number of days between 1 and 90' })
    .int('must be a whole number of days between 1 and 90')
    .min(1, 'must be a whole number of days between 1 and 90')
    .max(90, 'must be a whole number of days between 1 and 90')
    .optional(),
};

/** The settings `buildServices` takes, from whichever of them a function's environment has. */
export function serviceSettingsOf(env: {
  EVENT_LEASE_SECONDS?: number;
  PUBLIC_BASE_URL?: string;
  EGRESS_MODE?: 'lambda' | 'vpc';
  CREDENTIAL_WARNING_DAYS?: number | undefined;
}): ServiceSettings {
  return {
    ...(env.EGRESS_MODE ? { egress: env.EGRESS_MODE } : {}),
    ...(env.CREDENTIAL_WARNING_DAYS !== undefined
      ? { credentialWarningDays: env.CREDENTIAL_WARNING_DAYS }
      : {}),
    ...(env.EVENT_LEASE_SECONDS !== undefined ? { eventLeaseMs: env.EVENT_LEASE_SECONDS * 1000 } : {}),
    ...(env.PUBLIC_BASE_URL ? { publicBaseUrl: env.PUBLIC_BASE_URL } : {}),
  };
}

/** The SQS queue every rule sends events to, which notify consumes. */
export const EventQueueEnvShape = {
  EVENT_QUEUE_URL: z.url({ protocol: /^https?$/, error: 'must be the URL of the SQS event queue' }),
};

/** Where browsers reach the API: the OAuth2 redirect URI and the admin page's address derive from it. */
export const PublicUrlEnvShape = {
  /** The API's public URL (`https://{api-id}.execute-api.{region}.amazonaws.com` or a custom domain). */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be the public http(s) URL of the API' }),
};

/**
 * How the function reaches relays (`-c egress=...`): `lambda` (Lambda's own network, where port
 * 25 is blocked for good) or `vpc` (a NAT gateway's Elastic IP, where AWS lifts the port 25
 * restriction on request). The stack always sets it; absent, the diagnostics stay neutral.
 */
export const EgressEnvShape = {
  EGRESS_MODE: z.enum(['lambda', 'vpc']).optional(),
};

/**
 * The private relays the deployment allows (`-c allowedRelayCidrs=...`, `-c allowedRelayHosts=...`),
 * comma-separated; without them, the functions connect to public relay addresses only.
 */
export const RelayAllowanceEnvShape = {
  RELAY_ALLOWED_CIDRS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const parsed = parseAllowedRelayCidrs(text);
      if ('cidrs' in parsed) return parsed.cidrs;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }),
  RELAY_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const parsed = parseAllowedRelayHosts(text);
      if ('hosts' in parsed) return parsed.hosts;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }),
};

/** Every function's common part: configuration, mail, the delivery log and logging. */
export const ServiceEnvShape = {
  ...ConfigStoreEnvShape,
  ...MailEnvShape,
  ...RelayAllowanceEnvShape,
  ...EgressEnvShape,
  ...LedgerEnvShape,
  ...LoggingEnvShape,
  ...CredentialWarningEnvShape,
};

/** The event-driven senders (notify, daily notice): the common part plus their metrics. */
export const SenderEnvShape = {
  ...ServiceEnvShape,
  ...MetricsEnvShape,
  /** The admin API's public URL: their emails link the cluster's admin page (no link without it). */
  PUBLIC_BASE_URL: PublicUrlEnvShape.PUBLIC_BASE_URL.optional(),
};
