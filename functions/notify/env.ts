import { z } from 'zod';
import { EventLeaseEnvShape, SenderEnvShape } from '../shared/service-env.js';

/** The notify function's environment; lib/ types the construct's `environment` from it. */
export const NotifyEnvSchema = z.object({ ...SenderEnvShape, ...EventLeaseEnvShape });
export type NotifyEnv = z.output<typeof NotifyEnvSchema>;
