import { z } from 'zod';
import { SenderEnvShape } from '../shared/service-env.js';

/** The notify function's environment; lib/ types the construct's `environment` from it. */
export const NotifyEnvSchema = z.object({
  ...SenderEnvShape,
  /** Longer than the function timeout, so a slow send is never duplicated by a redelivery. */
  EVENT_LEASE_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
});
export type NotifyEnv = z.output<typeof NotifyEnvSchema>;
