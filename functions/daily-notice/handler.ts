// Lambda entry of the daily notice (EventBridge Scheduler target).
import '../shared/zod-jitless.js';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { awsAdapters } from '../adapters/aws/aws-adapters.js';
import { buildServices } from '../composition.js';
import { parseEnv } from '../shared/env.js';
import { createMetrics } from '../shared/metrics.js';
import { serviceSettingsOf } from '../shared/service-env.js';
import { createTracer } from '../shared/tracer.js';
import { createDailyNoticeHandler } from './app.js';
import { DailyNoticeEnvSchema } from './env.js';

const env = parseEnv(DailyNoticeEnvSchema, process.env, 'daily-notice');
// Of the settings, the daily notice has only the egress mode (for the diagnostics' hints).
const tracer = createTracer({ serviceName: env.POWERTOOLS_SERVICE_NAME });
const services = buildServices(awsAdapters(env, { tracer }), serviceSettingsOf(env));

export const handler = createDailyNoticeHandler({
  service: services.dailyNotice,
  log: services.log,
  metrics: createMetrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME,
  }),
}).use(captureLambdaHandler(tracer, { captureResponse: false }));
