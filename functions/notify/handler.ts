// Lambda entry of the notify function (target of one EventBridge rule per condition).
import { awsService } from '../adapters/aws/aws-adapters.js';
import { NotifyService } from '../core/notify/notify-service.js';
import { parseEnv } from '../shared/env.js';
import { createMetrics } from '../shared/metrics.js';
import { createNotifyHandler } from './app.js';
import { NotifyEnvSchema } from './env.js';

const env = parseEnv(NotifyEnvSchema, process.env, 'notify');
const { log, ...deps } = awsService(env);

export const handler = createNotifyHandler({
  service: new NotifyService({ ...deps, log, leaseMs: env.EVENT_LEASE_SECONDS * 1000 }),
  log,
  metrics: createMetrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME,
  }),
});
