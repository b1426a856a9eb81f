// Lambda entry of the notify function (target of one EventBridge rule per condition).
import { awsConfigStore, awsLedger, awsMailers } from '../adapters/aws-composition.js';
import { oauthTokenProvider } from '../adapters/oauth-composition.js';
import { NotifyService } from '../core/notify-service.js';
import { parseEnv } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';
import { createMetrics } from '../shared/metrics.js';
import { createNotifyHandler } from './app.js';
import { NotifyEnvSchema } from './env.js';

const env = parseEnv(NotifyEnvSchema, process.env, 'notify');
const log = createLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL });
const clock = () => new Date();
// One store instance for the service and the token provider, so the SSM cache sees rotated tokens.
const store = awsConfigStore(env);
const oauthTokens = oauthTokenProvider({ store, clock, log });

export const handler = createNotifyHandler({
  service: new NotifyService({
    store,
    mailers: awsMailers(env, { oauthTokens }),
    ledger: awsLedger(env),
    clock,
    log,
    leaseMs: env.EVENT_LEASE_SECONDS * 1000,
  }),
  log,
  metrics: createMetrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME,
  }),
});
