// Lambda entry of the daily notice (EventBridge Scheduler target).
import { awsService } from '../adapters/aws/aws-adapters.js';
import { DailyNoticeService } from '../core/daily-notice/daily-notice-service.js';
import { parseEnv } from '../shared/env.js';
import { createMetrics } from '../shared/metrics.js';
import { createDailyNoticeHandler } from './app.js';
import { DailyNoticeEnvSchema } from './env.js';

const env = parseEnv(DailyNoticeEnvSchema, process.env, 'daily-notice');
const { log, ...deps } = awsService(env);

export const handler = createDailyNoticeHandler({
  service: new DailyNoticeService({ ...deps, log }),
  log,
  metrics: createMetrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME,
  }),
});
