import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { DailyNoticeRun, DailyNoticeService } from '../core/daily-notice/daily-notice-service.js';
import { METRIC_NAMES } from '../shared/metrics.js';

export interface DailyNoticeHandlerDeps {
  service: DailyNoticeService;
  log: Logger;
  metrics?: Metrics;
}

export class DailyNoticeRetryError extends Error {
  override readonly name = 'DailyNoticeRetryError';
}

/**
 * EventBridge Scheduler target. Sends every cluster's notice; when some failed temporarily the
 * invocation fails so the schedule's retry policy runs it again (clusters already served today
 * are not sent twice).
 */
export function createDailyNoticeHandler(deps: DailyNoticeHandlerDeps) {
  const handler = middy<unknown, DailyNoticeRun, Error, Context>()
    .use(injectLambdaContext(deps.log, { resetKeys: true }))
    .handler(async () => {
      const run = await deps.service.run();
      const sent = run.results.filter((r) => r.outcome === 'sent').length;
      const failed = run.results.filter((r) => r.outcome === 'failed').length;
      deps.metrics?.addMetric(METRIC_NAMES.dailyNoticeSent, MetricUnit.Count, sent);
      deps.metrics?.addMetric(METRIC_NAMES.dailyNoticeFailed, MetricUnit.Count, failed);
      if (run.retryable.length > 0) {
        throw new DailyNoticeRetryError(`temporary failure for cluster(s) ${run.retryable.join(', ')}`);
      }
      return run;
    });
  if (deps.metrics) handler.use(logMetrics(deps.metrics));
  return handler;
}
