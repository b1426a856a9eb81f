import { z } from 'zod';
import { SecretsKeyEnvShape } from '../functions/adapters/local/secret-box.js';
import { ADMIN_TOKEN_ADVICE, adminTokenProblem } from '../functions/shared/admin-token.js';
import { CredentialWarningEnvShape, EventLeaseEnvShape } from '../functions/shared/service-env.js';
import { LOCAL_CONSUMER_DEFAULTS } from './queue-consumer.js';

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

/** `npm start`'s environment: everything optional, embedded defaults for the rest. */
export const LocalEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./.data'),
  /** At least 32 characters with real entropy (functions/shared/admin-token.ts); default: generated. */
  ADMIN_TOKEN: z
    .string()
    .superRefine((token, ctx) => {
      const problem = adminTokenProblem(token);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem}; ${ADMIN_TOKEN_ADVICE}` });
    })
    .optional(),
  /** Send every message to the outbox folder, whatever the configuration says (dry run). */
  MAIL_OUTBOX: flag,
  /** A local SES endpoint (e.g. aws-ses-v2-local) for `transport: "ses"`; otherwise SES mail goes to the outbox. */
  SES_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().default('eu-west-1'),
  /**
   * The URL browsers reach this runtime at (default `http://localhost:<PORT>`); the OAuth
   * redirect URI is `<it>/login/smtp-verification/`.
   */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** When the daily notice goes out, `HH:MM` in UTC, or `off`. */
  DAILY_NOTICE_TIME: z
    .string()
    .regex(/^(([01]\d|2[0-3]):[0-5]\d|off)$/, 'must be HH:MM (UTC) or "off"')
    .default('08:00'),
  ...EventLeaseEnvShape,
  ...CredentialWarningEnvShape,
  ...SecretsKeyEnvShape,
  /** Notify invocations at once on the event queue (AWS: the event source mapping's maximum concurrency). */
  EVENT_CONSUMERS: z.coerce.number().int().min(1).max(32).default(LOCAL_CONSUMER_DEFAULTS.concurrency),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
});
export type LocalEnv = z.output<typeof LocalEnvSchema>;
