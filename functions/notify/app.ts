import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { NotifyResult, NotifyService } from '../core/notify/notify-service.js';
import { METRIC_NAMES } from '../shared/metrics.js';

export interface NotifyHandlerDeps {
  service: NotifyService;
  log: Logger;
  metrics?: Metrics;
}

/**
 * EventBridge rule target. The event is passed through unparsed: the service validates it and
 * records a bad one as rejected instead of throwing, so EventBridge never retries a bad event.
 * A temporary failure throws, and the platform retries it (then the dead-letter queue).
 */
export function createNotifyHandler(deps: NotifyHandlerDeps) {
  const handler = middy<unknown, NotifyResult, Error, Context>()
    .use(injectLambdaContext(deps.log, { resetKeys: true }))
    .handler(async (event) => {
      const result = await deps.service.handle(event);
      deps.metrics?.addMetric(METRIC_NAMES.notification(result.outcome), MetricUnit.Count, 1);
      return result;
    });
  if (deps.metrics) handler.use(logMetrics(deps.metrics));
  return handler;
}
