// Lambda entry of the daily notice (EventBridge Scheduler target).
import { awsConfigStore, awsLedger, awsMailers } from '../adapters/aws-composition.js';
import { oauthTokenProvider } from '../adapters/oauth-composition.js';
import { DailyNoticeService } from '../core/daily-notice.js';
import { parseEnv } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';
import { createMetrics } from '../shared/metrics.js';
import { createDailyNoticeHandler } from './app.js';
import { DailyNoticeEnvSchema } from './env.js';

const env = parseEnv(DailyNoticeEnvSchema, process.env, 'daily-notice');
const log = createLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL });
const clock = () => new Date();
// One store instance for the service and the token provider, so the SSM cache sees rotated tokens.
const store = awsConfigStore(env);
const oauthTokens = oauthTokenProvider({ store, clock, log });

export const handler = createDailyNoticeHandler({
  service: new DailyNoticeService({
    store,
    mailers: awsMailers(env, { oauthTokens }),
    ledger: awsLedger(env),
    clock,
    log,
  }),
  log,
  metrics: createMetrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME,
  }),
});
