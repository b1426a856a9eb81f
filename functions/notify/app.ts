import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { EventQueue } from '../core/notify/event-queue.js';
import {
  type NotifyResult,
  type NotifyService,
  RetryableNotifyError,
} from '../core/notify/notify-service.js';
import { retryDelaySeconds } from '../core/notify/retry-policy.js';
import { METRIC_NAMES } from '../shared/metrics.js';

/** What became of one record: its outcome, or the error that leaves it on the queue. */
export type NotifyRecordOutcome = { ok: true; result: NotifyResult } | { ok: false; error: Error };

export interface NotifyHandlerDeps {
  service: Pick<NotifyService, 'handle'>;
  log: Logger;
  metrics?: Metrics;
  /** Where a failed record is scheduled for its next attempt (SQS visibility in AWS). */
  queue: EventQueue;
  /**
   * Told each record's outcome by message id. The embedded runtime answers its HTTP callers
   * with it; a Lambda has no one to tell beyond the logs, the metrics and the delivery log.
   */
  onRecord?: (messageId: string, outcome: NotifyRecordOutcome) => void;
}

/** The body EventBridge wrote: the whole event as JSON. Anything else goes on as the raw text. */
function envelopeOf(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** SQS counts receives from 1; a record without a usable count is treated as the first attempt. */
function attemptOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

/**
 * When the event arrived: SQS's SentTimestamp (epoch ms), the same on every receive of the
 * message. Undefined when absent or unusable: the service takes its clock's time instead.
 */
function receivedAtOf(record: SQSRecord): Date | undefined {
  const sent = record.attributes?.SentTimestamp;
  if (typeof sent !== 'string' || !/^\d{1,15}$/.test(sent)) return undefined;
  return new Date(Number(sent));
}

/**
 * Consumer of the SQS event queue (event source mapping with ReportBatchItemFailures). Each
 * record's body is an EventBridge event, passed to the service unparsed: it validates it and
 * records a bad one as rejected instead of throwing, so a bad event is acknowledged and never
 * retried. A record that fails stays on the queue: its visibility is set to the retry delay
 * (the service's for a temporary failure, the retry policy's for anything unexpected, so a bug
 * or an unreadable store is retried with backoff instead of at once), and it is reported in
 * `batchItemFailures`. After its last attempt (RETRY_POLICY.maxAttempts, the queue's
 * maxReceiveCount) the service records it as given up and it is made visible at once: the
 * queue's next receive moves it to the DLQ, from where a redrive sends it back.
 */
export function createNotifyHandler(deps: NotifyHandlerDeps) {
  const { service, log, metrics, queue } = deps;

  const handleRecord = async (record: SQSRecord): Promise<NotifyResult> => {
    const attempt = attemptOf(record);
    try {
      const receivedAt = receivedAtOf(record);
      const result = await service.handle(envelopeOf(record.body), {
        attempt,
        ...(receivedAt ? { receivedAt } : {}),
      });
      metrics?.addMetric(METRIC_NAMES.notification(result.outcome), MetricUnit.Count, 1);
      deps.onRecord?.(record.messageId, { ok: true, result });
      return result;
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      const retryable = error instanceof RetryableNotifyError;
      const delaySeconds = retryable ? error.retryAfterSeconds : retryDelaySeconds(attempt);
      const context = { messageId: record.messageId, attempt, retryInSeconds: delaySeconds };
      if (retryable && error.deadLetter) {
        try {
          await queue.deadLetter(
            { receiptHandle: record.receiptHandle, messageId: record.messageId, body: record.body },
            error.message,
          );
          // Counted once it is in the dead-letter queue: a move that fails is tried (and would be
          // counted) again on the next attempt.
          metrics?.addMetric(METRIC_NAMES.notification('failed'), MetricUnit.Count, 1);
          log.error('Event given up after its last attempt; moved to the dead-letter queue', {
            ...context,
            eventId: error.result?.eventId,
            clusterId: error.result?.clusterId,
            reason: error.message,
          });
          // Done here: acknowledged, so the queue deletes it (the dead-letter queue has it now).
          const result = error.result ?? {
            eventId: '',
            clusterId: '',
            outcome: 'failed',
            reason: error.message,
          };
          deps.onRecord?.(record.messageId, { ok: true, result });
          return result;
        } catch (queueError) {
          // Stays on the queue: the next attempt gives up again and tries the move again.
          log.error('Could not move a given-up event to the dead-letter queue', {
            ...context,
            error: queueError as Error,
          });
        }
      } else if (retryable && error.wait) {
        // Waiting for its group email or a relay's limit: no failure, no retry. A relay's limit
        // is counted (RelayThrottled, on the dashboard): a relay that paces every event is a
        // relay whose limit is too low for the fleet.
        if (error.waitingFor === 'relay')
          metrics?.addMetric(METRIC_NAMES.relayThrottled, MetricUnit.Count, 1);
        log.debug('Event waits on the queue', { ...context, reason: error.message });
      } else {
        metrics?.addMetric(METRIC_NAMES.notificationRetried, MetricUnit.Count, 1);
        if (retryable) log.info('Event left on the queue for a later attempt', context);
        else log.error('Unexpected error handling an event; it stays on the queue', { ...context, error });
      }
      try {
        await queue.retryLater(record.receiptHandle, delaySeconds);
      } catch (queueError) {
        // The record still fails: it comes back after the queue's visibility timeout instead.
        log.error('Could not schedule the retry of an event', {
          messageId: record.messageId,
          error: queueError as Error,
        });
      }
      deps.onRecord?.(record.messageId, { ok: false, error });
      throw error;
    }
  };

  const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(deps.log, { resetKeys: true }))
    .handler((event, context) =>
      // A processor per invocation: its state (records, failures) lives on the instance, and the
      // embedded runtime invokes this handler concurrently in one process.
      processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
        context,
        // Every failed record already has its retry scheduled and its failure recorded; a batch
        // whose records all failed (a relay outage) is no function error, so it is answered the
        // same way rather than thrown.
        throwOnFullBatchFailure: false,
      }),
    );
  if (metrics) handler.use(logMetrics(metrics));
  return handler;
}
