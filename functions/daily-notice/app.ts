import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { DailyNoticeRun, DailyNoticeService } from '../core/daily-notice/daily-notice-service.js';
import { METRIC_NAMES } from '../shared/metrics.js';

export interface DailyNoticeHandlerDeps {
  service: DailyNoticeService;
  log: Logger;
  metrics?: Metrics;
}

/** Some clusters failed temporarily: the invocation fails so the schedule's retry policy runs it again. */
export class DailyNoticeRetryError extends Error {
  override readonly name = 'DailyNoticeRetryError';
  constructor(readonly run: DailyNoticeRun) {
    super(`temporary failure for cluster(s) ${run.retryable.join(', ')}`);
  }
}

/** The schedule's input is `{}`; `force: true` (an admin's "send now") sends even where today's notice went out. */
const DailyNoticeEventSchema = z.looseObject({ force: z.boolean().optional() });

/**
 * EventBridge Scheduler target. Sends every cluster's notice; when some failed temporarily the
 * invocation fails so the schedule's retry policy runs it again (clusters already served today
 * are not sent twice).
 */
export function createDailyNoticeHandler(deps: DailyNoticeHandlerDeps) {
  const handler = middy<unknown, DailyNoticeRun, Error, Context>()
    .use(injectLambdaContext(deps.log, { resetKeys: true }))
    .handler(async (event) => {
      const parsed = DailyNoticeEventSchema.safeParse(event ?? {});
      const run = await deps.service.run(parsed.success && parsed.data.force ? { force: true } : {});
      const sent = run.results.filter((r) => r.outcome === 'sent').length;
      const failed = run.results.filter((r) => r.outcome === 'failed').length;
      // Due: what this run had to send. Skipped clusters (notice off, no configuration) and
      // duplicates (today's notice already out) are not due; the DailyNoticeNotSent alarm needs
      // due > 0 before it can breach, so a stack without such a cluster never alarms.
      deps.metrics?.addMetric(METRIC_NAMES.dailyNoticeDue, MetricUnit.Count, sent + failed);
      deps.metrics?.addMetric(METRIC_NAMES.dailyNoticeSent, MetricUnit.Count, sent);
      deps.metrics?.addMetric(METRIC_NAMES.dailyNoticeFailed, MetricUnit.Count, failed);
      deps.metrics?.addMetric(METRIC_NAMES.dailyNoticeRetrying, MetricUnit.Count, run.retryable.length);
      if (run.retryable.length > 0) {
        throw new DailyNoticeRetryError(run);
      }
      return run;
    });
  if (deps.metrics) handler.use(logMetrics(deps.metrics));
  return handler;
}
