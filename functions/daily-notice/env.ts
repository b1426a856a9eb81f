import { z } from 'zod';
import {
  ConfigStoreEnvShape,
  LedgerEnvShape,
  LoggingEnvShape,
  MailEnvShape,
  MetricsEnvShape,
} from '../shared/service-env.js';

/** The daily notice function's environment; lib/ types the construct's `environment` from it. */
export const DailyNoticeEnvSchema = z.object({
  ...ConfigStoreEnvShape,
  ...MailEnvShape,
  ...LedgerEnvShape,
  ...LoggingEnvShape,
  ...MetricsEnvShape,
});
export type DailyNoticeEnv = z.output<typeof DailyNoticeEnvSchema>;
