import { z } from 'zod';

/** The admin API function's environment; lib/ types the construct's `environment` from it. */
export const AdminApiEnvSchema = z.object({
  CONFIG_PARAMETER_PREFIX: z
    .string()
    .regex(/^(\/[A-Za-z0-9_.-]+)+$/, 'must be an SSM path like /appliance-notifier/clusters'),
  CONFIG_KMS_KEY_ID: z.string().min(1, 'must name the KMS key that encrypts the SecureString parameters'),
  CONFIG_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  SES_CONFIGURATION_SET: z.string().min(1).optional(),
  POWERTOOLS_SERVICE_NAME: z.string().default('appliance-notifier'),
  POWERTOOLS_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
});
export type AdminApiEnv = z.output<typeof AdminApiEnvSchema>;
