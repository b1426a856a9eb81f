// Lambda entry of the notify function (consumer of the SQS event queue that every EventBridge
// rule targets).
import '../shared/zod-jitless.js';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { awsAdapters, awsEventQueue } from '../adapters/aws/aws-adapters.js';
import { buildServices } from '../composition.js';
import { parseEnv } from '../shared/env.js';
import { createMetrics } from '../shared/metrics.js';
import { serviceSettingsOf } from '../shared/service-env.js';
import { createTracer } from '../shared/tracer.js';
import { createNotifyHandler } from './app.js';
import { NotifyEnvSchema } from './env.js';

const env = parseEnv(NotifyEnvSchema, process.env, 'notify');
const tracer = createTracer({ serviceName: env.POWERTOOLS_SERVICE_NAME });
const services = buildServices(awsAdapters(env, { tracer }), serviceSettingsOf(env));

export const handler = createNotifyHandler({
  service: services.notify,
  log: services.log,
  metrics: createMetrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME,
  }),
  queue: awsEventQueue(env, { tracer }),
}).use(captureLambdaHandler(tracer, { captureResponse: false }));
