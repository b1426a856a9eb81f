// Lambda entry of the daily notice (EventBridge Scheduler target).
import { awsConfigStore, awsLedger, awsMailers } from '../adapters/aws-composition.js';
import { DailyNoticeService } from '../core/daily-notice.js';
import { parseEnv } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';
import { createMetrics } from '../shared/metrics.js';
import { createDailyNoticeHandler } from './app.js';
import { DailyNoticeEnvSchema } from './env.js';

const env = parseEnv(DailyNoticeEnvSchema, process.env, 'daily-notice');
const log = createLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL });

export const handler = createDailyNoticeHandler({
  service: new DailyNoticeService({
    store: awsConfigStore(env),
    mailers: awsMailers(env),
    ledger: awsLedger(env),
    clock: () => new Date(),
    log,
  }),
  log,
  metrics: createMetrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME,
  }),
});
