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

/**
 * Some clusters failed temporarily: the invocation fails (after every other cluster was served),
 * so that Lambda retries it. The message names the clusters.
 */
export class DailyNoticeRetryError extends Error {
  override readonly name = 'DailyNoticeRetryError';
  constructor(readonly run: DailyNoticeRun) {
    super(`temporary failure for cluster(s) ${run.retryable.join(', ')}`);
  }
}

/** The schedule's input is `{}`; `force: true` (an admin's "send now") sends even where today's notice went out. */
const DailyNoticeEventSchema = z.looseObject({ force: z.boolean().optional() });

/**
 * EventBridge Scheduler target, invoked asynchronously (through the function's `live` alias).
 * What retries what:
 * - The schedule's retry policy (and its dead-letter queue) covers only failing to invoke:
 *   Lambda throttling the Invoke call, a missing permission. Once Lambda accepted the event, the
 *   scheduler is done, whatever the run does.
 * - A run that fails (this handler rejects, or the function times out) is retried by Lambda's
 *   asynchronous invocation, twice (configureAsyncInvoke in lib/notifier-stack.ts), with the same
 *   event and request id; after the last attempt Lambda sends the event to the on-failure
 *   destination (the daily notice dead-letter queue, which alarms).
 * So this handler rejects when any cluster failed temporarily, after serving all the others;
 * the day's claim on each notice keeps a retry from sending a cluster's notice twice. A
 * permanent failure (a configuration the relay refuses) does not fail the run: a retry would
 * fail the same way; it is in the delivery log and in the DailyNoticeFailed metric.
 */
export function createDailyNoticeHandler(deps: DailyNoticeHandlerDeps) {
  const handler = middy<unknown, DailyNoticeRun, Error, Context>()
    .use(injectLambdaContext(deps.log, { resetKeys: true }))
    .handler(async (event, context) => {
      const parsed = DailyNoticeEventSchema.safeParse(event ?? {});
      const force = parsed.success && parsed.data.force === true;
      const run = await deps.service.run({
        ...(force ? { force, runId: context.awsRequestId } : {}),
        remainingMs: () => context.getRemainingTimeInMillis(),
      });
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
