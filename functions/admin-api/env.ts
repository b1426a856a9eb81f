import { z } from 'zod';
import { ConfigStoreEnvShape, LedgerEnvShape, LoggingEnvShape, MailEnvShape } from '../shared/service-env.js';

/** The admin API function's environment; lib/ types the construct's `environment` from it. */
export const AdminApiEnvSchema = z.object({
  ...ConfigStoreEnvShape,
  ...MailEnvShape,
  ...LedgerEnvShape,
  ...LoggingEnvShape,
});
export type AdminApiEnv = z.output<typeof AdminApiEnvSchema>;
