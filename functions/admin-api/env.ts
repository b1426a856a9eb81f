import { z } from 'zod';
import { OAuthEnvShape } from '../adapters/oauth-composition.js';
import { ConfigStoreEnvShape, LedgerEnvShape, LoggingEnvShape, MailEnvShape } from '../shared/service-env.js';

/** The admin API function's environment; lib/ types the construct's `environment` from it. */
export const AdminApiEnvSchema = z.object({
  ...ConfigStoreEnvShape,
  ...MailEnvShape,
  ...LedgerEnvShape,
  ...LoggingEnvShape,
  ...OAuthEnvShape,
});
export type AdminApiEnv = z.output<typeof AdminApiEnvSchema>;
