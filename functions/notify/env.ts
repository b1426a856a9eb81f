import * as z from 'zod';
import { EventLeaseEnvShape, EventQueueEnvShape, SenderEnvShape } from '../shared/service-env.js';

/** The notify function's environment; lib/ types the construct's `environment` from it. */
export const NotifyEnvSchema = z.object({
  ...SenderEnvShape,
  ...EventLeaseEnvShape,
  /** A temporarily failed event is made visible again on it later. */
  ...EventQueueEnvShape,
  /** Its dead-letter queue: notify moves an event there after the event's last failed attempt. */
  EVENT_DLQ_URL: z.url({
    protocol: /^https?$/,
    error: "must be the URL of the event queue's dead-letter queue",
  }),
});
export type NotifyEnv = z.output<typeof NotifyEnvSchema>;
